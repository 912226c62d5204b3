// Silero VAD v6 (MIT) at the phone line's native 8 kHz: a speech probability per 256-sample
// chunk (32 ms), with 32 samples of the previous chunk as context and a recurrent state.
// ONNX runs are asynchronous while Vad.isSpeech is called synchronously on the frame loop, so
// each 20 ms frame gets the decision of the newest chunk scored so far (one chunk behind at
// most: inference takes well under a frame). Hysteresis as Silero's own iterator: speech
// starts at p ≥ threshold and stops below threshold − 0.15.
import path from 'node:path';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { frameSamples } from '../../audio/frames';
import { ensureTurnModels } from '../../infra/install';
import type { Vad } from './vad';

export const SILERO_FILE = 'silero_vad.onnx';
const RATE = 8000;
const FRAME = frameSamples(RATE);
const CHUNK = 256;
const CONTEXT = 32;

interface Loaded {
  session: InferenceSession;
  Tensor: typeof OrtTensor;
}

let shared: Promise<Loaded> | undefined;

function loadSilero(modelPath?: string): Promise<Loaded> {
  const load = async (): Promise<Loaded> => {
    const file = modelPath ?? path.join(await ensureTurnModels(), SILERO_FILE);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    return { session, Tensor: ort.Tensor };
  };
  if (modelPath) return load();
  shared ??= load();
  shared.catch(() => (shared = undefined));
  return shared;
}

export interface SileroOptions {
  /** Speech probability that starts speech (default 0.5). */
  threshold?: number;
  modelPath?: string;
}

export class SileroVad implements Vad {
  private pending = new Float32Array(CHUNK);
  private filled = 0;
  private context = new Float32Array(CONTEXT);
  private state: Float32Array = new Float32Array(2 * 128);
  private speaking = false;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Bumped by reset(), so a run started before it does not touch the new state. */
  private epoch = 0;
  /** The first inference error; isSpeech throws it so the caller sees a broken model. */
  private failure?: Error;
  readonly threshold: number;

  private constructor(
    private readonly m: Loaded,
    opts: SileroOptions,
  ) {
    this.threshold = opts.threshold ?? 0.5;
  }

  static async create(opts: SileroOptions = {}): Promise<SileroVad> {
    return new SileroVad(await loadSilero(opts.modelPath), opts);
  }

  isSpeech(frame: Int16Array): boolean {
    if (this.closed) throw new Error('Vad is closed');
    if (this.failure) throw this.failure;
    if (frame.length !== FRAME) {
      throw new RangeError(`VAD frames are ${FRAME} samples (20 ms at 8 kHz), got ${frame.length}`);
    }
    for (const s of frame) {
      this.pending[this.filled++] = s / 32768;
      if (this.filled === CHUNK) {
        const input = new Float32Array(CONTEXT + CHUNK);
        input.set(this.context);
        input.set(this.pending, CONTEXT);
        this.context = this.pending.slice(CHUNK - CONTEXT);
        this.filled = 0;
        const epoch = this.epoch;
        this.chain = this.chain.then(() => this.score(input, epoch));
      }
    }
    return this.speaking;
  }

  /** Resolves when every chunk handed over so far has been scored (tests, offline runs). */
  settled(): Promise<void> {
    return this.chain;
  }

  private async score(input: Float32Array, epoch: number): Promise<void> {
    if (this.closed || this.failure || epoch !== this.epoch) return;
    const { session, Tensor } = this.m;
    try {
      const out = await session.run({
        input: new Tensor('float32', input, [1, input.length]),
        state: new Tensor('float32', this.state, [2, 1, 128]),
        sr: new Tensor('int64', BigInt64Array.from([BigInt(RATE)]), []),
      });
      if (epoch !== this.epoch) return;
      this.state = out.stateN!.data as Float32Array;
      const p = (out.output!.data as Float32Array)[0]!;
      if (p >= this.threshold) this.speaking = true;
      else if (p < this.threshold - 0.15) this.speaking = false;
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
    }
  }

  reset(): void {
    if (this.closed) throw new Error('Vad is closed');
    this.epoch++;
    this.filled = 0;
    this.context = new Float32Array(CONTEXT);
    this.state = new Float32Array(2 * 128);
    this.speaking = false;
  }

  close(): void {
    this.closed = true; // the session is shared by the process's calls
  }
}
