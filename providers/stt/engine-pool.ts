// Loaded recognizer engines (pocketsphinx decoders, Moonshine transcribers) and who may use
// them. An engine serves one utterance at a time (its state and result live in it until its
// next call), loading one is slow, so they are kept: each is lent to one utterance, and an
// utterance waits, with a bound, for a free one.
import { ProviderError } from '../provider-error';

export interface EnginePoolOptions<T> {
  /** The provider, in the errors it throws. */
  provider: string;
  /** What an engine is called, in the errors: "decoder", "transcriber". */
  engine: string;
  size: number;
  create: () => T;
  destroy: (engine: T) => void;
}

export class EnginePool<T> {
  private readonly idle: T[] = [];
  private created = 0;
  private readonly waiters: Array<(engine: T) => void> = [];
  private disposed = false;

  constructor(private readonly opts: EnginePoolOptions<T>) {}

  get stats(): { loaded: number; busy: number; waiting: number } {
    return {
      loaded: this.created,
      busy: this.created - this.idle.length,
      waiting: this.waiters.length,
    };
  }

  /** A free engine, loading one if the pool is not full; waits at most `timeoutMs`. */
  async acquire(timeoutMs: number, signal?: AbortSignal): Promise<T> {
    const { provider, engine } = this.opts;
    if (this.disposed) throw new ProviderError(provider, 'unavailable', `${provider} was disposed`);
    if (this.idle.length) return this.idle.pop()!;
    if (this.created < this.opts.size) {
      this.created++;
      try {
        return this.opts.create();
      } catch (err) {
        this.created--;
        throw err;
      }
    }
    return new Promise((resolve, reject) => {
      const done = (e: T) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(e);
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
              provider,
              'unavailable',
              `no free ${provider} ${engine} in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      const onAbort = () =>
        drop(new ProviderError(provider, 'aborted', `aborted while waiting for a ${engine}`));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(done);
    });
  }

  release(engine: T): void {
    if (this.disposed) {
      this.created--;
      this.opts.destroy(engine);
      return;
    }
    const next = this.waiters.shift();
    if (next) next(engine);
    else this.idle.push(engine);
  }

  /** Loads engines up to the pool size ahead of the first utterance. */
  warm(): void {
    while (this.created < this.opts.size) {
      this.created++;
      this.idle.push(this.opts.create());
    }
  }

  /** Frees idle engines now, busy ones as their utterances end. */
  dispose(): void {
    this.disposed = true;
    for (const e of this.idle.splice(0)) {
      this.created--;
      this.opts.destroy(e);
    }
  }
}
