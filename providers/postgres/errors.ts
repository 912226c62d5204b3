// PostgreSQL errors as ProviderErrors: a wait that ran out (no reply to a connect or a
// query, a statement the server cancelled at its bound) is a timeout; a refused, dropped or
// shut-down connection may pass (unavailable); a constraint violation or invalid input never
// will for the same request (bad_input, not retried); a serialization failure or deadlock is
// worth another try.
import { ProviderError } from '../provider-error';

/** SQLSTATE classes a retry cannot fix: 22 data exception, 23 integrity constraint, 42 syntax. */
const FINAL_CLASSES = new Set(['22', '23', '42']);

/** query_canceled: the server's statement_timeout (or lock wait) ran out. */
const STATEMENT_TIMEOUT = '57014';

/** pg's own bounds: the pool's and the client's connect timeouts, the client's query_timeout. */
const CLIENT_TIMEOUTS = [
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
  'Query read timeout',
];

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * True when the connection cannot be trusted with another query: no reply came (it may
 * still be waiting on the last one) or it broke — anything but the server's own error (a
 * SQLSTATE) or the domain's answer. Such a client is destroyed, not pooled.
 */
export function connectionSpoiled(err: unknown, isAnswer: (err: unknown) => boolean): boolean {
  return sqlState(err) === undefined && !isAnswer(err);
}

export function pgError(provider: string, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const code = sqlState(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === STATEMENT_TIMEOUT || (!code && CLIENT_TIMEOUTS.includes(message)))
    return new ProviderError(provider, 'timeout', message, { cause: err });
  if (code && FINAL_CLASSES.has(code.slice(0, 2)))
    return new ProviderError(provider, 'bad_input', message, { cause: err });
  return new ProviderError(provider, 'unavailable', message, { cause: err });
}

/**
 * Runs a query (or a transaction) of `provider`, its errors as ProviderErrors, except the
 * domain's own answers (a declined payment), which pass as they are.
 */
export async function pgCall<T>(
  provider: string,
  work: () => Promise<T>,
  isAnswer: (err: unknown) => boolean = () => false,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw isAnswer(err) ? err : pgError(provider, err);
  }
}
