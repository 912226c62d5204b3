// Piper's neural voice (en_US-joe-medium by default) in process: the ONNX model on
// onnxruntime-node, phonemes from espeak-ng, a clause at a time so the first audio is ready
// after one clause, not the whole sentence. The Piper engine itself (GPL-3) is not used.
import path from 'node:path';
import { pcmToMulaw } from '../../audio/mulaw';
import { resample } from '../../audio/resample';
import { PIPER_VOICE_NAME, piperVoiceDir } from '../../infra/install';
import { ProviderError } from '../provider-error';
import { espeakIpa, phonemeIds, splitClauses, type Clause } from './piper-phonemes';
import { PiperVoice } from './piper-voice';
import type { SpeechAudio, TextToSpeech } from './port';
import { trimSilence } from './local';

export interface PiperTtsOptions {
  /** The .onnx model; its .onnx.json sits beside it. Default: the installed joe voice. */
  model: string;
  /** The espeak-ng executable. */
  espeakCommand: string;
  /** Clauses synthesized at once in this process (across adapters sharing the model). */
  maxConcurrent: number;
}

const RATE = 8000;
/** Silence kept after a clause, by how it ends: a comma is a breath, a full stop a pause. */
const TAIL_MS: Record<string, number> = { ',': 120, ';': 180, ':': 180 };
const SENTENCE_TAIL_MS = 250;
const LAST_TAIL_MS = 100;

export class PiperTts implements TextToSpeech {
  readonly name = 'piper';
  readonly voice: string;
  private readonly opts: PiperTtsOptions;

  constructor(options: Partial<PiperTtsOptions> = {}) {
    this.opts = {
      model: path.join(piperVoiceDir(), `${PIPER_VOICE_NAME}.onnx`),
      espeakCommand: 'espeak-ng',
      maxConcurrent: 1,
      ...options,
    };
    this.voice = `piper:${path.basename(this.opts.model, '.onnx')}`;
  }

  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    const parts: Buffer[] = [];
    for await (const clause of this.clauses(text, opts)) parts.push(clause);
    const mulaw = Buffer.concat(parts);
    return { mulaw, durationMs: mulaw.length / 8, provider: this.name, voice: this.voice };
  }

  /**
   * The text's 8 kHz μ-law a clause at a time, each yielded as soon as it is synthesized
   * (the next clause's phonemes are prepared meanwhile). Throws only ProviderError, or the
   * abort reason when `signal` fires.
   */
  async *clauses(text: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<Buffer> {
    const { signal } = opts;
    if (signal?.aborted) throw abortError(signal);
    const clauses = splitClauses(text);
    if (clauses.length === 0)
      throw new ProviderError(this.name, 'bad_input', 'piper: nothing to say');
    const voice = await this.guard(
      PiperVoice.load(this.opts.model, this.opts.maxConcurrent),
      signal,
    );
    let next = this.phonemes(voice, clauses[0]!, signal);
    for (let i = 0; i < clauses.length; i++) {
      const ids = await this.guard(next, signal);
      if (i + 1 < clauses.length) next = this.phonemes(voice, clauses[i + 1]!, signal);
      const audio = await this.guard(voice.speak(ids), signal);
      const last = i === clauses.length - 1;
      yield this.toLine(audio, voice.sampleRate, last ? LAST_TAIL_MS : tailFor(clauses[i]!));
    }
  }

  private phonemes(voice: PiperVoice, clause: Clause, signal?: AbortSignal): Promise<number[]> {
    const ipa = espeakIpa(clause, {
      command: this.opts.espeakCommand,
      voice: voice.espeakVoice,
      signal,
    });
    const ids = ipa.then((p) => phonemeIds(p, voice.table));
    ids.catch(() => undefined); // awaited later; an abort meanwhile must not go unhandled
    return ids;
  }

  private toLine(audio: Float32Array, rate: number, tailMs: number): Buffer {
    const pcm = new Int16Array(audio.length);
    for (let i = 0; i < audio.length; i++) {
      pcm[i] = Math.round(Math.max(-1, Math.min(1, audio[i]!)) * 32767);
    }
    const line = trimSilence(rate === RATE ? pcm : resample(pcm, rate, RATE), {
      leadInMs: 20,
      tailMs,
    });
    if (line.length === 0)
      throw new ProviderError(this.name, 'unavailable', 'piper: produced no audio');
    return pcmToMulaw(line);
  }

  /** Awaits `work`, rejecting at once on abort; any other failure becomes a ProviderError. */
  private async guard<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      onAbort = () => reject(abortError(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      return await Promise.race([work, aborted]);
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      if (err instanceof ProviderError) throw err;
      // A missing model, espeak-ng or a failed run: the next provider in the chain may serve.
      throw new ProviderError(this.name, 'unavailable', `piper: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }
}

const tailFor = (c: Clause) => TAIL_MS[c.end] ?? SENTENCE_TAIL_MS;

function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const err = new Error('synthesis aborted');
  err.name = 'AbortError';
  return err;
}
