// The one fallback runner every provider family's fallback adapter is built on: links in
// config order, each tried up to its tries with backoff and its own timeout; a link with no
// adapter (not configured) or one the gate turns away is passed over with the reason
// recorded; the first answer serves. Every provider asked or passed over leaves one
// ProviderAttempt. When none serves, a FallbackExhaustedError carries the attempts.
import type { ProviderAttempt } from '../contracts/providers';
import { isHealthCheck, type HealthCheck } from './health-check';
import { pause } from './pause';
import { ProviderError } from './provider-error';

export interface FallbackLink<P> {
  provider: string;
  /** Absent when the provider is not configured (no credentials): recorded, never asked. */
  port?: P;
  /** Why there is no port. */
  skipReason?: string;
  /** Bound on one try, from the call to its answer (none by default). */
  timeoutMs?: number;
  /** Tries of this provider for one request (default 1). */
  tries?: number;
  /** Waits before the 2nd, 3rd … try (the last value repeats). */
  backoffMs?: readonly number[];
}

/** Decides before each request whether a provider is asked at all (provider health). */
export interface FallbackGate {
  /** A reason to pass the provider over now, or undefined to ask it. */
  skipReason(provider: string): string | undefined;
  /** Told the attempt of every provider asked (never of one passed over). */
  record?(attempt: ProviderAttempt): void;
  /**
   * Told once per request that fell back: the attempts that failed or that the gate passed
   * over (not unconfigured links), and the provider that served (none: undefined).
   */
  fellBack?(failed: ProviderAttempt[], servedBy: string | undefined): void;
  /**
   * Told of each configured provider whose adapter can be checked without a caller (active
   * health checks), with the bound of one of its requests when the chain sets one.
   */
  watch?(provider: string, check: HealthCheck, timeoutMs?: number): void;
}

export interface FallbackOutcome<T> {
  value: T;
  servedBy: string;
  attempts: ProviderAttempt[];
}

export interface RunOptions<T> {
  /** Stops the chain at once (barge-in, hang-up); the abort's reason is rethrown as is. */
  signal?: AbortSignal;
  /** Told about each attempt as it is recorded (an activity heartbeats or logs it). */
  onAttempt?: (attempt: ProviderAttempt) => void;
  /** Attempts recorded before this run (an STT live stream); the outcome continues them. */
  attempts?: ProviderAttempt[];
  /** A reason to treat an answer as no answer (an empty transcript, a blank text). */
  reject?: (value: T) => string | undefined;
  /**
   * Asks the first provider not passed over and no other: a write under an idempotency key
   * whose failed try may have landed must not be sent to a different provider.
   */
  firstOnly?: boolean;
  /**
   * An error that is the provider's answer, not its failure (a declined card, an unpayable
   * invoice): the provider served, and the error is rethrown as is.
   */
  isAnswer?: (err: unknown) => boolean;
}

export interface LinkCall {
  /** Aborted on the link's timeout and on the run's signal. */
  signal: AbortSignal;
  provider: string;
}

/** No provider served. Retryable unless every provider asked failed for good. */
export class FallbackExhaustedError extends ProviderError {
  constructor(
    family: string,
    readonly attempts: ProviderAttempt[],
  ) {
    const asked = attempts.filter((a) => a.kind !== 'skipped');
    const final =
      asked.length > 0 && asked.every((a) => a.kind === 'bad_input' || a.kind === 'not_found');
    super(
      family,
      final ? 'bad_input' : 'unavailable',
      `no ${family} provider served: ${describeAttempts(attempts)}`,
      { retryable: !final },
    );
    this.name = 'FallbackExhaustedError';
  }
}

export function describeAttempts(attempts: readonly ProviderAttempt[]): string {
  if (attempts.length === 0) return 'no providers';
  return attempts
    .map(
      (a) =>
        `${a.provider}: ${a.ok ? 'ok' : `${a.kind ?? 'failed'}${a.reason ? ` (${a.reason})` : ''}`}`,
    )
    .join('; ');
}

