// One life of a recognizer's process: started, its utterances answered by id, and, when it
// ends (a native abort, a segfault, killed), every utterance it held failed as unavailable
// so the fallback chain serves them, the caller is asked to repeat at worst.
import { fork, type ChildProcess } from 'node:child_process';
import { ProviderError } from '../../provider-error';
import type { EngineName, EngineSettings, FromEngine, ToEngine, WireError } from './protocol';

/** What one utterance waits for: its stream opened, its partials, its result. */
export interface Waiter {
  settle(m: Extract<FromEngine, { op: 'opened' | 'result' | 'error' }>): void;
  partial?(text: string): void;
  /** The process ended before the answer came. */
  lost(err: ProviderError): void;
}

// A TypeScript entry (development, tests) runs under tsx's loader; the build's is JavaScript.
const HOST = require.resolve('./host');
const EXEC_ARGV = HOST.endsWith('.ts') ? ['--import', 'tsx'] : [];

export class EngineChild {
  private readonly child: ChildProcess;
  private readonly waiters = new Map<number, Waiter>();
  private loadError?: ProviderError;
  private loading = true;
  /** Why the process ended; undefined while it lives. */
  ended?: ProviderError;
  /** Settles once the engine loaded (or failed to). */
  readonly ready: Promise<void>;

  constructor(
    private readonly name: EngineName,
    settings: EngineSettings,
    onExit: (child: EngineChild, waiting: number) => void,
  ) {
    this.child = fork(HOST, [name, JSON.stringify(settings)], {
      execArgv: EXEC_ARGV,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let loaded: () => void;
    let notLoaded: (err: ProviderError) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      loaded = resolve;
      notLoaded = reject;
    });
    this.ready.catch(() => undefined); // read by whoever asks; an unread failure is no crash
    this.child.on('message', (m: FromEngine) => {
      if (m.op === 'ready' || m.op === 'failed') {
        this.loading = false;
        this.refWhileBusy();
        if (m.op === 'ready') return loaded();
        this.loadError = this.error(m.error);
        return notLoaded(this.loadError);
      }
      const w = this.waiters.get(m.id);
      if (m.op === 'partial') return w?.partial?.(m.text);
      this.waiters.delete(m.id);
      this.refWhileBusy();
      w?.settle(m);
    });
    this.child.once('exit', (code, signal) => {
      this.ended =
        this.loadError ??
        new ProviderError(
          name,
          'unavailable',
          `the ${name} process ended (${signal ?? `exit code ${code}`})`,
        );
      notLoaded(this.ended);
      const waiting = [...this.waiters.values()];
      this.waiters.clear();
      for (const w of waiting) w.lost(this.ended);
      onExit(this, waiting.length);
    });
    // A failed spawn (no such entry) ends in 'exit' too; without a listener it would throw.
    this.child.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a request; `waiter`, when given, hears its answer or the process's end. */
  send(m: ToEngine, waiter?: Waiter): void {
    if (this.ended) {
      waiter?.lost(this.ended);
      return;
    }
    // A frame of audio (no waiter) changes nothing the reference depends on.
    if (waiter) {
      this.waiters.set(m.id, waiter);
      this.refWhileBusy();
    }
    this.child.send(m);
  }

  /** Listens for an utterance's partials and the process's end, sending nothing. */
  expect(id: number, waiter: Waiter): void {
    if (this.ended) return waiter.lost(this.ended);
    this.waiters.set(id, waiter);
    this.refWhileBusy();
  }

  /** Forgets an utterance's waiter (its stream was abandoned). */
  forget(id: number): void {
    this.waiters.delete(id);
    this.refWhileBusy();
  }

  /** An idle engine does not keep its parent running: a process may end with its engine loaded. */
  private refWhileBusy(): void {
    const busy = this.loading || this.waiters.size > 0;
    if (busy) {
      this.child.ref();
      this.child.channel?.ref();
    } else {
      this.child.unref();
      this.child.channel?.unref();
    }
  }

  error(e: WireError): ProviderError {
    return new ProviderError(this.name, e.kind, e.message, {
      retryable: e.retryable,
      ...(e.status !== undefined && { status: e.status }),
    });
  }

  stop(): void {
    if (!this.ended) this.child.kill('SIGTERM');
  }
}
