// Incidents end to end on real Redis and real Kafka: two processes' provider health publish
// their moves and fallbacks, two incident watchers (as two post-call workers would) read
// them, and the alert stand-in receives exactly one trigger per incident and one resolve
// after recovery — for a breaker open too long (PagerDuty Events v2) and for too many
// fallbacks (Alertmanager API v2).
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { AlertmanagerAlerting } from '../../providers/alerts/alertmanager';
import {
  dedupKeyOf,
  IncidentWatcher,
  RedisIncidentLedger,
  watchProviderEvents,
  type IncidentPolicy,
} from '../../providers/alerts/incident-watcher';
import { PagerDutyAlerting } from '../../providers/alerts/pagerduty';
import type { Alerting } from '../../providers/alerts/port';
import { redisCacheClient } from '../../providers/cache/redis';
import { KafkaEventBus } from '../../providers/events/kafka';
import { BackgroundPublisher } from '../../providers/health/background-publisher';
import { HealthEvents } from '../../providers/health/health-events';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from '../../providers/health/policy';
import { ProviderHealth, sharedProviderHealth } from '../../providers/health/provider-health';
import { FakeTextToSpeech } from '../../providers/tts/fake';
import { FallbackTextToSpeech } from '../../providers/tts/fallback';
import { infraUp, kafkaBrokers, redisUrl } from '../../infra';
import { deleteTopicsWithPrefix } from '../../testing/kafka-admin';
import { AlertmanagerStandIn, PagerDutyStandIn } from '../helpers/alert-vendors';
import { failedAttempt } from '../../testing/degraded';

const RUN = `inc${process.pid}${Date.now().toString(36)}`;
const PREFIX = `test-${RUN}.`;
const policy: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, openMs: 3_000, probeMs: 1_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failed = (provider: string) => failedAttempt(provider, 'timeout', 'timeout after 2000 ms');

async function until(ms: number, what: string, check: () => boolean): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

