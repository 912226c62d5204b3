// Provider health's policy on a fake clock, and a process's own view without Redis: when a
// breaker opens, what it says while open, the one probe of half-open, and what never counts.
import assert from 'node:assert/strict';
import type { ProviderAttempt } from '../../contracts/providers';
import {
  applyOutcome,
  closedState,
  DEFAULT_HEALTH_POLICY,
  healthPolicyFromEnv,
  outcomeOf,
  viewOf,
  type BreakerState,
  type Outcome,
} from '../../providers/health/policy';
import { ProviderHealth } from '../../providers/health/provider-health';

const policy = DEFAULT_HEALTH_POLICY;
const T0 = Date.UTC(2026, 0, 1, 12, 3, 4);
const fold = (s: BreakerState, outcomes: Outcome[]) =>
  outcomes.reduce((acc, o) => applyOutcome(acc, o, policy), s);
const fail = (at: number): Outcome => ({ at, ok: false, error: 'unavailable: refused' });
const ok = (at: number): Outcome => ({ at, ok: true });
const timeout = (at: number): Outcome => ({ at, ok: false, timeout: true, error: 'timeout: ' });

const attempt = (provider: string, kind?: ProviderAttempt['kind']): ProviderAttempt =>
  kind === undefined
    ? { provider, ok: true, ms: 5 }
    : { provider, ok: false, ms: 5, kind, reason: 'connection refused' };

class Clock {
  t = T0;
  now = () => this.t;
}

describe('provider health policy', () => {
  it('has the call-center defaults and reads every variable', () => {
    assert.deepEqual(policy, {
      consecutiveFailures: 5,
      consecutiveTimeouts: 3,
      failureRate: 0.5,
      minRequests: 10,
      windowMs: 30_000,
      openMs: 15_000,
      probeMs: 10_000,
    });
    const custom = healthPolicyFromEnv({
      PROVIDER_HEALTH_FAILURES: '3',
      PROVIDER_HEALTH_TIMEOUTS: '2',
      PROVIDER_HEALTH_FAILURE_RATE: '0.25',
      PROVIDER_HEALTH_MIN_REQUESTS: '4',
      PROVIDER_HEALTH_WINDOW_MS: '10000',
      PROVIDER_HEALTH_OPEN_MS: '2000',
      PROVIDER_HEALTH_PROBE_MS: '1000',
    });
    assert.deepEqual(custom, {
      consecutiveFailures: 3,
      consecutiveTimeouts: 2,
      failureRate: 0.25,
      minRequests: 4,
      windowMs: 10_000,
      openMs: 2_000,
      probeMs: 1_000,
    });
    assert.throws(() => healthPolicyFromEnv({ PROVIDER_HEALTH_FAILURE_RATE: '2' }), /FAILURE_RATE/);
  });

  it('opens after N failures in a row, not after N − 1 or when a success breaks the run', () => {
    const four = fold(
      closedState(T0),
      [1, 2, 3, 4].map((i) => fail(T0 + i)),
    );
    assert.equal(four.state, 'closed');
    const broken = fold(four, [ok(T0 + 5), fail(T0 + 6)]);
    assert.equal(broken.state, 'closed');
    assert.equal(broken.consecutive, 1);
    const five = applyOutcome(four, fail(T0 + 5), policy);
    assert.equal(five.state, 'open');
    assert.equal(five.since, T0 + 5);
    assert.equal(five.until, T0 + 5 + policy.openMs);
    assert.equal(five.reason, '5 failures in a row');
    assert.equal(five.lastError, 'unavailable: refused');
  });

  it('opens after 3 timeouts in a row: a black hole is found before 5 callers waited it out', () => {
    const two = fold(closedState(T0), [timeout(T0 + 1), timeout(T0 + 2)]);
    assert.equal(two.state, 'closed');
    const three = applyOutcome(two, timeout(T0 + 3), policy);
    assert.equal(three.state, 'open');
    assert.equal(three.reason, '3 timeouts in a row');
    // Errors in the run count as failures, not as timeouts; a success ends the run.
    const mixed = fold(closedState(T0), [timeout(T0 + 1), fail(T0 + 2), timeout(T0 + 3)]);
    assert.equal(mixed.state, 'closed', 'two timeouts and an error: neither rule is met');
    assert.equal(applyOutcome(mixed, fail(T0 + 4), policy).state, 'closed');
    assert.equal(applyOutcome(mixed, timeout(T0 + 4), policy).reason, '3 timeouts in a row');
    const broken = fold(closedState(T0), [timeout(T0 + 1), timeout(T0 + 2), ok(T0 + 3)]);
    assert.equal(applyOutcome(broken, timeout(T0 + 4), policy).state, 'closed');
    // A state written before timeouts were counted reads as none so far.
    const old = { state: 'closed', since: T0, consecutive: 2, buckets: [] } as BreakerState;
    assert.equal(applyOutcome(old, timeout(T0 + 1), policy).state, 'closed');
  });

  it('counts a timeout attempt as a timeout, other failures not', () => {
    assert.equal(outcomeOf(attempt('openai', 'timeout'), T0)?.timeout, true);
    assert.equal(outcomeOf(attempt('openai', 'unavailable'), T0)?.timeout, undefined);
    assert.equal(outcomeOf(attempt('openai'), T0)?.ok, true);
  });

  it('opens on a failure rate over the window, only with enough requests in it', () => {
    // ok, fail alternating: never 5 in a row, 50 % failed.
    const alternating = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) => (i % 2 ? fail(from + i * 100) : ok(from + i * 100)));
    const nine = fold(closedState(T0), alternating(9, T0));
    assert.equal(nine.state, 'closed', '4 of 9 failed, and 9 is below the minimum of 10');
    const ten = fold(closedState(T0), alternating(10, T0));
    assert.equal(ten.state, 'open');
    assert.equal(ten.reason, '5 of 10 failed in 30 s');
    // The same ten, but the first half older than the window when the rest come.
    const spread = fold(closedState(T0), [...alternating(6, T0), ...alternating(4, T0 + 31_000)]);
    assert.equal(spread.state, 'closed', 'outcomes older than the window do not count');
  });

  it('half-open after the cool-down; the probe closes it or opens it again', () => {
    const open = fold(
      closedState(T0),
      [1, 2, 3, 4, 5].map((i) => fail(T0 + i)),
    );
    assert.equal(viewOf(open, T0 + 5 + policy.openMs - 1), 'open');
    assert.equal(viewOf(open, T0 + 5 + policy.openMs), 'half_open');
    const late = applyOutcome(open, fail(T0 + 100), policy);
    assert.equal(late.until, open.until, 'a failure in flight when it opened changes nothing');
    const at = T0 + 20_000;
    const closed = applyOutcome(open, { ...ok(at), probe: true }, policy);
    assert.equal(closed.state, 'closed');
    assert.equal(closed.since, at);
    assert.equal(closed.consecutive, 0);
    assert.deepEqual(closed.buckets, []);
    const again = applyOutcome(open, { ...fail(at), probe: true }, policy);
    assert.equal(again.state, 'open');
    assert.equal(again.since, open.since, 'still unhealthy since the outage began');
    assert.equal(again.until, at + policy.openMs);
  });
});

