// Pieces the data-plane end-to-end tests share: the call and post-call workers on a test
// server, publishing to a given bus, and a warehouse that also keeps what it was handed.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Answerer } from '../conversation/answers/answerer';
import type { AnyBusEvent } from '../contracts/events';
import type { EventBus } from '../providers/events/port';
import type { Warehouse } from '../providers/warehouse/port';
import { FakeObjectStore } from '../providers/object-store/fake';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import type { DuckDbWarehouse } from '../providers/warehouse/duckdb';
import { createCallWorker } from '../workers/call-worker-factory';
import { createPostCallWorker } from '../workers/post-call-worker-factory';
import { postgresTestDeps } from './calls';
import { workflowBundle } from './platform';

export interface RunningWorkers {
  workers: Worker[];
  /** Shuts both down and waits for them. */
  stop(): Promise<void>;
}

/** The call worker (PostgreSQL test deps) and the post-call worker (pocketsphinx), running. */
export async function startCallAndPostCallWorkers(
  env: TestWorkflowEnvironment,
  opts: { events: EventBus; answerer?: Answerer; taskQueue?: string },
): Promise<RunningWorkers> {
  const namespace = env.namespace ?? 'default';
  const bundle = await workflowBundle();
  const workers = [
    await createCallWorker({
      connection: env.nativeConnection,
      namespace,
      deps: await postgresTestDeps(),
      events: opts.events,
      workflowBundle: bundle,
      ...(opts.answerer && { answerer: opts.answerer }),
      ...(opts.taskQueue && { taskQueue: opts.taskQueue }),
    }),
    await createPostCallWorker({
      connection: env.nativeConnection,
      namespace,
      deps: {
        recordings: new FakeObjectStore(),
        stt: new PocketsphinxSpeechToText(),
        events: opts.events,
        log: () => undefined,
      },
      workflowBundle: bundle,
    }),
  ];
  const runs = workers.map((w) => w.run());
  return {
    workers,
    async stop() {
      workers.forEach((w) => w.shutdown());
      await Promise.all(runs);
    },
  };
}

/** `warehouse` as the loader sees it, keeping every event it loads in `seen`. */
export function tappedWarehouse(warehouse: DuckDbWarehouse): {
  warehouse: Warehouse;
  seen: AnyBusEvent[];
} {
  const seen: AnyBusEvent[] = [];
  return {
    seen,
    warehouse: {
      name: 'tap',
      load: async (events: AnyBusEvent[]) => {
        seen.push(...events);
        return warehouse.load(events);
      },
      count: warehouse.count.bind(warehouse),
      close: async () => undefined,
    },
  };
}
