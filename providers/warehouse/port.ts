// The warehouse family: events land in an analytics store, idempotent by event id: a raw
// table keyed by event id plus typed projections for reports, so the at-least-once bus never
// doubles a row.
import type { AnyBusEvent, EventType } from '../../contracts/events';

export interface WarehouseLoadResult {
  /** Events handed to load. */
  received: number;
  /** Events whose id was new (the rest were already loaded and left as they were). */
  inserted: number;
}

export interface Warehouse {
  readonly name: string;
  /**
   * Stores the events whose ids are not stored yet, in one transaction (all or none of the
   * batch); events already stored are skipped unchanged.
   */
  load(events: AnyBusEvent[]): Promise<WarehouseLoadResult>;
  /** Stored events, of one type or of all. */
  count(type?: EventType): Promise<number>;
  close(): Promise<void>;
}
