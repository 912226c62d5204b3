// A Piper voice model on onnxruntime-node, loaded once per model file and shared by every
// adapter in the process, with a bound on how many clauses run at once: the model is
// CPU-bound, so more parallel runs than cores only make every clause later.
import fs from 'node:fs/promises';
import type { InferenceSession } from 'onnxruntime-node';
import { phonemeTable, type PhonemeTable } from './piper-phonemes';

interface VoiceConfig {
  audio: { sample_rate: number };
  espeak: { voice: string };
  inference: { noise_scale: number; length_scale: number; noise_w: number };
  phoneme_id_map: Record<string, number[]>;
}

export class PiperVoice {
  readonly sampleRate: number;
  readonly espeakVoice: string;
  readonly table: PhonemeTable;
  private readonly scales: Float32Array;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  private constructor(
    private readonly session: InferenceSession,
    config: VoiceConfig,
    private readonly maxConcurrent: number,
  ) {
    this.sampleRate = config.audio.sample_rate;
    this.espeakVoice = config.espeak.voice;
    this.table = phonemeTable(config.phoneme_id_map);
    const { noise_scale, length_scale, noise_w } = config.inference;
    this.scales = Float32Array.from([noise_scale, length_scale, noise_w]);
  }

  private static readonly loaded = new Map<string, Promise<PiperVoice>>();

  /** The voice at `model` (its config beside it, `.onnx.json`), loaded on first use. */
  static load(model: string, maxConcurrent: number): Promise<PiperVoice> {
    const key = `${model}#${maxConcurrent}`;
    let voice = PiperVoice.loaded.get(key);
    if (!voice) {
      voice = (async () => {
        const config = JSON.parse(await fs.readFile(`${model}.json`, 'utf8')) as VoiceConfig;
        // Imported here: the native binding is loaded only by processes that speak with it.
        const ort = await import('onnxruntime-node');
        const session = await ort.InferenceSession.create(model, {
          graphOptimizationLevel: 'all',
          intraOpNumThreads: 1,
          interOpNumThreads: 1,
          executionMode: 'sequential',
        });
        return new PiperVoice(session, config, maxConcurrent);
      })();
      voice.catch(() => PiperVoice.loaded.delete(key)); // a failed load may be retried
      PiperVoice.loaded.set(key, voice);
    }
    return voice;
  }

  /** Float samples at `sampleRate` for one clause's phoneme ids. */
  async speak(ids: number[]): Promise<Float32Array> {
    await this.acquire();
    try {
      const { Tensor } = await import('onnxruntime-node');
      const result = await this.session.run({
        input: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        input_lengths: new Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
        scales: new Tensor('float32', this.scales, [3]),
      });
      return result[this.session.outputNames[0]!]!.data as Float32Array;
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next)
      next(); // the slot passes straight on
    else this.running--;
  }
}
