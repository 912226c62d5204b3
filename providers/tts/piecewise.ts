// Speech assembled from prerecorded pieces: the chain's link for personal sentences when no
// synthesizer is up. The text is spelled out (amounts, dates, numbers: spoken-words.ts), cut
// into the longest known pieces (carrier phrases such as "your balance is", number words,
// ordinals, months, the words of the fixed prompts) and their audio joined with short gaps.
// The pieces are voiced by the local engine at build time (scripts/build-prompts.ts) and
// shipped in assets/pieces/ as 8 kHz μ-law, like the whole prompts. Text with a word that has
// no piece is refused (not_found), so the chain says what failed and the edge apologises.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { spliceMulaw, type SplicePart } from '../../audio/splice';
import { ProviderError } from '../provider-error';
import type { SpeechAudio, TextToSpeech } from './port';
import {
  LONG_PAUSE,
  NotSpeakableError,
  SHORT_PAUSE,
  isPause,
  spokenWords,
  type SpokenToken,
} from './spoken-words';

export const PIECES_DIR = path.resolve(__dirname, '../../assets/pieces');
export const PIECES_INDEX = 'index.json';

/** assets/pieces/index.json, written by scripts/build-prompts.ts. */
export interface PieceIndex {
  /** The engine voice that spoke them (LocalTts.voice). */
  voice: string;
  sampleRate: 8000;
  encoding: 'mulaw';
  /** Words of a piece, lower case, one space apart ("your balance is") → file name. */
  pieces: Record<string, string>;
}

/** Silence between pieces: within a clause, after a comma, between sentences. */
export const GAPS_MS = { word: 40, [SHORT_PAUSE]: 180, [LONG_PAUSE]: 350 } as const;

/** A piece's key: its spoken words, one space apart. */
export const pieceKey = (words: readonly string[]): string => words.join(' ');

/** How text is cut into pieces, or the words no piece covers. */
export type PiecePlan = { pieces: SpokenToken[] } | { missing: string[] };

/**
 * Cuts spoken tokens into the longest known pieces (a phrase never spans a pause).
 * Returns the piece keys and pauses in order, or every word no piece covers.
 */
export function planPieces(tokens: readonly SpokenToken[], known: ReadonlySet<string>): PiecePlan {
  const longest = Math.max(1, ...[...known].map((k) => k.split(' ').length));
  const pieces: SpokenToken[] = [];
  const missing: string[] = [];
  for (let i = 0; i < tokens.length;) {
    if (isPause(tokens[i])) {
      pieces.push(tokens[i++]!);
      continue;
    }
    let end = i + 1;
    while (end < tokens.length && !isPause(tokens[end]) && end - i < longest) end++;
    for (; end > i; end--) {
      const key = pieceKey(tokens.slice(i, end));
      if (known.has(key)) {
        pieces.push(key);
        break;
      }
    }
    if (end === i) missing.push(tokens[i]!);
    i = Math.max(end, i + 1);
  }
  return missing.length ? { missing } : { pieces };
}

const GREETED_NAME = /(^|[.!?]\s+)(Hello|Hi)\s+([A-Z][A-Za-z'-]*(?:\s+[A-Z][A-Za-z'-]*)?),/g;

/**
 * "Hello Ada, thanks for calling." → "Hello, thanks for calling." when the name has no piece:
 * a greeting loses nothing the caller needs without the name, and names cannot be
 * prerecorded. Any other unknown word still makes the text unsayable.
 */
export function withoutGreetedName(text: string, known: (word: string) => boolean): string {
  return text.replace(GREETED_NAME, (whole, before: string, hello: string, name: string) =>
    name
      .toLowerCase()
      .split(/[\s-]+/)
      .every(known)
      ? whole
      : `${before}${hello},`,
  );
}

export class PiecewiseSpeech implements TextToSpeech {
  readonly name = 'pieces';
  readonly voice: string;
  private readonly dir: string;
  private readonly files = new Map<string, string>();
  /** ≈ 250 pieces of a few KB each: kept in memory after their first use. */
  private readonly loaded = new Map<string, Buffer>();

  constructor(options: { dir?: string } = {}) {
    this.dir = options.dir ?? PIECES_DIR;
    const index = JSON.parse(readFileSync(path.join(this.dir, PIECES_INDEX), 'utf8')) as PieceIndex;
    if (index.encoding !== 'mulaw' || index.sampleRate !== 8000) {
      throw new Error(`${this.dir}: pieces must be 8 kHz μ-law`);
    }
    this.voice = `pieces:${index.voice}`;
    for (const [key, file] of Object.entries(index.pieces))
      this.files.set(key, path.basename(file));
  }

  /** The pieces for `text`, or why it cannot be said from them (no text in the reason). */
  plan(text: string): PiecePlan | { unspeakable: string } {
    let tokens: SpokenToken[];
    try {
      tokens = spokenWords(withoutGreetedName(text, (w) => this.files.has(w)));
    } catch (err) {
      if (err instanceof NotSpeakableError) return { unspeakable: err.message };
      throw err;
    }
    if (tokens.length === 0) return { unspeakable: 'no words to say' };
    return planPieces(tokens, new Set(this.files.keys()));
  }

  async synthesize(text: string, opts: { signal?: AbortSignal } = {}): Promise<SpeechAudio> {
    opts.signal?.throwIfAborted();
    const plan = this.plan(text);
    // The words themselves are left out: replies carry names and amounts.
    if ('unspeakable' in plan) throw new ProviderError(this.name, 'not_found', plan.unspeakable);
    if ('missing' in plan) {
      throw new ProviderError(
        this.name,
        'not_found',
        `no prerecorded piece for ${plan.missing.length} of the words`,
      );
    }
    const parts: SplicePart[] = [];
    for (const piece of plan.pieces) {
      if (isPause(piece)) {
        parts.push({ silenceMs: GAPS_MS[piece as keyof typeof GAPS_MS] });
        continue;
      }
      if (parts.length && Buffer.isBuffer(parts[parts.length - 1])) {
        parts.push({ silenceMs: GAPS_MS.word });
      }
      parts.push(await this.load(piece));
      opts.signal?.throwIfAborted();
    }
    const mulaw = spliceMulaw(parts);
    return { mulaw, durationMs: mulaw.length / 8, provider: this.name, voice: this.voice };
  }

  private async load(key: string): Promise<Buffer> {
    const cached = this.loaded.get(key);
    if (cached) return cached;
    const file = this.files.get(key)!;
    let mulaw: Buffer;
    try {
      mulaw = await readFile(path.join(this.dir, file));
    } catch (err) {
      throw new ProviderError(this.name, 'unavailable', `pieces: ${file} unreadable`, {
        cause: err,
      });
    }
    this.loaded.set(key, mulaw);
    return mulaw;
  }
}
