// One JSON POST to an alerting vendor with fetch, its failures as ProviderErrors: a refused
// or dropped connection is `unavailable`, a status by ProviderError.fromStatus (429 rate
// limited, 5xx unavailable, other 4xx final) with the vendor's own words.
import { ProviderError } from '../provider-error';

export async function postJson(
  provider: string,
  url: URL,
  body: unknown,
  opts: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<unknown> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: JSON.stringify(body),
      signal: opts.signal ?? AbortSignal.timeout(10_000),
    });
    text = await res.text();
  } catch (err) {
    const cause = err instanceof Error ? err : new Error(String(err));
    if (cause.name === 'AbortError' || cause.name === 'TimeoutError') {
      throw new ProviderError(provider, 'timeout', `${provider}: ${cause.message}`, { cause });
    }
    const why = cause.cause instanceof Error ? cause.cause.message : cause.message;
    throw new ProviderError(provider, 'unavailable', `${provider}: ${why}`, { cause });
  }
  const json = parse(text);
  if (!res.ok) {
    throw ProviderError.fromStatus(
      provider,
      res.status,
      `${provider} ${res.status}: ${describe(json) ?? (text.slice(0, 200) || res.statusText)}`,
    );
  }
  return json;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** PagerDuty's `{status, message, errors}` and Alertmanager's `{code, message}` error bodies. */
function describe(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const j = json as { message?: unknown; errors?: unknown };
  const message = typeof j.message === 'string' ? j.message : undefined;
  const errors = Array.isArray(j.errors) ? j.errors.filter((e) => typeof e === 'string') : [];
  return [message, ...errors].filter(Boolean).join('; ') || undefined;
}
