// The warehouse loader: a consumer group on every event topic that loads each event into
// the warehouse. The bus commits an event's offset only after its handler (the load)
// succeeded, and the warehouse skips ids it already holds, so a crash between the load and
// the commit, a redelivery or a retried publish never doubles a row; a restarted loader
// resumes from the group's committed offsets.
import { setTimeout as sleep } from 'node:timers/promises';
import { EVENT_TYPES } from '../events/catalog';
import type {
  AnyBusEvent,
  EventBus,
  EventHandlers,
  EventSubscription,
  EventType,
  Warehouse,
} from '../ports';
import type { Backlog } from './kafka-backlog';

export const WAREHOUSE_GROUP = 'switchboard-warehouse';

export interface LoaderOptions {
  bus: EventBus;
  warehouse: Warehouse;
  groupId?: string;
  /** Default: every type in the catalogue. */
  types?: readonly EventType[];
  log?: (line: string) => void;
}

export interface LoaderStats {
  /** Events handed to the warehouse. */
  handled: number;
  /** Of those, new to the warehouse. */
  inserted: number;
  /** Of those, already there (a redelivery or a repeated publish). */
  duplicates: number;
  /** Messages that were not valid events (dead-lettered by the bus, not loaded). */
  invalid: number;
}

export interface RunningLoader {
  readonly stats: LoaderStats;
  close(): Promise<void>;
}

export async function startEventLoader(opts: LoaderOptions): Promise<RunningLoader> {
  const stats: LoaderStats = { handled: 0, inserted: 0, duplicates: 0, invalid: 0 };
  const log = opts.log ?? (() => {});
  const load = async (event: AnyBusEvent): Promise<void> => {
    try {
      const { inserted } = await opts.warehouse.load([event]);
      stats.handled++;
      stats.inserted += inserted;
      stats.duplicates += 1 - inserted;
    } catch (err) {
      // Thrown on: the bus redelivers this event later (its offset stays uncommitted).
      log(`loading ${event.id} failed, it will be redelivered: ${(err as Error).message}`);
      throw err;
    }
  };
  const types = opts.types ?? EVENT_TYPES;
  const handlers = Object.fromEntries(types.map((t) => [t, load])) as EventHandlers;
  const sub: EventSubscription = await opts.bus.subscribe({
    groupId: opts.groupId ?? WAREHOUSE_GROUP,
    handlers,
    fromBeginning: true,
    onInvalid: () => void stats.invalid++,
  });
  return { stats, close: () => sub.close() };
}

export interface DrainOptions extends LoaderOptions {
  backlog: Backlog;
  /** Give up (with an error) when the backlog has not moved for this long. */
  stallTimeoutMs?: number;
  pollMs?: number;
}

export interface DrainStats extends LoaderStats {
  /** From start to the last commit. */
  loadMs: number;
  /** Including leaving the consumer group (kafkajs waits for its pending fetch). */
  ms: number;
}

/** Loads what is on the topics now, then stops (`switchboard warehouse load --once`). */
export async function drainEvents(opts: DrainOptions): Promise<DrainStats> {
  const started = performance.now();
  const mark = await opts.backlog.mark();
  const loader = await startEventLoader(opts);
  let loadMs = 0;
  try {
    let left = await opts.backlog.remaining(mark);
    let movedAt = Date.now();
    while (left > 0) {
      await sleep(opts.pollMs ?? 100);
      const now = await opts.backlog.remaining(mark);
      if (now < left) movedAt = Date.now();
      left = now;
      if (left > 0 && Date.now() - movedAt > (opts.stallTimeoutMs ?? 120_000)) {
        throw new Error(
          `the warehouse loader is stuck with ${left} event(s) left ` +
            `(${loader.stats.handled} loaded): see the messages above`,
        );
      }
    }
    loadMs = performance.now() - started;
  } finally {
    await loader.close();
  }
  return { ...loader.stats, loadMs, ms: performance.now() - started };
}
