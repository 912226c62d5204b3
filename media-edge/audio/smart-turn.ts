// Smart Turn v3.2 (BSD-2): the probability that the caller has finished their turn, from the
// sound of the last 8 s (intonation, trailing "um", a digit string cut short), not from words.
// Trained on 16 kHz speech: the phone line's 8 kHz is upsampled first. One ONNX session per
// process, shared by every call; runs are queued by onnxruntime, never on the frame loop.
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { resample } from '../../audio/resample';
import { ensureTurnModels } from '../../infra/install';
import { MEL_SAMPLE_RATE, N_FRAMES, N_MELS, WINDOW_SAMPLES, whisperLogMel } from './whisper-mel';

export const SMART_TURN_FILE = 'smart-turn-v3.2-cpu.onnx';

/** Tells whether a turn sounds finished; the audio is 8 kHz PCM ending at the silence onset. */
export interface TurnModel {
  readonly name: string;
  endOfTurnProbability(pcm8k: Int16Array): Promise<number>;
}

export class SmartTurnModel implements TurnModel {
  readonly name = 'smart-turn-v3.2';
  private session?: Promise<InferenceSession>;

  constructor(private readonly modelPath?: string) {}

  private load(): Promise<InferenceSession> {
    this.session ??= (async () => {
      const file = this.modelPath ?? path.join(await ensureTurnModels(), SMART_TURN_FILE);
      // Imported here: the native binding is loaded only by processes that use the model.
      const { InferenceSession } = await import('onnxruntime-node');
      return InferenceSession.create(file, {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      });
    })();
    this.session.catch(() => (this.session = undefined)); // a failed load may be retried
    return this.session;
  }

  async endOfTurnProbability(pcm8k: Int16Array): Promise<number> {
    const session = await this.load();
    // Only the last 8 s count; resample a little more so the filter has its edge.
    const keep = Math.min(pcm8k.length, WINDOW_SAMPLES / 2 + 160);
    const wide = resample(pcm8k.subarray(pcm8k.length - keep), 8000, MEL_SAMPLE_RATE);
    const audio = new Float32Array(wide.length);
    for (let i = 0; i < wide.length; i++) audio[i] = wide[i]! / 32768;
    const { Tensor } = await import('onnxruntime-node');
    const input = new Tensor('float32', whisperLogMel(audio), [1, N_MELS, N_FRAMES]);
    const out = await session.run({ [session.inputNames[0]!]: input });
    const p = out[session.outputNames[0]!]!.data as Float32Array;
    if (!(p.length >= 1 && Number.isFinite(p[0]))) throw new Error('smart-turn: no probability');
    return p[0]!;
  }
}
