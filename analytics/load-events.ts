// The warehouse loader: a consumer group on every event topic that loads the events into
// the warehouse a batch at a time. The bus commits a batch's offsets only after its load
// succeeded, and the warehouse skips ids it already holds, so a crash between the load and
// the commit, a redelivery or a retried publish never doubles a row; a restarted loader
// resumes from the group's committed offsets.
import { setTimeout as sleep } from 'node:timers/promises';
import { EVENT_TYPES } from '../providers/events/catalog';
import type { AnyBusEvent, EventType } from '../contracts/events';
import type { EventBus, EventSubscription } from '../providers/events/port';
import type { Warehouse } from '../providers/warehouse/port';
import type { Backlog } from './kafka-backlog';

export const WAREHOUSE_GROUP = 'switchboard-warehouse';

export interface LoaderOptions {
  bus: EventBus;
  warehouse: Warehouse;
  groupId?: string;
  /** Default: every type in the catalogue. */
  types?: readonly EventType[];
  /** Events per warehouse transaction at most (default: the bus's, 500). */
  maxBatch?: number;
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
  // One warehouse transaction and one offset commit per batch: per event, both round trips
  // capped the loader at ≈ 61 events/s.
  const load = async (events: AnyBusEvent[]): Promise<void> => {
    try {
      const { inserted } = await opts.warehouse.load(events);
      stats.handled += events.length;
      stats.inserted += inserted;
      stats.duplicates += events.length - inserted;
    } catch (err) {
      // Thrown on: the bus redelivers the batch later (its offsets stay uncommitted).
      const ids = `${events[0]!.id} … ${events.at(-1)!.id}`;
      log(`loading ${events.length} event(s) (${ids}) failed, they will be redelivered: ${(err as Error).message}`); // prettier-ignore
      throw err;
    }
  };
  const sub: EventSubscription = await opts.bus.subscribeBatches({
    groupId: opts.groupId ?? WAREHOUSE_GROUP,
    types: opts.types ?? EVENT_TYPES,
    handleBatch: load,
    ...(opts.maxBatch && { maxBatch: opts.maxBatch }),
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
  /** Including leaving the consumer group. */
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
