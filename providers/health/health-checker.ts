// Active health checks (the load balancer's pattern): every registered provider's cheap
// request (providers/health-check.ts) is asked every PROVIDER_HEALTH_CHECK_MS and its outcome
// recorded into the provider health exactly like a request's, so a provider nobody is calling
// still opens its breaker ("3 timeouts in a row", "5 failures in a row"), and an open breaker's
// half-open probe is a check rather than a caller's request, so it closes once the provider is
// back with no caller involved.
//
// Fleet-wide one check per provider per interval: the process that wins the interval's lease
// in Redis (SET NX PX on the interval's slot number) checks, the others do not; without Redis
// (none, or away) each process checks for itself. A check still in flight is never doubled:
// the tick waits, and the skipped check starts as soon as the one in flight ends.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseEnvConfig } from '../env-config';
import { ProviderError } from '../provider-error';
import type { ProviderHealth, WatchedProvider } from './provider-health';

/**
 * The longest a check may take: every check is a metadata read (a model list, PING, SELECT 1),
 * not a generation, so it is held to less than a first token and 3 timed-out checks open a
 * black-holed provider's breaker within ≈ 4 s.
 */
export const DEFAULT_CHECK_TIMEOUT_MS = 1_000;

const CheckEnv = z.object({
  PROVIDER_HEALTH_CHECK_MS: z.coerce.number().int().min(0).default(1_000),
  PROVIDER_HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().min(50).optional(),
});

export interface HealthCheckConfig {
  /** How often each provider is checked, fleet-wide; 0: no checks. */
  intervalMs: number;
  /** The bound of every check; unset: its provider's own request bound, at most 1 s. */
  timeoutMs?: number;
}

export function healthCheckConfigFromEnv(env: NodeJS.ProcessEnv = process.env): HealthCheckConfig {
  const c = parseEnvConfig(CheckEnv, env, 'provider health checks');
  return {
    intervalMs: c.PROVIDER_HEALTH_CHECK_MS,
    ...(c.PROVIDER_HEALTH_CHECK_TIMEOUT_MS !== undefined && {
      timeoutMs: c.PROVIDER_HEALTH_CHECK_TIMEOUT_MS,
    }),
  };
}

export interface HealthCheckerOptions extends HealthCheckConfig {
  now?: () => number;
  log?: (line: string) => void;
}

export class HealthChecker {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Providers whose tick came while their check was in flight: checked when it ends. */
  private readonly owed = new Set<string>();
  /** Providers whose last check failed: logged once per failing spell, not every interval. */
  private readonly failing = new Set<string>();
  private readonly stop = new AbortController();
  private readonly id = randomUUID();
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly health: ProviderHealth,
    private readonly opts: HealthCheckerOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Checks on a timer from now on (nothing when the interval is 0). */
  start(): this {
    if (this.opts.intervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
      this.timer.unref();
    }
    return this;
  }

  /** One round: each provider's check is started unless it is in flight or not this process's. */
  async tick(): Promise<void> {
    if (this.stop.signal.aborted) return;
    await Promise.all(this.health.checkable.map((w) => this.turn(w)));
  }

  /** Stops the timer and aborts the checks in flight (their outcomes are not recorded). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.stop.abort();
    await Promise.all(this.inFlight.values());
  }

  private async turn(w: WatchedProvider): Promise<void> {
    if (this.stop.signal.aborted) return;
    if (this.inFlight.has(w.provider)) {
      this.owed.add(w.provider);
      return;
    }
    const run = this.checkIfDue(w).finally(() => this.inFlight.delete(w.provider));
    this.inFlight.set(w.provider, run);
    await run;
    if (this.owed.delete(w.provider)) await this.turn(w);
  }

  private async checkIfDue(w: WatchedProvider): Promise<void> {
    const { view } = this.health.state(w.provider);
    // Open: the check's outcome would tell nothing until the cool-down ends.
    if (view === 'open') return;
    // Half-open: the check is the probe if this process holds the fleet's right to it.
    if (view === 'half_open' && this.health.skipReason(w.provider) !== undefined) return;
    if (view === 'closed' && !(await this.leased(w.provider))) return;
    await this.check(w);
  }

  /** Whether this process checks the provider in this interval (the fleet's lease). */
  private async leased(provider: string): Promise<boolean> {
    const fleet = this.health.fleet;
    if (!fleet || this.health.redisAway) return true;
    const slot = Math.floor(this.now() / Math.max(1, this.opts.intervalMs));
    try {
      return await fleet.claimCheck(provider, slot, this.id, this.opts.intervalMs * 2);
    } catch {
      return true; // Redis away: this process checks for itself
    }
  }

  private async check(w: WatchedProvider): Promise<void> {
    const bound =
      this.opts.timeoutMs ?? Math.min(w.timeoutMs ?? Infinity, DEFAULT_CHECK_TIMEOUT_MS);
    const own = new AbortController();
    const signal = AbortSignal.any([this.stop.signal, own.signal]);
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new ProviderError(
          w.provider,
          'timeout',
          `health check: no answer in ${bound} ms`,
        );
        own.abort(err);
        reject(err);
      }, bound);
    });
    const work = w.check.check(signal);
    work.catch(() => undefined); // a late failure after the bound is accounted for already
    try {
      await Promise.race([work, expired]);
      if (this.stop.signal.aborted) return;
      this.health.record({ provider: w.provider, ok: true, ms: ms() });
      if (this.failing.delete(w.provider))
        this.opts.log?.(`provider health: ${w.provider} answers its check again`);
    } catch (err) {
      if (this.stop.signal.aborted) return;
      // Past the bound it is a timeout, whatever the adapter made of its aborted request.
      const e = ProviderError.from(w.provider, own.signal.aborted ? own.signal.reason : err);
      const reason = `health check: ${e.message}`;
      this.health.record({ provider: w.provider, ok: false, ms: ms(), kind: e.kind, reason });
      if (!this.failing.has(w.provider))
        this.opts.log?.(`provider health: ${w.provider} check failed (${e.kind}): ${e.message}`);
      this.failing.add(w.provider);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The process's health checks from the environment, started; undefined when switched off. */
export function startHealthChecks(
  health: ProviderHealth,
  log?: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): HealthChecker | undefined {
  const config = healthCheckConfigFromEnv(env);
  if (config.intervalMs === 0) return undefined;
  return new HealthChecker(health, { ...config, ...(log && { log }) }).start();
}
