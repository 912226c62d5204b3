// Publishing the call's events (DESIGN.md §2, issue 5): one activity per batch, retried by
// Temporal with the same deterministic ids while the broker is away, so nothing is lost and
// consumers drop the repeats.
import { eventFailure } from './events';
import type { EventBus, EventDraft } from './ports';
import { redactDeep } from './safety/redact';

export function createEventActivities(bus: EventBus) {
  return {
    async publishEvents(drafts: EventDraft[]): Promise<number> {
      try {
        // Lines are redacted at the edge already; events leave the system, so once more.
        return (await bus.publish(redactDeep(drafts))).length;
      } catch (err) {
        throw eventFailure(err);
      }
    },
  };
}

export type EventActivities = ReturnType<typeof createEventActivities>;
