// Wires a process's provider health to the event bus: its breaker moves and its chains'
// fallbacks leave as events (providers/health/health-events.ts), published in the background
// straight on Kafka (not through the gated events chain, so a failing bus cannot feed its own
// fallback events), their free text redacted like every event's.
import { redactEventsText } from '../conversation/safety/event-redaction';
import type { EventBus } from '../providers/events/port';
import { BackgroundPublisher } from '../providers/health/background-publisher';
import { fallbackEventsIntervalFromEnv, HealthEvents } from '../providers/health/health-events';
import type { HealthPolicy } from '../providers/health/policy';
import type { ProviderHealth } from '../providers/health/provider-health';

export function publishHealthEvents(
  health: ProviderHealth,
  bus: EventBus,
  policy: HealthPolicy,
  log: (line: string) => void,
): { close(): Promise<void> } {
  const publisher = new BackgroundPublisher(bus, { prepare: redactEventsText, log });
  const events = new HealthEvents({
    policy,
    publisher,
    intervalMs: fallbackEventsIntervalFromEnv(),
  });
  health.observe(events);
  return {
    close: async () => {
      events.close();
      await publisher.flush();
      await publisher.close();
    },
  };
}
