// The circuit breaker of one provider as a value and the pure rule that moves it: closed →
// open after repeated failures or a failure rate in a sliding window → half-open once the
// cool-down has passed (one probe request) → closed on the probe's success, open again on
// its failure. A timeout weighs more than an error: a black-holed provider costs every caller
// the whole timeout, so a shorter run of timeouts opens it (an error costs milliseconds and
// one can be a blip). Pure so the same rule serves the fleet's state in Redis and a process's own
// view, and so it is tested with a fake clock.
import { z } from 'zod';
import type { ProviderAttempt } from '../../contracts/providers';
import { parseEnvConfig } from '../env-config';

export interface HealthPolicy {
  /** Opens after this many failures in a row. */
  consecutiveFailures: number;
  /** … or after this many timeouts in a row (a black hole: each one cost a caller the bound). */
  consecutiveTimeouts: number;
  /** … or when at least this share of the window's requests failed … */
  failureRate: number;
  /** … with at least this many requests in the window. */
  minRequests: number;
  windowMs: number;
  /** How long an open breaker turns requests away before a probe is let through. */
  openMs: number;
  /** How long one process holds the right to probe (then another may). */
  probeMs: number;
}

const HealthEnv = z.object({
  PROVIDER_HEALTH_FAILURES: z.coerce.number().int().min(1).default(5),
  PROVIDER_HEALTH_TIMEOUTS: z.coerce.number().int().min(1).default(3),
  PROVIDER_HEALTH_FAILURE_RATE: z.coerce.number().gt(0).max(1).default(0.5),
  PROVIDER_HEALTH_MIN_REQUESTS: z.coerce.number().int().min(1).default(10),
  PROVIDER_HEALTH_WINDOW_MS: z.coerce.number().int().min(1_000).default(30_000),
  PROVIDER_HEALTH_OPEN_MS: z.coerce.number().int().min(100).default(15_000),
  PROVIDER_HEALTH_PROBE_MS: z.coerce.number().int().min(100).default(10_000),
});

export function healthPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): HealthPolicy {
  const c = parseEnvConfig(HealthEnv, env, 'provider health');
  return {
    consecutiveFailures: c.PROVIDER_HEALTH_FAILURES,
    consecutiveTimeouts: c.PROVIDER_HEALTH_TIMEOUTS,
    failureRate: c.PROVIDER_HEALTH_FAILURE_RATE,
    minRequests: c.PROVIDER_HEALTH_MIN_REQUESTS,
    windowMs: c.PROVIDER_HEALTH_WINDOW_MS,
    openMs: c.PROVIDER_HEALTH_OPEN_MS,
    probeMs: c.PROVIDER_HEALTH_PROBE_MS,
  };
}

export const DEFAULT_HEALTH_POLICY: HealthPolicy = healthPolicyFromEnv({});

/** The window is kept as this many buckets of counts: a fixed size however busy. */
const BUCKETS = 10;

export interface Bucket {
  /** Start of the bucket (ms since the epoch). */
  at: number;
  ok: number;
  failed: number;
}

export interface BreakerState {
  state: 'closed' | 'open';
  /** When the current state began; for an open breaker, when the outage began. */
  since: number;
  /** Open: when the next probe may go. */
  until?: number;
  /** Open: why it opened ("5 failures in a row", "6 of 10 failed in 30 s"). */
  reason?: string;
  consecutive: number;
  /** Of the failures in a row, how many were timeouts (absent in states written before). */
  timeouts?: number;
  buckets: Bucket[];
  lastError?: string;
  lastErrorAt?: number;
}

export type HealthView = 'closed' | 'open' | 'half_open';

/** What one asked attempt tells about its provider; undefined when nothing. */
export interface Outcome {
  at: number;
  ok: boolean;
  error?: string;
  /** The failure was a timeout. */
  timeout?: boolean;
  /** The one request let through a half-open breaker. */
  probe?: boolean;
}

/**
 * Success or failure of the provider, or undefined: our own cancellation (aborted), the
 * caller's mistakes (bad_input, not_found) and an answer rejected as empty say nothing about
 * the provider's health.
 */