export class FallbackRunner<P> {
  constructor(
    /** The family's name in errors and logs: stt, tts, llm, crm … */
    readonly family: string,
    readonly links: readonly FallbackLink<P>[],
    private readonly gate?: FallbackGate,
  ) {
    if (links.length === 0) throw new Error(`a ${family} fallback needs at least one provider`);
    for (const link of links) {
      if (isHealthCheck(link.port)) gate?.watch?.(link.provider, link.port, link.timeoutMs);
    }
  }

  /** The providers that will be asked, in order (unconfigured ones excluded). */
  get providers(): string[] {
    return this.links.filter((l) => l.port).map((l) => l.provider);
  }

  /** The first configured adapter: what the chain means to use when all is well. */
  get primary(): P | undefined {
    return this.links.find((l) => l.port)?.port;
  }

  async run<T>(
    call: (port: P, ctx: LinkCall) => Promise<T>,
    opts: RunOptions<T> = {},
  ): Promise<FallbackOutcome<T>> {
    const attempts = opts.attempts ?? [];
    const failed: ProviderAttempt[] = [];
    const record = (a: ProviderAttempt, configured = true) => {
      attempts.push(a);
      opts.onAttempt?.(a);
      if (a.kind !== 'skipped') this.gate?.record?.(a);
      if (!a.ok && configured) failed.push(a);
    };
    const fellBack = (servedBy?: string) => {
      if (failed.length) this.gate?.fellBack?.(failed, servedBy);
    };
    for (const link of this.links) {
      opts.signal?.throwIfAborted();
      const skip = link.port
        ? this.gate?.skipReason(link.provider)
        : (link.skipReason ?? 'not configured');
      if (skip !== undefined || !link.port) {
        record(
          { provider: link.provider, ok: false, ms: 0, kind: 'skipped', reason: skip },
          link.port !== undefined,
        );
        continue;
      }
      const tries = Math.max(1, link.tries ?? 1);
      for (let t = 0; t < tries; t++) {
        if (t > 0) await pause(backoff(link.backoffMs, t - 1), opts.signal);
        opts.signal?.throwIfAborted();
        const started = performance.now();
        const ms = () => Math.round(performance.now() - started);
        try {
          const value = await attempt(link, link.port, call, opts.signal);
          const empty = opts.reject?.(value);
          if (empty === undefined) {
            record({ provider: link.provider, ok: true, ms: ms() });
            fellBack(link.provider);
            return { value, servedBy: link.provider, attempts };
          }
          record({ provider: link.provider, ok: false, ms: ms(), kind: 'empty', reason: empty });
        } catch (err) {
          if (opts.signal?.aborted) throw opts.signal.reason ?? err;
          if (opts.isAnswer?.(err)) {
            record({ provider: link.provider, ok: true, ms: ms() });
            throw err;
          }
          const e = ProviderError.from(link.provider, err);
          record({ provider: link.provider, ok: false, ms: ms(), kind: e.kind, reason: e.message });
          if (!e.retryable) break;
        }
      }
      if (opts.firstOnly) break;
    }
    fellBack();
    throw new FallbackExhaustedError(this.family, attempts);
  }
}

/**
 * One try, raced against the link's timeout: on expiry the link's signal aborts (the HTTP
 * request or engine is torn down) and the chain moves on without waiting for it to notice.
 */
async function attempt<P, T>(
  link: FallbackLink<P>,
  port: P,
  call: (port: P, ctx: LinkCall) => Promise<T>,
  outer?: AbortSignal,
): Promise<T> {
  const own = new AbortController();
  const signal = outer ? AbortSignal.any([outer, own.signal]) : own.signal;
  const work = call(port, { signal, provider: link.provider });
  if (link.timeoutMs === undefined) return work;
  work.catch(() => undefined); // a late failure after the timeout is accounted for already
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ProviderError(link.provider, 'timeout', `timeout after ${link.timeoutMs} ms`);
      own.abort(err);
      reject(err);
    }, link.timeoutMs);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function backoff(steps: readonly number[] | undefined, i: number): number {
  if (!steps?.length) return 0;
  return steps[Math.min(i, steps.length - 1)]!;
}
