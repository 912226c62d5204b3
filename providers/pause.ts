// A wait that ends early, without an error, when its signal aborts: backoff between tries and
// the fakes' late answers. Callers that must stop on the abort check the signal after it.

/** Waits `ms` (for ever with Infinity), or until `signal` aborts, whichever comes first. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