export function outcomeOf(attempt: ProviderAttempt, at: number): Outcome | undefined {
  if (attempt.ok) return { at, ok: true };
  switch (attempt.kind) {
    case 'timeout':
      return { at, ok: false, timeout: true, error: `timeout: ${attempt.reason ?? ''}` };
    case 'rate_limited':
    case 'unavailable':
    case undefined:
      return { at, ok: false, error: `${attempt.kind ?? 'failed'}: ${attempt.reason ?? ''}` };
    default:
      return undefined;
  }
}

export function closedState(at: number): BreakerState {
  return { state: 'closed', since: at, consecutive: 0, buckets: [] };
}

export function viewOf(s: BreakerState, now: number): HealthView {
  if (s.state === 'closed') return 'closed';
  return now < (s.until ?? 0) ? 'open' : 'half_open';
}

/** Requests and failures in the window ending at `now`. */
export function windowCounts(
  s: BreakerState,
  policy: HealthPolicy,
  now: number,
): { requests: number; failures: number } {
  let requests = 0;
  let failures = 0;
  for (const b of s.buckets) {
    if (b.at <= now - policy.windowMs) continue;
    requests += b.ok + b.failed;
    failures += b.failed;
  }
  return { requests, failures };
}

/** The state after one outcome (a new value; `s` is left as it was). */
export function applyOutcome(s: BreakerState, o: Outcome, policy: HealthPolicy): BreakerState {
  const next: BreakerState = { ...s, buckets: s.buckets.map((b) => ({ ...b })) };
  if (!o.ok) {
    next.lastError = o.error;
    next.lastErrorAt = o.at;
  }
  if (s.state === 'open') {
    // Requests already in flight when it opened tell nothing new; only the probe decides.
    if (!o.probe) return next;
    if (o.ok) return { ...closedState(o.at), ...errorOf(next) };
    return { ...next, until: o.at + policy.openMs };
  }
  count(next, o, policy);
  next.consecutive = o.ok ? 0 : s.consecutive + 1;
  next.timeouts = o.ok ? 0 : (s.timeouts ?? 0) + (o.timeout ? 1 : 0);
  const trip = tripReason(next, policy, o.at);
  if (trip === undefined) return next;
  return { ...next, state: 'open', since: o.at, until: o.at + policy.openMs, reason: trip };
}

function errorOf(s: BreakerState): Pick<BreakerState, 'lastError' | 'lastErrorAt'> {
  return {
    ...(s.lastError !== undefined && { lastError: s.lastError, lastErrorAt: s.lastErrorAt }),
  };
}

function count(s: BreakerState, o: Outcome, policy: HealthPolicy): void {
  const width = Math.max(1, Math.floor(policy.windowMs / BUCKETS));
  const at = o.at - (o.at % width);
  s.buckets = s.buckets.filter((b) => b.at > o.at - policy.windowMs);
  let bucket = s.buckets.find((b) => b.at === at);
  if (!bucket) {
    bucket = { at, ok: 0, failed: 0 };
    s.buckets.push(bucket);
    s.buckets.sort((a, b) => a.at - b.at);
  }
  if (o.ok) bucket.ok++;
  else bucket.failed++;
}

function tripReason(s: BreakerState, policy: HealthPolicy, now: number): string | undefined {
  if (s.consecutive >= policy.consecutiveFailures) return `${s.consecutive} failures in a row`;
  if ((s.timeouts ?? 0) >= policy.consecutiveTimeouts) return `${s.timeouts} timeouts in a row`;
  const { requests, failures } = windowCounts(s, policy, now);
  if (requests >= policy.minRequests && failures / requests >= policy.failureRate) {
    return `${failures} of ${requests} failed in ${Math.round(policy.windowMs / 1000)} s`;
  }
  return undefined;
}

/** "unhealthy since 12:03:04 (5 failures in a row)": why an open provider is passed over. */
export function unhealthyReason(s: BreakerState): string {
  return `unhealthy since ${clockTime(s.since)}${s.reason ? ` (${s.reason})` : ''}`;
}

export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
