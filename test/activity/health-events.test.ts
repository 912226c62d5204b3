// Health moves and fallbacks as events, on real Redis and real Kafka: two ProviderHealth
// instances stand for two processes, each publishing what it sees to the same topics. One
// failure burst gives exactly one closed → open event for the fleet, the cool-down one
// open → half_open, the probe's success one half_open → closed; a TTS chain falling back
// twenty times gives one aggregated fallback summary with the count.
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { AnyBusEvent, BusEvent } from '../../contracts/events';
import { redisCacheClient } from '../../providers/cache/redis';
import { KafkaEventBus } from '../../providers/events/kafka';
import { BackgroundPublisher } from '../../providers/health/background-publisher';
import { HealthEvents } from '../../providers/health/health-events';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from '../../providers/health/policy';
import { ProviderHealth, sharedProviderHealth } from '../../providers/health/provider-health';
import { RedisHealthStore } from '../../providers/health/redis-store';
import { FakeTextToSpeech } from '../../providers/tts/fake';
import { FallbackTextToSpeech } from '../../providers/tts/fallback';
import { infraUp, kafkaBrokers, redisUrl } from '../../infra';
import { deleteTopicsWithPrefix } from '../../testing/kafka-admin';
import { Collector } from '../../testing/event-fixtures';
import { failedAttempt } from '../../testing/degraded';

const RUN = `hev${process.pid}${Date.now().toString(36)}`;
const PREFIX = `test-${RUN}.`;
const policy: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, openMs: 1_500, probeMs: 1_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failed = (provider: string) => failedAttempt(provider);

describe('provider health and fallback events on Kafka', function () {
  this.timeout(120_000);
  let bus: KafkaEventBus;
  let redis: Redis;
  const collector = new Collector();
  let closeSub: () => Promise<void>;
  const processes: { health: ProviderHealth; events: HealthEvents; out: BackgroundPublisher }[] =
    [];

  const process_ = () => {
    const out = new BackgroundPublisher(bus, { retryMs: 200 });
    const events = new HealthEvents({ policy, publisher: out, intervalMs: 60_000 });
    const health = sharedProviderHealth(redisUrl(), { policy, refreshMs: 100, observer: events });
    const p = { health, events, out };
    processes.push(p);
    return p;
  };
  const of = <T extends AnyBusEvent['type']>(type: T, key: string) =>
    collector.received
      .map((r) => r.event)
      .filter((e): e is BusEvent<T> & AnyBusEvent => e.type === type && e.call_id === key);

  before(async () => {
    await infraUp({ quiet: true });
    redis = redisCacheClient(redisUrl());
    bus = new KafkaEventBus({ brokers: kafkaBrokers(), topicPrefix: PREFIX, partitions: 1 });
    const sub = await bus.subscribe({
      groupId: `${PREFIX}reader`,
      handlers: collector.handlers(['provider.health_changed', 'provider.fallback_summary']),
    });
    closeSub = () => sub.close();
  });

  after(async () => {
    for (const p of processes) {
      p.events.close();
      await p.health.close();
      await p.out.close();
    }
    await closeSub();
    await bus.close();
    const keys = await redis.keys(`switchboard:health:*${RUN}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await deleteTopicsWithPrefix(kafkaBrokers(), PREFIX);
  });

  it('one failure burst seen by two processes: one event per move, open → half_open → closed', async () => {
    const [a, b] = [process_(), process_()];
    const p = `tts-${RUN}:open`;
    for (let i = 0; i < 6; i++) {
      a.health.record(failed(p));
      b.health.record(failed(p));
    }
    await collector.until('closed → open', () => of('provider.health_changed', p).length >= 1);
    await sleep(policy.openMs);
    // Both processes ask through the half-open period; one of them probes, and it succeeds.
    let prober: ProviderHealth | undefined;
    const started = Date.now();
    while (!prober && Date.now() - started < 3_000) {
      prober = [a.health, b.health].find((h) => h.skipReason(p) === undefined);
      await sleep(10);
    }
    assert.ok(prober, 'a probe went');
    prober.record({ provider: p, ok: true, ms: 2 });
    await collector.until('→ closed', () =>
      of('provider.health_changed', p).some((e) => e.data.to === 'closed'),
    );
    await sleep(1_500); // room for any repeat to arrive
    const moves = of('provider.health_changed', p).map((e) => `${e.data.from}→${e.data.to}`);
    assert.deepEqual(moves, ['closed→open', 'open→half_open', 'half_open→closed']);
    const opened = of('provider.health_changed', p)[0]!.data;
    assert.equal(opened.family, `tts-${RUN}`);
    assert.equal(opened.last_error_kind, 'unavailable');
    assert.equal(opened.last_error, 'unavailable: connection refused');
    assert.match(opened.reason ?? '', /failures in a row/);
    assert.ok(opened.failures >= 5);
    const listed = await new RedisHealthStore(redis).transitions(50);
    assert.deepEqual(
      listed.filter((t) => t.provider === p).map((t) => `${t.from}→${t.to}`),
      ['half_open→closed', 'open→half_open', 'closed→open'],
      'the last moves are kept in Redis for `switchboard health`',
    );
  });

  it('a TTS chain falling back twenty times gives one summary with the count', async () => {
    const { health, events } = process_();
    const family = `tts-${RUN}`;
    const primary = new FakeTextToSpeech({ name: 'primary', fail: 'unavailable' });
    const chain = new FallbackTextToSpeech(
      [
        { provider: 'primary', port: primary },
        { provider: 'backup', port: new FakeTextToSpeech({ name: 'backup' }) },
      ],
      health.forFamily(family),
    );
    for (let i = 0; i < 20; i++)
      assert.equal((await chain.synthesize(`hi ${i}`)).provider, 'backup');
    events.flushFallbacks();
    events.flushFallbacks(); // nothing new: nothing more sent
    const key = `${family}:primary`;
    await collector.until('a summary', () => of('provider.fallback_summary', key).length >= 1);
    await sleep(1_000);
    const summaries = of('provider.fallback_summary', key);
    assert.equal(summaries.length, 1);
    const s = summaries[0]!.data;
    assert.equal(s.count, 20, 'five failures, then fifteen passed over with the breaker open');
    assert.equal(s.kind, 'skipped');
    assert.equal(s.served_by, `${family}:backup`);
    assert.equal(s.unserved, 0);
    assert.equal(primary.calls, 5);
  });
});
