// The one error every provider adapter throws, whatever the vendor: which provider, what
// kind of failure, and whether asking again may help. Fallback chains decide on it, provider
// health counts it, and only activities/ turns it into a Temporal failure.
import type { ProviderErrorKind } from '../contracts/providers';

export type { ProviderErrorKind } from '../contracts/providers';

const RETRYABLE_KINDS: ReadonlySet<ProviderErrorKind> = new Set([
  'timeout',
  'rate_limited',
  'unavailable',
]);

export class ProviderError extends Error {
  readonly retryable: boolean;
  /** The vendor's HTTP status, when it answered with one. */
  readonly status?: number;

  constructor(
    readonly provider: string,
    readonly kind: ProviderErrorKind,
    message: string,
    opts: { retryable?: boolean; status?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ProviderError';
    this.retryable = opts.retryable ?? RETRYABLE_KINDS.has(kind);
    if (opts.status !== undefined) this.status = opts.status;
  }

  /** A vendor's HTTP status: 4xx is final except 408 and 429; 404 is a miss. */
  static fromStatus(provider: string, status: number, message: string): ProviderError {
    const kind: ProviderErrorKind =
      status === 429
        ? 'rate_limited'
        : status === 408
          ? 'timeout'
          : status >= 500
            ? 'unavailable'
            : status === 404
              ? 'not_found'
              : 'bad_input';
    return new ProviderError(provider, kind, message, { status });
  }

  /**
   * Any error from inside an adapter as a ProviderError: kept as it is when it already is
   * one, an abort is `aborted` (an AbortSignal.timeout's is `timeout`), anything else (a refused socket, a crashed engine) is
   * `unavailable` and may pass.
   */
  static from(provider: string, err: unknown): ProviderError {
    if (err instanceof ProviderError) return err;
    if (isNamed(err, 'TimeoutError')) {
      return new ProviderError(provider, 'timeout', messageOf(err), { cause: err });
    }
    if (isNamed(err, 'AbortError')) {
      return new ProviderError(provider, 'aborted', messageOf(err), { cause: err });
    }
    return new ProviderError(provider, 'unavailable', messageOf(err), { cause: err });
  }
}

function isNamed(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
