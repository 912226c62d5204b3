// `switchboard infra up|down|status` and `switchboard temporal setup`; cli/main.ts mounts them.
import type { Command } from 'commander';
import { applyTemporalConfig, infraDown, infraStatus, infraUp, loadTemporalConfig } from './index';

// Infra failures are expected conditions (port taken, install failed): print the message,
// not a stack trace, and exit non-zero.
function action<A extends unknown[]>(fn: (...args: A) => Promise<unknown>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      console.error(`[infra] error: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  };
}

export function registerInfraCommands(program: Command): void {
  const infra = program
    .command('infra')
    .description(
      'the local platform: Temporal dev server + Web UI, PostgreSQL, Redis, S3 object store, Kafka',
    );
  infra
    .command('up')
    .description('install what is missing, start what is not running (127.0.0.1 only)')
    .option('-q, --quiet', 'no progress lines')
    .action(action((o: { quiet?: boolean }) => infraUp({ quiet: o.quiet })));
  infra
    .command('down')
    .description('stop the services `infra up` started')
    .action(action(() => infraDown()));
  infra
    .command('status')
    .description('what runs where')
    .action(action(() => infraStatus()));

  const temporal = program.command('temporal').description('Temporal cluster setup');
  temporal
    .command('setup')
    .description('create the namespace and search attributes of temporal.yaml on a cluster')
    .requiredOption('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'namespace (default: the one in temporal.yaml)')
    .option('--config <file>', 'path of temporal.yaml')
    .option('--tls', 'connect with TLS')
    .option('--api-key <key>', 'API key (implies --tls; default: env TEMPORAL_API_KEY)')
    .action(
      action(
        async (o: {
          address: string;
          namespace?: string;
          config?: string;
          tls?: boolean;
          apiKey?: string;
        }) => {
          const r = await applyTemporalConfig(o.address, {
            namespace: o.namespace,
            config: o.config ? loadTemporalConfig(o.config) : undefined,
            tls: o.tls,
            apiKey: o.apiKey ?? process.env.TEMPORAL_API_KEY,
          });
          const changed =
            r.namespaceCreated || r.retentionUpdated || r.searchAttributesAdded.length;
          console.log(
            `[infra] namespace ${r.namespace} on ${o.address} is set up${changed ? '' : ' (no change)'}`,
          );
        },
      ),
    );
}
