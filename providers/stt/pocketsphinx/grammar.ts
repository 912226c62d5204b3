// What the decoder listens for: the hint phrases of the dialogue state as a JSGF grammar
// (each phrase an alternative inside a loop that also takes single words from a small
// call-domain vocabulary, so words around a phrase and off-list requests come out as
// words), as keyphrases to spot, or the generic dictation LM.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadNative } from './ffi';

export type PocketsphinxMode = 'auto' | 'grammar' | 'keyword' | 'dictation';

/**
 * Words a caller says around and instead of the expected phrases: function words, the call
 * domain, numbers (account numbers, amounts). Every word must be in cmudict.
 */
export const CALL_VOCABULARY = (
  'a about after again all am an and any anything are as at be been bye can cancel card ' +
  "check could do does done don't for from get go good have hello help hi how i i'm in is it " +
  'just know let like me more much my need no not now of off ok okay on one or other please ' +
  "right same say see so some sorry still sure tell thank thanks that that's the then there " +
  'this to today too up want was we what when where which who why will with would yes yeah ' +
  'you your account amount balance bill due money owe pay payment paid month agent person ' +
  'human someone representative operator speak talk call number phone service ' +
  'zero oh two three four five six seven eight nine ten eleven twelve twenty thirty forty ' +
  'fifty sixty seventy eighty ninety hundred thousand dollars dollar cents'
)
  .split(' ')
  .filter(Boolean);

/** Lower-case words, apostrophes kept (cmudict has "that's", "don't"), digits spelled. */
export function normalizeWords(text: string): string[] {
  const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  return text
    .toLowerCase()
    .replace(/[0-9]/g, (d) => ` ${DIGITS[Number(d)]} `)
    .replace(/[^a-z' ]/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}

/**
 * A JSGF grammar: a loop of items, each a whole hint phrase or one vocabulary word. Phrases
 * are word sequences already known to the dictionary. (Alternative weights were measured
 * and made no difference, so there are none.)
 */
export function buildJsgf(phrases: string[][], vocabulary: string[]): string {
  const items = [...phrases.map((p) => p.join(' ')), ...vocabulary];
  if (!items.length) throw new RangeError('a grammar needs at least one phrase or word');
  return ['#JSGF V1.0;', 'grammar hints;', `public <utt> = (${items.join(' | ')})+;`].join('\n');
}

export interface Search {
  mode: 'grammar' | 'keyword' | 'dictation';
  name: string;
  build?: (ps: unknown) => number;
  /** Grammar mode: the wider search that re-decodes the utterance when no phrase path fits. */
  second?: { name: string; build: (ps: unknown) => number };
}

export interface SearchOptions {
  mode: PocketsphinxMode;
  vocabulary: string[];
  /** Keyword mode: detection threshold exponent per word (threshold 1e-(base + perWord·n)). */
  keywordThreshold: { base: number; perWord: number };
}

/** The search for one utterance's hints; dictionary look-ups are shared (same dictionary). */
export class SearchBuilder {
  private readonly known = new Map<string, boolean>();

  constructor(private readonly opts: SearchOptions) {}

  searchFor(decoder: unknown, hints: string[] = []): Search {
    const mode =
      this.opts.mode === 'auto' ? (hints.length ? 'grammar' : 'dictation') : this.opts.mode;
    if (mode === 'dictation') return { mode, name: 'lm' };
    const phrases = this.knownPhrases(decoder, hints);
    if (mode === 'keyword') {
      if (!phrases.length) return { mode: 'dictation', name: 'lm' };
      const { base, perWord } = this.opts.keywordThreshold;
      const body = phrases
        .map((p) => `${p.join(' ')} /1e-${Math.min(60, base + perWord * p.length)}/`)
        .join('\n');
      return {
        mode,
        name: `k${hash(body)}`,
        build: (ps) => {
          // ps_set_kws reads a file and nothing else; it is read at once and removed.
          const file = path.join(tmpdir(), `kws-${randomBytes(6).toString('hex')}.txt`);
          writeFileSync(file, `${body}\n`);
          try {
            return loadNative().setKws(ps, 'k' + hash(body), file);
          } finally {
            rmSync(file, { force: true });
          }
        },
      };
    }
    const vocabulary = this.opts.vocabulary.filter((w) => this.knownPhrases(decoder, [w]).length);
    const grammar = (p: string[][], v: string[]) => {
      const jsgf = buildJsgf(p, v);
      const name = `g${hash(jsgf)}`;
      return { name, build: (ps: unknown) => loadNative().setJsgf(ps, name, jsgf) };
    };
    if (!phrases.length) return { mode, ...grammar([], vocabulary) };
    const strict = grammar(phrases, []);
    return {
      mode,
      ...strict,
      second: vocabulary.length ? grammar(phrases, vocabulary) : undefined,
    };
  }

  /** Hint phrases as dictionary words; phrases with an unknown word are left out. */
  private knownPhrases(decoder: unknown, hints: string[]): string[][] {
    const n = loadNative();
    const isKnown = (w: string) => {
      let k = this.known.get(w);
      if (k === undefined) {
        k = n.hasWord(decoder, w);
        this.known.set(w, k);
      }
      return k;
    };
    const seen = new Set<string>();
    const out: string[][] = [];
    for (const h of hints) {
      const words = normalizeWords(h);
      const key = words.join(' ');
      if (!words.length || seen.has(key) || !words.every(isKnown)) continue;
      seen.add(key);
      out.push(words);
    }
    return out;
  }
}

function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}
