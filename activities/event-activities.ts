// Publishing the call's events (never awaited by a turn): one activity per batch, retried by
// Temporal with the same deterministic ids while the broker is away, so nothing is lost and
// consumers drop the repeats.
import { Context } from '@temporalio/activity';
import { redactEventsText } from '../conversation/safety/event-redaction';
import { asActivities } from './errors';
import type { EventDraft } from '../contracts/events';
import type { EventBus } from '../providers/events/port';

export function createEventActivities(bus: EventBus) {
  return asActivities({
    async publishEvents(drafts: EventDraft[]): Promise<number> {
      // A publish may wait minutes for a broker that is away: heartbeats tell Temporal this
      // worker is alive, so a crashed one's batch is retried elsewhere within seconds.
      const beat = setInterval(() => Context.current().heartbeat(), 2_000);
      try {
        // Lines are redacted at the edge already; events leave the system, so their free
        // text once more (never their ids: a redacted call_id fails the schema).
        return (await bus.publish(redactEventsText(drafts))).length;
      } finally {
        clearInterval(beat);
      }
    },
  });
}

export type EventActivities = ReturnType<typeof createEventActivities>;
