// Runs the fleet's incident watcher in this process (the post-call worker): the alerting
// chain from env (ALERTS_CHAIN), thresholds from env (ALERTS_*), the breakers open now read
// from Redis, then the provider events from Kafka. Every post-call worker runs one; only the
// lease holder sends (providers/alerts/incident-watcher.ts).
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { alertingFromEnv } from '../providers/alerts/config';
import {
  IncidentWatcher,
  incidentPolicyFromEnv,
  RedisIncidentLedger,
  watchProviderEvents,
} from '../providers/alerts/incident-watcher';
import type { EventBus } from '../providers/events/port';
import type { ProviderHealth } from '../providers/health/provider-health';
import { RedisHealthStore } from '../providers/health/redis-store';

export async function runIncidentWatcher(
  bus: EventBus,
  redis: Redis,
  health: ProviderHealth,
  log: (line: string) => void,
): Promise<{ close(): Promise<void> }> {
  const watcher = new IncidentWatcher({
    alerting: alertingFromEnv(log, health.forFamily('alerts')),
    ledger: new RedisIncidentLedger(redis),
    policy: incidentPolicyFromEnv(),
    log,
  });
  try {
    watcher.seed(await new RedisHealthStore(redis).all());
  } catch (err) {
    log(`alerts: breakers not read from Redis (${(err as Error).message}); events only`);
  }
  return watchProviderEvents(watcher, bus, {
    groupId: `switchboard-incident-watcher-${hostname()}-${process.pid}`,
  });
}
