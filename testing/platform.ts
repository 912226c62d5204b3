// The real platform the tests run on, created once per mocha run and torn down at the
// end (hooks.ts): a Temporal dev server from the installed CLI, the bundled workflow
// code, and the test database on the local PostgreSQL that `switchboard infra up` runs.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Pool } from 'pg';
import { databaseUrl, ensureTemporalBinaries, loadTemporalConfig } from '../infra';
import { createEphemeralDevServer } from '../infra/ephemeral-server';
import { ensureRunPayloadKeys, historyDataConverter } from '../infra/payload-codec';
import { seed, migrate } from '../providers/postgres/schema';
import { workflowsPath } from '../workers/workflow-code';
import { quietBundleLogger } from '../workers/logging';

/** Small, so a test call of a dozen turns continues-as-new (every test runs with it). */
export const TEST_SUGGEST_CONTINUE_AS_NEW = 80;

// Tests and benchmarks encrypt history as production does.
ensureRunPayloadKeys();

let local: Promise<TestWorkflowEnvironment> | undefined;
let timeSkipping: Promise<TestWorkflowEnvironment> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
let pool: Pool | undefined;

export function localEnv(): Promise<TestWorkflowEnvironment> {
  local ??= createEphemeralDevServer({
    'limit.historyCount.suggestContinueAsNew': TEST_SUGGEST_CONTINUE_AS_NEW,
  });
  return local;
}

export function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  timeSkipping ??= freshTimeSkippingEnv();
  return timeSkipping;
}

/**
 * A time-skipping server of one's own (tear it down after). Each silence test takes one:
 * after a call that ran its post-call workflow, the Java test server was seen to stop
 * skipping time for the next call on it (cause not found; a fresh server does not).
 */
export function freshTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return (async () => {
    const { testServer } = await ensureTemporalBinaries();
    const env = await TestWorkflowEnvironment.createTimeSkipping({
      client: { dataConverter: historyDataConverter() },
      server: { executable: { type: 'existing-path', path: testServer } },
    });
    // The Java test server takes no start flags: register temporal.yaml's attributes by API.
    const types = { Keyword: 2, Int: 3, Bool: 5, KeywordList: 7 } as Record<string, number>;
    const searchAttributes = Object.fromEntries(
      Object.entries(loadTemporalConfig().searchAttributes).map(([name, type]) => [
        name,
        types[type] ?? 2,
      ]),
    );
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes,
    });
    return env;
  })();
}

export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: quietBundleLogger });
  return bundle;
}

/** The test database, migrated; call resetDb() for the demo customers in a known state. */
export async function testDb(): Promise<Pool> {
  if (!pool) {
    pool = new Pool({ connectionString: databaseUrl('switchboard_test'), max: 10 });
    await migrate(pool);
  }
  return pool;
}

export async function resetDb(): Promise<Pool> {
  const db = await testDb();
  await db.query(
    'TRUNCATE call_logs, payments, invoices, customers, payment_reservations, gateway_charges, gateway_refunds',
  );
  await seed(db);
  return db;
}

/**
 * Ends every workflow still running on the shared dev server and names them. Run after each
 * test file: its workers are gone, and a later file's workers poll the same task queues, so
 * a leftover (a post-call workflow retrying a text, a callback) would otherwise run there,
 * against another file's stand-ins, and be counted by its tests.
 */
export async function endLeftoverWorkflows(): Promise<string[]> {
  const env = await local?.catch(() => undefined);
  if (!env) return [];
  const ended: string[] = [];
  for await (const w of env.client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
    await env.client.workflow
      .getHandle(w.workflowId, w.runId)
      .terminate('left running by a finished test file')
      .then(() => ended.push(`${w.type} ${w.workflowId}`))
      .catch(() => undefined); // ended meanwhile
  }
  return ended;
}

export async function teardownPlatform(): Promise<void> {
  const envs = [local, timeSkipping];
  local = timeSkipping = undefined;
  await Promise.all(envs.map(async (e) => (await e?.catch(() => undefined))?.teardown()));
  await pool?.end();
  pool = undefined;
}
