// The pieces that turn provider health into events, without a broker: which writes are
// breaker moves, the runner telling the gate of a request that fell back, fallbacks summed
// per provider per interval, and the background publisher that never makes a caller wait and
// loses nothing while the bus is briefly away.
import assert from 'node:assert/strict';
import type { EventDraft } from '../../contracts/events';
import type { ProviderAttempt } from '../../contracts/providers';
import { FakeEventBus } from '../../providers/events/fake';
import { FallbackRunner, type FallbackGate } from '../../providers/fallback';
import { BackgroundPublisher } from '../../providers/health/background-publisher';
import { HealthEvents } from '../../providers/health/health-events';
import {
  closedState,
  DEFAULT_HEALTH_POLICY,
  type BreakerState,
} from '../../providers/health/policy';
import { transitionOf } from '../../providers/health/transitions';
import { ProviderError } from '../../providers/provider-error';
import { providerEvents } from '../../testing/event-fixtures';

const open = (since: number, until: number): BreakerState => ({
  ...closedState(since),
  state: 'open',
  until,
  reason: '5 failures in a row',
});

/** Events on the fake bus's topic of a type, decoded. */
function onBus(bus: FakeEventBus, type: EventDraft['type']) {
  const partitions = bus.topics.get(bus.topicOf(type)) ?? [];
  return partitions.flat().map((m) => JSON.parse(m.value!.toString()) as { id: string; data: Record<string, unknown> }); // prettier-ignore
}

describe('provider health as events', () => {
  it('transitionOf: the moves one write can make, and writes that are none', () => {
    assert.deepEqual(transitionOf(closedState(0), open(10, 100), 10), {
      from: 'closed',
      to: 'open',
    });
    assert.deepEqual(transitionOf(open(10, 100), closedState(120), 120), { from: 'half_open', to: 'closed' }); // prettier-ignore
    assert.deepEqual(transitionOf(open(10, 100), open(10, 220), 120), { from: 'half_open', to: 'open' }); // prettier-ignore
    assert.equal(transitionOf(closedState(0), closedState(0), 5), undefined);
    assert.equal(
      transitionOf(open(10, 100), open(10, 100), 50),
      undefined,
      'a late failure while open',
    );
  });

  it('the runner tells the gate of a request that fell back: failed and passed-over links, who served', async () => {
    const told: { failed: string[]; servedBy?: string }[] = [];
    const gate: FallbackGate = {
      skipReason: (p) => (p === 'b' ? 'unhealthy since 00:00:00' : undefined),
      fellBack: (failed, servedBy) => told.push({ failed: failed.map((a) => `${a.provider}:${a.kind}`), ...(servedBy && { servedBy }) }), // prettier-ignore
    };
    const fail = () => Promise.reject(new ProviderError('a', 'timeout', 'slow'));
    const runner = new FallbackRunner<() => Promise<string>>(
      'tts',
      [
        { provider: 'unset', skipReason: 'not configured' },
        { provider: 'a', port: fail },
        { provider: 'b', port: () => Promise.resolve('b') },
        { provider: 'c', port: () => Promise.resolve('c') },
      ],
      gate,
    );
    assert.equal((await runner.run((p) => p())).value, 'c');
    assert.deepEqual(told, [{ failed: ['a:timeout', 'b:skipped'], servedBy: 'c' }]);
    const fine = new FallbackRunner(
      'tts',
      [{ provider: 'a', port: () => Promise.resolve(1) }],
      gate,
    );
    await fine.run((p) => p());
    assert.equal(told.length, 1, 'served by the first: nothing told');
  });

  it('fallbacks are summed per failed provider and sent once per interval', async () => {
    const bus = new FakeEventBus();
    const publisher = new BackgroundPublisher(bus);
    const events = new HealthEvents({
      policy: DEFAULT_HEALTH_POLICY,
      publisher,
      intervalMs: 3_600_000,
    });
    const failed = (provider: string, kind: ProviderAttempt['kind']): ProviderAttempt => ({ provider, ok: false, ms: 1, kind }); // prettier-ignore
    for (let i = 0; i < 3; i++) {
      events.fellBack({ family: 'crm', attempts: [failed('crm:primary', 'timeout')], servedBy: 'crm:replica', at: 1_000 + i }); // prettier-ignore
    }
    events.fellBack({ family: 'crm', attempts: [failed('crm:primary', 'skipped'), failed('crm:replica', 'unavailable')], at: 2_000 }); // prettier-ignore
    events.flushFallbacks();
    events.flushFallbacks();
    await publisher.flush();
    const sent = onBus(bus, 'provider.fallback_summary').map((e) => e.data);
    assert.deepEqual(
      sent.map((d) => [d.failed_provider, d.count, d.kind, d.served_by, d.unserved]),
      [
        ['crm:primary', 4, 'skipped', undefined, 1],
        ['crm:replica', 1, 'unavailable', undefined, 1],
      ],
    );
    assert.equal(sent[0]!.first_at, new Date(1_000).toISOString());
    events.close();
    await publisher.close();
  });

  it('the publisher returns at once, and keeps every event while the bus is away', async () => {
    const bus = new FakeEventBus();
    bus.failures.failWith('unavailable', 3);
    const lines: string[] = [];
    const publisher = new BackgroundPublisher(bus, { retryMs: 10, log: (l) => lines.push(l) });
    const [moved, summary] = providerEvents();
    const returned = publisher.enqueue(moved!);
    assert.equal(returned, undefined, 'nothing to await');
    publisher.enqueue(summary!);
    await publisher.flush();
    assert.equal(onBus(bus, 'provider.health_changed').length, 1);
    assert.equal(onBus(bus, 'provider.fallback_summary').length, 1);
    assert.ok(lines.some((l) => /not published yet/.test(l)));
    // One that breaks its schema is dropped when queued; the next still goes.
    publisher.enqueue({ ...moved!, call_id: 'not a valid key' });
    publisher.enqueue({ ...summary!, seq: 2 });
    await publisher.flush();
    assert.equal(onBus(bus, 'provider.health_changed').length, 1);
    assert.equal(onBus(bus, 'provider.fallback_summary').length, 2);
    assert.ok(lines.some((l) => /dropped an invalid provider.health_changed event/.test(l)));
    await publisher.close();
  });
});
