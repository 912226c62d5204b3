// PostgreSQL errors as ProviderErrors: a refused, dropped or shut-down connection may pass
// (unavailable); a constraint violation or invalid input never will for the same request
// (bad_input, not retried); a serialization failure or deadlock is worth another try.
import { ProviderError } from '../provider-error';

/** SQLSTATE classes a retry cannot fix: 22 data exception, 23 integrity constraint, 42 syntax. */
const FINAL_CLASSES = new Set(['22', '23', '42']);

export function pgError(provider: string, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && FINAL_CLASSES.has(code.slice(0, 2)))
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