describe('incident watcher: provider events → one incident per outage', function () {
  this.timeout(180_000);
  let bus: KafkaEventBus;
  let redis: Redis;
  const pagerDuty = new PagerDutyStandIn();
  const alertmanager = new AlertmanagerStandIn();
  const closers: (() => Promise<void>)[] = [];

  /** A process: provider health shared through Redis, publishing to Kafka. */
  const app = () => {
    const out = new BackgroundPublisher(bus, { retryMs: 200 });
    const events = new HealthEvents({ policy, publisher: out, intervalMs: 60_000 });
    const health = sharedProviderHealth(redisUrl(), { policy, refreshMs: 100, observer: events });
    closers.push(async () => {
      events.close();
      await health.close();
      await out.close();
    });
    return { health, events };
  };

  /** Two watchers sharing the ledger, as two post-call workers. */
  const watchers = async (alerting: Alerting, incidents: IncidentPolicy, name: string) => {
    for (const i of [1, 2]) {
      const watcher = new IncidentWatcher({
        alerting,
        ledger: new RedisIncidentLedger(redis, `test:${RUN}:${name}:`),
        policy: incidents,
      });
      const running = await watchProviderEvents(watcher, bus, {
        groupId: `${PREFIX}${name}-watcher-${i}`,
        checkMs: 200,
      });
      closers.push(() => running.close());
    }
  };

  before(async () => {
    await infraUp({ quiet: true });
    redis = redisCacheClient(redisUrl());
    bus = new KafkaEventBus({ brokers: kafkaBrokers(), topicPrefix: PREFIX, partitions: 1 });
    await bus.ensureTopics();
    await pagerDuty.start();
    await alertmanager.start();
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
    await bus.close();
    await pagerDuty.stop();
    await alertmanager.stop();
    const keys = [
      ...(await redis.keys(`switchboard:health:*${RUN}*`)),
      ...(await redis.keys(`test:${RUN}:*`)),
    ];
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await deleteTopicsWithPrefix(kafkaBrokers(), PREFIX);
  });

  it('a breaker open longer than the threshold: one PagerDuty trigger, one resolve once it closes', async () => {
    const alerting = new PagerDutyAlerting(pagerDuty.url, {
      PAGERDUTY_ROUTING_KEY: pagerDuty.routingKey,
    });
    await watchers(alerting, { openAfterMs: 1_000, fallbacks: 1_000, fallbackWindowMs: 60_000 }, 'pd'); // prettier-ignore
    await sleep(2_000); // the watchers' groups have joined (they read from the newest on)
    const [a, b] = [app(), app()];
    const p = `crm-${RUN}:postgres`;
    for (let i = 0; i < 6; i++) {
      a.health.record(failed(p));
      b.health.record(failed(p));
    }
    await until(10_000, 'a trigger', () => pagerDuty.openIncidents().includes(dedupKeyOf(p)));
    const trigger = pagerDuty.requests.find(
      (r) => (r.body as { event_action: string }).event_action === 'trigger',
    )!.body as { dedup_key: string; payload: { severity: string; summary: string; custom_details: Record<string, unknown> } }; // prettier-ignore
    assert.equal(trigger.dedup_key, dedupKeyOf(p));
    assert.equal(trigger.payload.severity, 'critical');
    // Timeouts: the breaker opens on the timeouts-in-a-row rule.
    assert.match(trigger.payload.summary, new RegExp(`^${p} unhealthy for \\d+ s \\(\\d+ timeouts in a row\\)$`)); // prettier-ignore
    assert.equal(trigger.payload.custom_details.last_error, 'timeout: timeout after 2000 ms');
    // Recovery: after the cool-down one probe goes, and succeeds.
    await sleep(policy.openMs);
    let prober: ProviderHealth | undefined;
    await until(3_000, 'a probe', () => {
      prober = [a.health, b.health].find((h) => h.skipReason(p) === undefined);
      return prober !== undefined;
    });
    prober!.record({ provider: p, ok: true, ms: 2 });
    await until(10_000, 'a resolve', () => pagerDuty.resolves() === 1);
    await sleep(2_000); // room for a repeat
    assert.equal(pagerDuty.triggers(), 1, 'one trigger for the incident, from two watchers');
    assert.equal(pagerDuty.resolves(), 1);
    assert.deepEqual(pagerDuty.openIncidents(), []);
  });

  it('a watcher started after the outage ended resolves the incident an earlier one opened', async () => {
    const ledger = new RedisIncidentLedger(redis, `test:${RUN}:restart:`);
    const alerting = new PagerDutyAlerting(pagerDuty.url, {
      PAGERDUTY_ROUTING_KEY: pagerDuty.routingKey,
    });
    const p = `billing-${RUN}:postgres`;
    const incident = {
      dedupKey: dedupKeyOf(p),
      summary: `${p} unhealthy for 70 s`,
      source: p,
      severity: 'critical' as const,
      startedAt: new Date().toISOString(),
      details: { provider: p },
    };
    await alerting.trigger(incident);
    await ledger.opened(p, incident); // as the watcher before the restart did
    const watcher = new IncidentWatcher({ alerting, ledger, policy: { openAfterMs: 1_000, fallbacks: 10, fallbackWindowMs: 60_000 } }); // prettier-ignore
    watcher.seed(new Map()); // no breaker open in Redis now
    await watcher.reconcile();
    assert.ok(!pagerDuty.openIncidents().includes(dedupKeyOf(p)));
    assert.deepEqual([...(await ledger.open()).keys()], []);
  });

  it('too many fallbacks from a provider: one Alertmanager alert, resolved once it is healthy', async () => {
    await watchers(new AlertmanagerAlerting(alertmanager.url), { openAfterMs: 600_000, fallbacks: 10, fallbackWindowMs: 60_000 }, 'am'); // prettier-ignore
    await sleep(2_000);
    const { health, events } = app();
    const family = `tts-${RUN}`;
    const primary = new FakeTextToSpeech({ name: 'primary', fail: 'unavailable' });
    const chain = new FallbackTextToSpeech(
      [
        { provider: 'primary', port: primary },
        { provider: 'backup', port: new FakeTextToSpeech({ name: 'backup' }) },
      ],
      health.forFamily(family),
    );
    for (let i = 0; i < 12; i++) await chain.synthesize(`hello ${i}`);
    events.flushFallbacks();
    const key = dedupKeyOf(`${family}:primary`);
    await until(10_000, 'an alert', () => alertmanager.openIncidents().includes(key));
    const posted = alertmanager.requests[0]!.body as { annotations: Record<string, string> }[];
    assert.equal(posted[0]!.annotations.severity, 'warning');
    assert.match(posted[0]!.annotations.summary!, /: 12 fallbacks in 1 min$/);
    // The primary recovers: the probe after the cool-down closes its breaker.
    primary.fail = undefined;
    await sleep(policy.openMs);
    await until(3_000, 'the probe served by the primary', () => {
      void chain.synthesize('again');
      return primary.calls > 5;
    });
    await until(10_000, 'resolved', () => !alertmanager.openIncidents().includes(key));
    events.flushFallbacks();
    await sleep(2_000);
    assert.equal(alertmanager.triggers(), 1);
    assert.equal(alertmanager.resolves(), 1);
  });
});