describe('ProviderHealth without Redis (a process on its own)', () => {
  it('passes an open provider over with "unhealthy since …" until the cool-down ends', () => {
    const clock = new Clock();
    const health = new ProviderHealth({ now: clock.now });
    for (let i = 0; i < 4; i++) health.record(attempt('tts:polly', 'unavailable'));
    assert.equal(health.skipReason('tts:polly'), undefined);
    health.record(attempt('tts:polly', 'timeout'));
    assert.equal(health.skipReason('tts:polly'), 'unhealthy since 12:03:04 (5 failures in a row)');
    assert.equal(health.skipReason('tts:azure'), undefined, 'other providers are not affected');
    clock.t += policy.openMs - 1;
    assert.match(health.skipReason('tts:polly') ?? '', /^unhealthy since 12:03:04/);
  });

  it('lets one probe through when half-open; its success closes the breaker', () => {
    const clock = new Clock();
    const health = new ProviderHealth({ now: clock.now });
    for (let i = 0; i < 5; i++) health.record(attempt('llm:openai', 'unavailable'));
    clock.t += policy.openMs;
    assert.equal(health.state('llm:openai').view, 'half_open');
    assert.equal(health.skipReason('llm:openai'), undefined, 'the probe');
    assert.match(health.skipReason('llm:openai') ?? '', /another request is probing/);
    health.record(attempt('llm:openai'));
    assert.equal(health.state('llm:openai').view, 'closed');
    assert.equal(health.skipReason('llm:openai'), undefined);
  });

  it('opens again when the probe fails, and probes again after the next cool-down', () => {
    const clock = new Clock();
    const health = new ProviderHealth({ now: clock.now });
    for (let i = 0; i < 5; i++) health.record(attempt('crm:postgres', 'unavailable'));
    clock.t += policy.openMs;
    assert.equal(health.skipReason('crm:postgres'), undefined);
    health.record(attempt('crm:postgres', 'timeout'));
    assert.equal(health.state('crm:postgres').view, 'open');
    assert.match(health.skipReason('crm:postgres') ?? '', /^unhealthy since 12:03:04 /);
    clock.t += policy.openMs;
    assert.equal(health.skipReason('crm:postgres'), undefined, 'the next probe');
  });

  it('never counts our own aborts, the caller’s bad input, misses or empty answers', () => {
    const health = new ProviderHealth({ now: new Clock().now });
    for (const kind of ['aborted', 'bad_input', 'not_found', 'empty'] as const) {
      for (let i = 0; i < 20; i++) health.record(attempt('stt:deepgram', kind));
    }
    assert.equal(health.state('stt:deepgram').view, 'closed');
    assert.deepEqual(health.state('stt:deepgram').state.buckets, []);
  });

  it('keeps families apart: a family gate names its providers family:provider', () => {
    const health = new ProviderHealth({ now: new Clock().now });
    const tts = health.forFamily('tts');
    for (let i = 0; i < 5; i++) tts.record!(attempt('local', 'unavailable'));
    assert.match(tts.skipReason('local') ?? '', /^unhealthy since/);
    assert.equal(health.forFamily('llm').skipReason('local'), undefined);
    assert.equal(health.state('tts:local').view, 'open');
  });
});
