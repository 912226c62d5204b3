// A throwaway Temporal dev server (in-memory, random port) with temporal.yaml's namespace,
// search attributes and dynamic config, for tests and the benchmark.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTemporalBinaries } from './index';
import { ensureRunPayloadKeys, historyDataConverter } from './payload-codec';
import { devServerFlags, loadTemporalConfig, type TemporalConfig } from './temporal-config';

export async function createEphemeralDevServer(
  dynamicConfigOverrides: TemporalConfig['devServer']['dynamicConfig'] = {},
): Promise<TestWorkflowEnvironment> {
  ensureRunPayloadKeys();
  const { temporal } = await ensureTemporalBinaries();
  const cfg = loadTemporalConfig();
  const dynamicConfig = { ...cfg.devServer.dynamicConfig, ...dynamicConfigOverrides };
  const flags = devServerFlags({ ...cfg, devServer: { ...cfg.devServer, dynamicConfig } });
  return TestWorkflowEnvironment.createLocal({
    client: { dataConverter: historyDataConverter() },
    server: {
      executable: { type: 'existing-path', path: temporal },
      namespace: cfg.namespace,
      // createLocal passes the namespace itself.
      extraArgs: flags.filter((f, i, all) => f !== '--namespace' && all[i - 1] !== '--namespace'),
    },
  });
}
