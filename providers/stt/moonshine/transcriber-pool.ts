// Loaded transcribers and who may use them. A transcriber handle serves one transcription at
// a time: its result lives in the handle until its next call, and two calls at once on one
// handle return garbage (measured: four concurrent calls on one handle gave three corrupt
// strings). So each handle is lent to one transcription, and a transcription waits for a
// free one. Loading one takes ≈ 0.4 s and ≈ 45 MB of weights, so they are kept.
import { ProviderError } from '../../provider-error';

export const PROVIDER = 'moonshine';

export class TranscriberPool {
  private readonly idle: number[] = [];
  private created = 0;
  private readonly waiters: Array<(h: number) => void> = [];
  private disposed = false;

  constructor(
    private readonly size: number,
    private readonly create: () => number,
    private readonly destroy: (handle: number) => void,
  ) {}

  get stats(): { loaded: number; busy: number; waiting: number } {
    return {
      loaded: this.created,
      busy: this.created - this.idle.length,
      waiting: this.waiters.length,
    };
  }

  /** A free transcriber, loading one if the pool is not full; waits at most `timeoutMs`. */
  async acquire(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    if (this.disposed) throw new ProviderError(PROVIDER, 'unavailable', 'moonshine was disposed');
    const free = this.idle.pop();
    if (free !== undefined) return free;
    if (this.created < this.size) {
      this.created++;
      try {
        return this.create();
      } catch (err) {
        this.created--;
        throw err;
      }
    }
    return new Promise((resolve, reject) => {
      const done = (h: number) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(h);
      };
      const drop = (err: ProviderError) => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const timer = setTimeout(
        () =>
          drop(
            new ProviderError(
              PROVIDER,
              'unavailable',
              `no free moonshine transcriber in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      const onAbort = () =>
        drop(new ProviderError(PROVIDER, 'aborted', 'aborted while waiting for a transcriber'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(done);
    });
  }

  release(handle: number): void {
    if (this.disposed) {
      this.created--;
      this.destroy(handle);
      return;
    }
    const next = this.waiters.shift();
    if (next) next(handle);
    else this.idle.push(handle);
  }

  /** Loads transcribers up to the pool size ahead of the first call. */
  warm(): void {
    while (this.created < this.size) {
      this.created++;
      this.idle.push(this.create());
    }
  }

  /** Frees idle transcribers now, busy ones as their transcriptions end. */
  dispose(): void {
    this.disposed = true;
    for (const h of this.idle.splice(0)) {
      this.created--;
      this.destroy(h);
    }
  }
}
