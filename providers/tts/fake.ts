// A TextToSpeech for tests: fixed μ-law per voice and text (no engine), a count of what it
// was asked, and told to fail with a given ProviderError kind or to take its time.
import type { ProviderErrorKind } from '../../contracts/providers';
import { pause } from '../pause';
import { ProviderError } from '../provider-error';
import type { SpeechAudio, TextToSpeech } from './port';

export interface FakeTextToSpeechOptions {
  name?: string;
  voice?: string;
  /** Bytes of audio per answer (8 per ms). */
  bytes?: number;
  /** Every synthesis fails with this kind (after the delay). */
  fail?: ProviderErrorKind;
  /** Before answering or failing; Infinity: never answers (until aborted). */
  delayMs?: number;
}

export class FakeTextToSpeech implements TextToSpeech {
  readonly name: string;
  readonly voice: string;
  /** The texts it was asked for, in order (aborted ones included). */
  readonly texts: string[] = [];
  fail: ProviderErrorKind | undefined;
  delayMs: number;
  private readonly bytes: number;

  constructor(opts: FakeTextToSpeechOptions = {}) {
    this.name = opts.name ?? 'fake';
    this.voice = opts.voice ?? `${this.name}:voice`;
    this.bytes = opts.bytes ?? 4_000;
    this.fail = opts.fail;
    this.delayMs = opts.delayMs ?? 0;
  }

  get calls(): number {
    return this.texts.length;
  }

  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    opts.signal?.throwIfAborted();
    this.texts.push(text);
    await pause(this.delayMs, opts.signal);
    opts.signal?.throwIfAborted();
    if (this.fail) throw new ProviderError(this.name, this.fail, `${this.name}: told to fail`);
    // A byte pattern of voice and text: two voices' (or texts') audio differ.
    const mulaw = Buffer.alloc(this.bytes);
    for (let i = 0; i < mulaw.length; i++) {
      mulaw[i] = (i * 7 + this.voice.length + text.length) & 0xff;
    }
    return { mulaw, durationMs: this.bytes / 8, provider: this.name, voice: this.voice };
  }
}
