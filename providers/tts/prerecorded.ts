// Prerecorded prompts: the fixed messages, synthesized at build time by
// scripts/build-prompts.ts and shipped in assets/prompts/ as 8 kHz μ-law. The chain's
// last resort: it needs no process, network or credentials. Exact text only.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ProviderError } from '../provider-error';
import type { SpeechAudio, TextToSpeech } from './port';

/** Said when no provider can voice a reply; shipped with the other prompts. */
export const APOLOGY = "I'm sorry, I'm having trouble right now. Please hold for an agent.";

/** Said instead of a sentence no link can voice (free text while every synthesizer is down);
 * the sentence is owed to the caller by text message. */
export const UNSAYABLE_APOLOGY =
  "I'm sorry, I can't read that out right now. I'll send it to you by text message.";

/** The edge says these while a turn's reply is slow to come (media-edge/call/hold-line.ts):
 * prerecorded, so the caller is not left in silence even when no synthesizer is up. */
export const HOLD_LINE = 'One moment, please.';
export const STILL_HOLDING = "Thanks for holding, I'm still working on it.";

export const PROMPTS_DIR = path.resolve(__dirname, '../../assets/prompts');
export const PROMPTS_INDEX = 'index.json';

/** assets/prompts/index.json, written by scripts/build-prompts.ts. */
export interface PromptIndex {
  /** The engine voice that spoke them (LocalTts.voice). */
  voice: string;
  sampleRate: 8000;
  encoding: 'mulaw';
  /** Exact text → file name in the same directory. */
  prompts: Record<string, string>;
}

/** Case and whitespace do not make another prompt; wording and punctuation do. */
export function normalizePromptText(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

export class PrerecordedTts implements TextToSpeech {
  readonly name = 'prerecorded';
  readonly voice: string;
  private readonly dir: string;
  private readonly files = new Map<string, string>();
  /** Prompts are few and small (≈ 30 KB each): keep each in memory after its first use. */
  private readonly loaded = new Map<string, Buffer>();

  constructor(options: { dir?: string } = {}) {
    this.dir = options.dir ?? PROMPTS_DIR;
    const index = JSON.parse(
      readFileSync(path.join(this.dir, PROMPTS_INDEX), 'utf8'),
    ) as PromptIndex;
    if (index.encoding !== 'mulaw' || index.sampleRate !== 8000) {
      throw new Error(`${this.dir}: prompts must be 8 kHz μ-law`);
    }
    this.voice = `prerecorded:${index.voice}`;
    for (const [text, file] of Object.entries(index.prompts)) {
      this.files.set(normalizePromptText(text), path.basename(file));
    }
  }

  has(text: string): boolean {
    return this.files.has(normalizePromptText(text));
  }

  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    opts.signal?.throwIfAborted();
    const key = normalizePromptText(text);
    const file = this.files.get(key);
    // The text itself is left out: replies can carry names and amounts.
    if (!file)
      throw new ProviderError(this.name, 'not_found', 'no prerecorded prompt for this text');
    let mulaw = this.loaded.get(key);
    if (!mulaw) {
      try {
        mulaw = await readFile(path.join(this.dir, file));
      } catch (err) {
        throw new ProviderError(this.name, 'unavailable', `prerecorded: ${file} unreadable`, {
          cause: err,
        });
      }
      this.loaded.set(key, mulaw);
    }
    // A copy: playout may slice and pad it; the cached prompt must stay intact.
    return {
      mulaw: Buffer.from(mulaw),
      durationMs: mulaw.length / 8,
      provider: this.name,
      voice: this.voice,
    };
  }
}
