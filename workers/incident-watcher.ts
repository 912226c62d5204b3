// Runs the fleet's incident watcher in this process (the post-call worker): the alerting
// chain from env (ALERTS_CHAIN), thresholds from env (ALERTS_*), the breakers open now read
// from Redis, then the provider events from Kafka; and the calls' watcher, which opens an
// incident for a call retried more than ALERTS_CALL_RETRIES times. Every post-call worker
// runs both; only the lease holder of each sends (providers/alerts/).
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import {
  CallRetryWatcher,
  callRetriesFromEnv,
  watchCallRetries,
} from '../providers/alerts/call-retry-watcher';
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
  const alerting = alertingFromEnv(log, health.forFamily('alerts'));
  const watcher = new IncidentWatcher({
    alerting,
    ledger: new RedisIncidentLedger(redis),
    policy: incidentPolicyFromEnv(),
    log,
  });
  try {
    watcher.seed(await new RedisHealthStore(redis).all());
  } catch (err) {
    log(`alerts: breakers not read from Redis (${(err as Error).message}); events only`);
  }
  const groupId = `switchboard-incident-watcher-${hostname()}-${process.pid}`;
  const providers = await watchProviderEvents(watcher, bus, { groupId });
  const calls = await watchCallRetries(
    new CallRetryWatcher({
      alerting,
      ledger: new RedisIncidentLedger(redis, undefined, 'call-incidents'),
      maxRetries: callRetriesFromEnv(),
      log,
    }),
    bus,
    { groupId: `${groupId}-calls` },
  );
  return {
    close: async () => {
      await calls.close();
      await providers.close();
    },
  };
}
