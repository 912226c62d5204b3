// A local recognizer in a process of its own, itself a SpeechToText. pocketsphinx and
// Moonshine run native code in the process that loads them; a fault there (an assertion's
// abort, a segfault) would end the edge and every call on it. Here it ends the engine's
// process: the utterances it held fail as unavailable (the fallback chain serves them, or
// the caller is asked to repeat), ops see one log line, and a new process is started — at
// once after a first fault, then after a growing pause while it keeps failing.
import os from 'node:os';
import { ProviderError } from '../../provider-error';
import type {
  PcmAudio,
  SttStream,
  SttStreamOptions,
  Transcript,
  TranscribeOptions,
  WarmableSpeechToText,
} from '../port';
import { EngineChild } from './engine-child';
import type { EngineName, EngineSettings, FromEngine } from './protocol';

export type { EngineName } from './protocol';

export interface EngineProcessOptions extends EngineSettings {
  log?: (line: string) => void;
  /** Pauses before a new process after faults in a row (the last one repeats). */
  restartDelaysMs?: number[];
  /** A process that served this long before its fault resets the pauses. */
  stableAfterMs?: number;
  /** Niceness added to the edge's own, capped at 19 (default: the engine's, ENGINE_NICENESS). */
  niceness?: number;
}

/**
 * Whole-utterance engines run below the edge. Moonshine and Whisper read an utterance in
 * one burst of 50–250 ms of CPU; callers' pauses coincide, and such bursts starved the edge's
 * frames, the streaming grammar and the workflow's turn, each a few ms of work (measured in
 * docs/benchmarks.md, Voice to voice). At a lower priority the bursts still take every idle
 * cycle; the short work goes first. The grammar decodes as the audio arrives: it stays.
 */
export const ENGINE_NICENESS: Record<EngineName, number> = {
  pocketsphinx: 0,
  moonshine: 10,
  whisper: 10,
};

const RESTART_DELAYS_MS = [0, 1_000, 5_000, 30_000];

export class EngineProcessSpeechToText implements WarmableSpeechToText {
  private child?: EngineChild;
  private startedAt = 0;
  private faultsInARow = 0;
  private restartTimer?: NodeJS.Timeout;
  private lastFault?: ProviderError;
  private disposed = false;
  private nextId = 1;
  private streams = 0;
  private restartCount = 0;
  private awaited = 0;

  constructor(
    readonly name: EngineName,
    private readonly opts: EngineProcessOptions = {},
  ) {}

  /** The engine process's id, while one runs. */
  get pid(): number | undefined {
    return this.child?.ended ? undefined : this.child?.pid;
  }

  /** Utterances open, and processes started after a fault. */
  get stats(): { streams: number; restarts: number } {
    return { streams: this.streams, restarts: this.restartCount };
  }

  /** Utterances whose reading has been asked for and not yet answered. */
  get readingsAwaited(): number {
    return this.awaited;
  }

  /** Starts the process (it loads the engine) ahead of the first utterance. */
  warm(): void {
    this.running();
  }

  /** Resolves once the engine has loaded; rejects with why it could not. */
  async ready(): Promise<void> {
    await this.running().ready;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.restartTimer);
    this.child?.stop();
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    if (opts.signal?.aborted) throw new ProviderError(this.name, 'aborted', 'aborted');
    const child = this.running();
    const id = this.nextId++;
    const { sampleRate, signal, ...asked } = opts;
    this.streams++;
    await new Promise<void>((resolve, reject) => {
      child.send(
        { op: 'open', id, sampleRate, asked: known(asked) },
        {
          settle: (m) => (m.op === 'error' ? reject(child.error(m.error)) : resolve()),
          lost: reject,
        },
      );
    }).catch((err: unknown) => {
      this.streams--;
      throw err;
    });
    const stream = new EngineProcessStream(child, id, () => this.streams--, this.awaiting);
    signal?.addEventListener('abort', () => stream.abort(), { once: true });
    return stream;
  }

  async transcribe(audio: PcmAudio, opts: TranscribeOptions = {}): Promise<Transcript> {
    const child = this.running();
    return this.awaiting(
      new Promise<Transcript>((resolve, reject) =>
        child.send(
          {
            op: 'transcribe',
            id: this.nextId++,
            audio: { ...audio, samples: owned(audio.samples) },
            asked: known(opts),
          },
          { settle: (m) => settleResult(child, m, resolve, reject), lost: reject },
        ),
      ),
    );
  }

  /** Counts a reading as awaited until it settles. */
  private readonly awaiting = <T>(reading: Promise<T>): Promise<T> => {
    this.awaited++;
    return reading.finally(() => this.awaited--);
  };

  /** The live process, started if none runs; an error while one is being waited for. */
  private running(): EngineChild {
    if (this.disposed)
      throw new ProviderError(this.name, 'unavailable', `${this.name} was disposed`);
    if (this.child && !this.child.ended) return this.child;
    if (this.restartTimer) {
      throw new ProviderError(
        this.name,
        'unavailable',
        `${this.name} is restarting after its process ended: ${this.lastFault?.message}`,
      );
    }
    this.startedAt = Date.now();
    this.child = new EngineChild(this.name, settingsOf(this.opts), (c, waiting) =>
      this.ended(c, waiting),
    );
    this.deprioritize(this.child);
    return this.child;
  }

  /** Lowers the process's priority below the edge's; failing that, it runs as it is. */
  private deprioritize(child: EngineChild): void {
    const niceness = this.opts.niceness ?? ENGINE_NICENESS[this.name];
    if (!niceness || child.pid === undefined) return;
    try {
      os.setPriority(child.pid, Math.min(19, os.getPriority() + niceness));
    } catch (err) {
      this.opts.log?.(`stt: ${this.name} runs at the edge's priority: ${(err as Error).message}`);
    }
  }

  private ended(child: EngineChild, waiting: number): void {
    if (this.disposed || child !== this.child) return;
    const served = Date.now() - this.startedAt;
    if (served >= (this.opts.stableAfterMs ?? 60_000)) this.faultsInARow = 0;
    const delays = this.opts.restartDelaysMs ?? RESTART_DELAYS_MS;
    const delay = delays[Math.min(this.faultsInARow, delays.length - 1)]!;
    this.faultsInARow++;
    this.lastFault = child.ended;
    this.opts.log?.(
      `stt: ${child.ended?.message} after ${(served / 1000).toFixed(1)} s, ` +
        `${waiting} request(s) in flight failed as unavailable; a new process in ${delay / 1000} s`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.disposed) return;
      this.restartCount++;
      this.running();
    }, delay);
    this.restartTimer.unref();
  }
}

