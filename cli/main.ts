// The `switchboard` command line: ./switchboard --help
import path from 'node:path';
import { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { registerInfraCommands } from '../infra/cli';
import { temporalNamespace, temporalUiUrl } from '../infra';
import { repoRoot } from '../infra/paths';
import { placeTextCall, type TextCallReport } from '../simulator/text-call';
import { localEnv } from './dev-env';
import { startSystem } from './system';
import { runTests } from './test-runner';

const program = new Command('switchboard').description(
  'AI agent for inbound customer-service calls, on Temporal',
);
registerInfraCommands(program);

function fail(err: unknown): never {
  console.error(`[switchboard] error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

function uiLink(report: TextCallReport): string {
  return `${temporalUiUrl()}/namespaces/${temporalNamespace()}/workflows/${report.workflowId}/${report.runId}/history`;
}

async function call(lines: string[], from: string): Promise<TextCallReport> {
  const env = localEnv();
  const edgeUrl = env.EDGE_PUBLIC_URL!;
  if (
    !(await fetch(`${edgeUrl}/healthz`)
      .then((r) => r.ok)
      .catch(() => false))
  )
    throw new Error(
      `no media-edge answers at ${edgeUrl}: start the system first (./switchboard start)`,
    );
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  try {
    const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE! });
    console.log(`[call] ${from} calls in, saying: ${lines.map((l) => `"${l}"`).join(', ')}`);
    const report = await placeTextCall({
      client,
      edgeUrl,
      publicUrl: env.EDGE_PUBLIC_URL!,
      authToken: env.TWILIO_AUTH_TOKEN!,
      from,
      to: '+15550009999',
      lines,
    });
    const { disposition, turns, callLogId } = report.result;
    console.log(`[call] ended: ${disposition} after ${turns} turns, CRM call log #${callLogId}`);
    console.log(`[call] Web UI: ${uiLink(report)}`);
    return report;
  } finally {
    await connection.close();
  }
}

const collect = (v: string, acc: string[]) => [...acc, v];

program
  .command('start')
  .description('start the platform, the call worker and the media-edge; Ctrl-C stops them')
  .action(async () => {
    const system = await startSystem().catch(fail);
    console.log(
      '[switchboard] running. Place a call with: ./switchboard call --say "what\'s my balance" --say goodbye',
    );
    const stop = async () => {
      await system.stop();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('call')
  .description('place a simulated call through the real webhook and print the conversation')
  .option('--say <text>', 'a caller line (repeatable, in order)', collect, [])
  .option(
    '--from <number>',
    'caller number (demo customers: +15550100001 … +15550100005)',
    '+15550100001',
  )
  .action(async (o: { say: string[]; from: string }) => {
    if (!o.say.length) fail('give at least one --say "<what the caller says>"');
    await call(o.say, o.from).catch(fail);
  });

program
  .command('demo')
  .description(
    'start everything, place demonstration calls end to end, stop the app (the platform stays up)',
  )
  .action(async () => {
    const system = await startSystem().catch(fail);
    try {
      console.log('\n[demo] 1. a balance question');
      await call(["what's my balance", 'goodbye'], '+15550100001');
      console.log('\n[demo] 2. paying a bill, with confirmation');
      await call(['I want to pay my bill', 'yes', 'goodbye'], '+15550100002');
      console.log('\n[demo] 3. an unclear request, then an agent');
      await call(['uh', 'can I talk to a real person'], '+15550100004');
    } catch (err) {
      await system.stop();
      fail(err);
    }
    await system.stop();
    console.log(
      `\n[demo] done. Browse the calls in the Temporal Web UI: ${temporalUiUrl()}/namespaces/${temporalNamespace()}/workflows`,
    );
  });

program
  .command('bench')
  .description('per-turn orchestration overhead through Temporal vs. in-process (p50/p95/p99)')
  .option('--calls <n>', 'concurrent calls (default: both scenarios below)')
  .option('--turns <n>', 'turns per call')
  .option('--think <ms>', 'pause between a reply and the next utterance', '0')
  .action(async (o: { calls?: string; turns?: string; think: string }) => {
    const { runOrchestrationBench } = await import('../bench/orchestration');
    const scenarios = o.calls
      ? [
          {
            name: 'custom',
            calls: Number(o.calls),
            turnsPerCall: Number(o.turns ?? 60),
            thinkMs: Number(o.think),
          },
        ]
      : [
          // Callers listen to the reply before they speak again: a busy line's real pace.
          { name: 'paced', calls: 20, turnsPerCall: 25, thinkMs: 1000 },
          // Every caller answers instantly: the latency when the machine is saturated.
          { name: 'saturated', calls: 10, turnsPerCall: 60, thinkMs: 0 },
        ];
    for (const { name, ...opts } of scenarios) {
      console.log(`\n[bench] scenario "${name}"`);
      await runOrchestrationBench({
        ...opts,
        out: path.join(repoRoot, 'bench', 'results', name),
      }).catch(fail);
    }
  });

program
  .command('test')
  .description(
    'install and start what the tests need, run the whole suite, print "N passed, N failed"',
  )
  .argument('[mocha-args...]', 'extra mocha arguments, e.g. --grep replay')
  .action(async (args: string[]) => {
    process.exitCode = await runTests(args).catch(fail);
  });

program.parseAsync().catch(fail);
