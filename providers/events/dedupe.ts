// Consumers see an event more than once: a publish retried after a lost acknowledgement, a
// redelivery after a consumer crashed before committing. Ids are deterministic, so a repeat
// has the id of the first; `dedupeById` runs each id's handler once.
//
// An id is recorded only after its handler succeeded: a failed handler runs again on the
// redelivery. A consumer that writes to a database should record the id in the same
// transaction as its write (or write with a unique key / MERGE on the id) so a crash between
// the two cannot repeat the write; then pass that table as the SeenEvents.
import type { AnyBusEvent, EventType } from '../../contracts/events';
import type { Delivery, EventHandlers } from './port';

export interface SeenEvents {
  has(id: string): boolean | Promise<boolean>;
  add(id: string): void | Promise<void>;
}

/** In-process memory of the last `capacity` ids (oldest forgotten first). */
export class BoundedSeenEvents implements SeenEvents {
  private readonly ids = new Set<string>();

  constructor(readonly capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`capacity must be a positive integer, not ${capacity}`);
    }
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}

type AnyHandler = (event: AnyBusEvent, delivery: Delivery) => Promise<void>;

/** The same handlers, each running at most once per event id (see the note above). */
export function dedupeById(
  handlers: EventHandlers,
  seen: SeenEvents = new BoundedSeenEvents(),
  onDuplicate?: (event: AnyBusEvent, delivery: Delivery) => void,
): EventHandlers {
  const wrapped: Partial<Record<EventType, AnyHandler>> = {};
  for (const [type, handler] of Object.entries(handlers) as [EventType, AnyHandler][]) {
    if (!handler) continue;
    wrapped[type] = async (event, delivery) => {
      if (await seen.has(event.id)) {
        onDuplicate?.(event, delivery);
        return;
      }
      await handler(event, delivery);
      await seen.add(event.id);
    };
  }
  return wrapped;
}