/** One utterance in the engine's process: its audio sent as it comes, its answer awaited. */
class EngineProcessStream implements SttStream {
  onPartial?: (text: string) => void;
  private state: 'open' | 'finishing' | 'done' | 'aborted' = 'open';
  private result?: Promise<Transcript>;
  /** Rejects the reading asked for: an abort while it is awaited settles it. */
  private dropReading?: (err: ProviderError) => void;
  private lost?: ProviderError;
  private closed = false;

  constructor(
    private readonly child: EngineChild,
    private readonly id: number,
    private readonly onClose: () => void,
    private readonly awaiting: <T>(reading: Promise<T>) => Promise<T>,
  ) {
    // Until finish(), only partials and the process's end concern this utterance.
    child.expect(id, {
      settle: () => undefined,
      partial: (text) => this.onPartial?.(text),
      lost: (err) => this.fail(err),
    });
  }

  write(pcm: Int16Array): void {
    if (this.state !== 'open' || this.lost || pcm.length === 0) return;
    this.child.send({ op: 'write', id: this.id, pcm: owned(pcm) });
  }

  finish(): Promise<Transcript> {
    if (this.result) return this.result;
    if (this.state === 'aborted') return Promise.reject(aborted(this.child));
    this.state = 'finishing';
    const reading = new Promise<Transcript>((resolve, reject) => {
      if (this.lost) return reject(this.lost);
      this.dropReading = reject;
      this.child.send(
        { op: 'finish', id: this.id },
        {
          settle: (m) => settleResult(this.child, m, resolve, reject),
          partial: (text) => this.onPartial?.(text),
          lost: reject,
        },
      );
    });
    this.result = this.awaiting(reading).finally(() => {
      this.state = 'done';
      this.close();
    });
    return this.result;
  }

  abort(): void {
    if (this.state === 'done' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.child.forget(this.id);
    this.child.send({ op: 'abort', id: this.id });
    this.dropReading?.(aborted(this.child));
    this.close();
  }

  private fail(err: ProviderError): void {
    this.lost = err;
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

function settleResult(
  child: EngineChild,
  m: Extract<FromEngine, { op: 'opened' | 'result' | 'error' }>,
  resolve: (t: Transcript) => void,
  reject: (e: ProviderError) => void,
): void {
  if (m.op === 'result') resolve(m.transcript);
  else if (m.op === 'error') reject(child.error(m.error));
}

function aborted(child: EngineChild): ProviderError {
  return child.error({ kind: 'aborted', message: 'stream was aborted', retryable: false });
}

/** Only the asked fields cross (no signal, no undefined). */
function known(asked: TranscribeOptions): TranscribeOptions {
  return Object.fromEntries(Object.entries(asked).filter(([, v]) => v !== undefined));
}

/** A view into a larger buffer would send the whole buffer: the samples alone cross. */
function owned(samples: Int16Array): Int16Array {
  return samples.byteLength === samples.buffer.byteLength ? samples : samples.slice();
}

function settingsOf(opts: EngineProcessOptions): EngineSettings {
  return opts.poolSize === undefined ? {} : { poolSize: opts.poolSize };
}
