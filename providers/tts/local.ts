// Offline speech from a Debian engine (flite by default, espeak-ng as an option), run as a
// child process per utterance: its WAV on stdout → 8 kHz → μ-law. Needs no network and
// no credentials, so the chain can always fall back to it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pcmToMulaw } from '../../audio/mulaw';
import { resample } from '../../audio/resample';
import { decodeWav } from '../../audio/wav';
import type { HealthCheck } from '../health-check';
import { ProviderError } from '../provider-error';
import type { SpeechAudio, TextToSpeech } from './port';

export type LocalEngine = 'flite' | 'espeak-ng';

export interface LocalTtsOptions {
  engine: LocalEngine;
  /** The executable, when it is not the engine's name on PATH. */
  command?: string;
  /** flite: kal, kal16, awb, rms, slt (or a .flitevox path); espeak-ng: en-us, en-gb, en-us+f3 … */
  voice: string;
  /** espeak-ng words per minute; flite speaks at its voice's own pace. */
  wordsPerMinute: number;
  /** Leading silence kept before the first voiced sample (flite pads ≈ 230 ms). */
  leadInMs: number;
  /** Trailing silence kept after the last voiced sample. */
  tailMs: number;
  /** flite: its duration_stretch (below 1 speaks faster); unset, the voice's own pace. */
  durationStretch?: number;
}

/**
 * flite's rms: of flite (kal, slt, rms, awb) and espeak-ng, the voice pocketsphinx understands
 * best on 8 kHz μ-law (≈ 9 % WER vs 15 % kal, 42 % slt, 81 % espeak-ng), at ≈ 100 ms per
 * 16-word sentence. `kal` is the fast option (≈ 25 ms, native 8 kHz, more robotic).
 */
export const LOCAL_TTS_DEFAULTS: LocalTtsOptions = {
  engine: 'flite',
  voice: 'rms',
  wordsPerMinute: 160,
  leadInMs: 20,
  tailMs: 100,
};

const RATE = 8000;
/** Longer output than this is a runaway engine, not speech (≈ 10 min at 22 kHz). */
const MAX_WAV_BYTES = 32 * 1024 * 1024;
/** |sample| at or below this counts as silence when trimming (≈ −54 dBFS). */
const SILENCE_LEVEL = 64;

export class LocalTts implements TextToSpeech, HealthCheck {
  readonly name = 'local';
  readonly voice: string;
  private readonly opts: LocalTtsOptions;

  constructor(options: Partial<LocalTtsOptions> = {}) {
    this.opts = { ...LOCAL_TTS_DEFAULTS, ...options };
    if (options.engine === 'espeak-ng' && !options.voice) this.opts.voice = 'en-us';
    this.voice = `${this.opts.engine}:${this.opts.voice}`;
  }

  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    if (!text.trim()) throw new ProviderError(this.name, 'bad_input', 'local tts: nothing to say');
    const wav = await this.run(text, opts.signal);
    let pcm: Int16Array;
    let rate: number;
    try {
      const decoded = decodeWav(wav);
      pcm = decoded.channels[0]!;
      rate = decoded.sampleRate;
    } catch (err) {
      throw new ProviderError(
        this.name,
        'unavailable',
        `${this.opts.engine}: unreadable output: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const line = trimSilence(rate === RATE ? pcm : resample(pcm, rate, RATE), this.opts);
    if (line.length === 0) {
      throw new ProviderError(this.name, 'unavailable', `${this.opts.engine}: produced no audio`);
    }
    const mulaw = pcmToMulaw(line);
    return { mulaw, durationMs: mulaw.length / 8, provider: this.name, voice: this.voice };
  }

  /**
   * The health check: the engine runs and has the voice (flite lists its voices; espeak-ng
   * prints its version), a few ms of one process and no speech, so a missing or broken
   * engine opens the breaker before callers find it.
   */
  async check(signal: AbortSignal): Promise<void> {
    if (this.opts.engine === 'espeak-ng') {
      await spawnEngine(this.opts.command ?? 'espeak-ng', ['--version'], '', signal);
      return;
    }
    const listed = (
      await spawnEngine(this.opts.command ?? 'flite', ['-lv'], '', signal)
    ).toString();
    const named = !this.opts.voice.includes('/');
    if (named && !listed.split(/\s+/).includes(this.opts.voice))
      throw engineFailure(`flite has no voice "${this.opts.voice}" (${listed.trim()})`);
  }

  private async run(text: string, signal: AbortSignal | undefined): Promise<Buffer> {
    if (this.opts.engine === 'espeak-ng') {
      // Text on stdin, so nothing the caller says can be read as an option.
      const args = ['--stdout', '-v', this.opts.voice, '-s', String(this.opts.wordsPerMinute)];
      return spawnEngine(this.opts.command ?? 'espeak-ng', args, text, signal);
    }
    // flite writes WAV only to a named file (Node's stdio is a socket, not /dev/stdout-able);
    // -t takes the next argument as text even when it starts with '-'.
    const dir = await mkdtemp(path.join(tmpdir(), 'flite-'));
    try {
      const file = path.join(dir, 'out.wav');
      const stretch =
        this.opts.durationStretch === undefined
          ? []
          : ['--setf', `duration_stretch=${this.opts.durationStretch}`];
      await spawnEngine(
        this.opts.command ?? 'flite',
        ['-voice', this.opts.voice, ...stretch, '-t', text, '-o', file],
        '',
        signal,
      );
      return await readFile(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Runs an engine to completion; SIGKILL on abort; resolves with its stdout. */
function spawnEngine(
  cmd: string,
  args: string[],
  stdin: string,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let errText = '';
    let settled = false;
    const settle = (err: Error | undefined, value?: Buffer) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = () => {
      child.kill('SIGKILL');
      settle(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => settle(engineFailure(`${cmd}: ${err.message}`, err)));
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > MAX_WAV_BYTES) {
        child.kill('SIGKILL');
        settle(engineFailure(`${cmd}: output over ${MAX_WAV_BYTES} bytes`));
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errText.length < 2000) errText += chunk.toString();
    });
    child.on('close', (code, sig) => {
      if (code === 0) return settle(undefined, Buffer.concat(out));
      const why = errText.trim().split('\n').pop() || `exit ${code ?? sig}`;
      settle(engineFailure(`${cmd} failed: ${why}`));
    });
    child.stdin.on('error', () => undefined); // an engine that exits early closes the pipe
    child.stdin.end(stdin);
  });
}
/** A missing, crashed or runaway engine: the next provider may do better. */
function engineFailure(message: string, cause?: Error): ProviderError {
  return new ProviderError('local', 'unavailable', message, { cause });
}

function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const err = new Error('synthesis aborted');
  err.name = 'AbortError';
  return err;
}

/** Cuts engine padding to leadInMs / tailMs: leading silence is latency the caller hears. */
export function trimSilence(
  pcm: Int16Array,
  opts: Pick<LocalTtsOptions, 'leadInMs' | 'tailMs'>,
): Int16Array {
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first]!) <= SILENCE_LEVEL) first++;
  if (first === pcm.length) return pcm.subarray(0, 0);
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last]!) <= SILENCE_LEVEL) last--;
  const start = Math.max(0, first - Math.round((opts.leadInMs * RATE) / 1000));
  const end = Math.min(pcm.length, last + 1 + Math.round((opts.tailMs * RATE) / 1000));
  return pcm.subarray(start, end);
}
