// The health checker on a fake clock, with scripted checks: failures and timeouts recorded
// like requests open the breaker; an open breaker is not checked until its cool-down ends;
// then the check is the half-open probe; checks of one provider never overlap; 0 = off.
import assert from 'node:assert/strict';
import type { HealthCheck } from '../../providers/health-check';
import { HealthChecker, startHealthChecks } from '../../providers/health/health-checker';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from '../../providers/health/policy';
import { ProviderHealth } from '../../providers/health/provider-health';
import { ProviderError } from '../../providers/provider-error';

const policy: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, openMs: 15_000 };

/** A check that answers as told; counts its calls. */
class ScriptedCheck implements HealthCheck {
  calls = 0;
  answer: 'ok' | 'refused' | 'hang' = 'ok';
  private release?: () => void;

  async check(signal: AbortSignal): Promise<void> {
    this.calls++;
    if (this.answer === 'refused') throw new ProviderError('vendor', 'unavailable', 'ECONNREFUSED');
    if (this.answer === 'ok') return;
    await new Promise<void>((resolve, reject) => {
      this.release = resolve;
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
  }

  finish(): void {
    this.release?.();
  }
}

function setUp(timeoutMs = 20) {
  let now = 1_000_000;
  const health = new ProviderHealth({ policy, now: () => now });
  const check = new ScriptedCheck();
  health.forFamily('llm').watch!('openai', check, 5_000);
  const checker = new HealthChecker(health, { intervalMs: 1_000, timeoutMs, now: () => now });
  return {
    health,
    check,
    checker,
    advance: (ms: number) => (now += ms),
    state: () => health.state('llm:openai'),
  };
}

describe('health checker', function () {
  it('records a refused check like a request: five in a row open the breaker', async () => {
    const { checker, check, state } = setUp();
    check.answer = 'refused';
    for (let i = 0; i < policy.consecutiveFailures - 1; i++) await checker.tick();
    assert.equal(state().view, 'closed');
    await checker.tick();
    assert.equal(state().view, 'open');
    assert.match(state().state.reason!, /failures in a row/);
    assert.match(state().state.lastError!, /health check: ECONNREFUSED/);
  });

  it('a check with no answer within its bound is a timeout: three open the breaker', async () => {
    const { checker, check, state } = setUp();
    check.answer = 'hang';
    for (let i = 0; i < policy.consecutiveTimeouts; i++) await checker.tick();
    assert.equal(state().view, 'open');
    assert.match(state().state.reason!, /3 timeouts in a row/);
  });

  it('an open breaker is not checked; after the cool-down the check is the probe that closes it', async () => {
    const { checker, check, state, advance } = setUp();
    check.answer = 'refused';
    for (let i = 0; i < policy.consecutiveFailures; i++) await checker.tick();
    const calls = check.calls;
    await checker.tick();
    assert.equal(check.calls, calls, 'not checked while open');
    check.answer = 'ok';
    advance(policy.openMs);
    assert.equal(state().view, 'half_open');
    await checker.tick();
    assert.equal(check.calls, calls + 1);
    assert.equal(state().view, 'closed');
  });

  it('failed checks are not caller fallbacks: no fallback is noted for them', async () => {
    const { health, checker, check, state } = setUp();
    const noted: unknown[] = [];
    health.observe({ transition: () => undefined, fellBack: (note) => noted.push(note) });
    check.answer = 'refused';
    for (let i = 0; i < policy.consecutiveFailures; i++) await checker.tick();
    assert.equal(state().view, 'open');
    assert.deepEqual(noted, []);
  });

  it('a failed probe starts another cool-down', async () => {
    const { checker, check, state, advance } = setUp();
    check.answer = 'refused';
    for (let i = 0; i < policy.consecutiveFailures; i++) await checker.tick();
    advance(policy.openMs);
    await checker.tick();
    assert.equal(state().view, 'open');
    assert.equal(state().state.until, 1_000_000 + 2 * policy.openMs);
  });

  it('checks of one provider never overlap: ticks meanwhile owe one check', async () => {
    const { checker, check, state } = setUp(60_000);
    check.answer = 'hang';
    const first = checker.tick();
    await checker.tick();
    await checker.tick();
    assert.equal(check.calls, 1);
    check.answer = 'ok';
    check.finish();
    await first;
    assert.equal(check.calls, 2, 'the owed check ran once');
    assert.equal(state().view, 'closed');
  });

  it('is off with PROVIDER_HEALTH_CHECK_MS=0, and checks nothing after close', async () => {
    const { health, checker, check } = setUp();
    assert.equal(
      startHealthChecks(health, undefined, { PROVIDER_HEALTH_CHECK_MS: '0' }),
      undefined,
    );
    const on = startHealthChecks(health, undefined, { PROVIDER_HEALTH_CHECK_MS: '1000' });
    assert.ok(on instanceof HealthChecker);
    await on.close();
    await checker.close();
    await checker.tick();
    assert.equal(check.calls, 0);
  });
});
