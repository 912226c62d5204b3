// The faithfulness check before an answer sentence is spoken: the sentence's claims, not
// only its figures, must be supported by a retrieved passage or the caller's account. The
// grounding check lets a fluent sentence without figures through whatever it says ("I'm a
// trusted and reliable agent", "Late fees are waived for all customers"); this one asks how
// close the sentence is to the best source sentence, in meaning (sentence embeddings) and in
// words (the share of its content words the best passage contains).
//
// A pleasantry ("Is there anything else I can help you with?") claims nothing and is allowed,
// but never as the whole answer: the answerer refuses an answer with no supported content.
// The threshold is chosen on a labelled set built from the knowledge base
// (testing/faithfulness-set.ts; `npx tsx bench/faithfulness.ts` prints the table).
import type { Embedder } from '../../providers/embeddings/port';
import { sentences } from './for-the-ear';

/** The combined score a content sentence needs; chosen on the labelled set (docs/answers.md). */
export const FAITHFULNESS_THRESHOLD = 0.78;
/** Weight of meaning (cosine) against words (content-word support) in the score. */
export const SEMANTIC_WEIGHT = 0.5;

export interface FaithfulnessResult {
  ok: boolean;
  /** The sentence claims nothing (a courtesy): allowed, but not an answer. */
  pleasantry: boolean;
  /** Cosine similarity to the closest source sentence (0 for a pleasantry). */
  semantic: number;
  /** Share of the sentence's content words found in the best-supporting passage. */
  lexical: number;
  score: number;
}

// Words that carry no claim, plus the company's name (every answer may say it), and the units
// and months of figures (the grounding check owns figures).
const STOP_WORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from as is are was were be been being ' +
    'it its it’s this that these those i i’m im you your you’re youre yours my me we our us ' +
    'do does did done can could would should will shall may might must what when where which ' +
    'who whom how why there here have has had not no yes so than then just about into out up ' +
    'down any all some much many very also too only more most other such own same each every ' +
    'get gets got let lets let’s please thank thanks sure okay ok well oh happy glad help ' +
    'anything something else today there’s that’s here’s one time day way thing things ' +
    'northwind power telecom company ' +
    'dollar dollars cent cents percent month months year years ' +
    'january february march april june july august september october november december'
  ).split(' '),
);

/** Content words, crudely stemmed ("fees" meets "fee", "waived" meets "waives"). */
export function contentWords(text: string): Set<string> {
  const words =
    text
      .toLowerCase()
      .replace(/'/g, '’')
      .match(/[\p{L}’]+/gu) ?? [];
  return new Set(
    words
      .filter((w) => w.length > 1 && !STOP_WORDS.has(w))
      .map((w) => w.replace(/’s$/, ''))
      .map(stem),
  );
}

const stem = (w: string): string =>
  w
    .replace(/ies$/, 'y')
    .replace(/(?<!s)s$/, '')
    .replace(/(?:ing|ed)$/, '')
    .replace(/e$/, '')
    .slice(0, 6);

// Courtesies said around an answer. A sentence left without content words once these are
// removed claims nothing.
const COURTESY =
  /\b(?:is there anything else(?: i can (?:help|do)(?: you)?(?: with)?)?|anything else|how can i help(?: you)?|happy to help|glad to help|i hope (?:that|this) helps|have a (?:great|good|nice|wonderful) (?:day|evening|night|one)|thank you(?: for calling)?|thanks(?: for calling)?|you(?:'|’)re welcome|great question|good question|of course|certainly|absolutely|let me (?:check|see|look)(?: that)?(?: for you)?|i can help(?: you)?(?: with that)?)\b/gi;

/** A sentence that claims nothing: only courtesies and words without content. */
export function isPleasantry(sentence: string): boolean {
  return contentWords(sentence.replace(COURTESY, ' ')).size === 0;
}

/** Share of the sentence's content words the passage contains (1 when it has none). */
export function lexicalSupport(sentence: Set<string>, passage: Set<string>): number {
  if (sentence.size === 0) return 1;
  let found = 0;
  for (const w of sentence) if (passage.has(w)) found += 1;
  return found / sentence.size;
}

/** The combined score: meaning and words, weighted. */
export const faithfulnessScore = (semantic: number, lexical: number): number =>
  SEMANTIC_WEIGHT * semantic + (1 - SEMANTIC_WEIGHT) * lexical;

/**
 * The pure decision, given the sentence's similarity to its closest source sentence and the
 * content-word sets of the passages.
 */
export function judgeFaithfulness(
  sentence: string,
  semantic: number,
  passages: readonly Set<string>[],
  threshold = FAITHFULNESS_THRESHOLD,
): FaithfulnessResult {
  if (isPleasantry(sentence)) {
    return { ok: true, pleasantry: true, semantic: 0, lexical: 1, score: 1 };
  }
  const words = contentWords(sentence);
  const lexical = Math.max(0, ...passages.map((p) => lexicalSupport(words, p)));
  const score = faithfulnessScore(semantic, lexical);
  return { ok: score >= threshold, pleasantry: false, semantic, lexical, score };
}

/** Passage text as speakable sentences: no headings, list items as sentences, no markup. */
export function passageSentences(text: string): string[] {
  const prose = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line) && !/^\s*(?:---|title:)/.test(line))
    .map((line) => line.replace(/^\s*(?:[-*+•]|\d+[.)])\s+/, '').trim())
    .filter(Boolean)
    .map((line) => (/[.!?:]$/.test(line) ? line : `${line}.`))
    .join(' ')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/[*_`]+/g, '');
  return sentences(prose).filter((s) => /\p{L}/u.test(s));
}

export interface FaithfulnessSources {
  /** Retrieved passages (title and text). */
  documents: string[];
  /** The caller's account as plain sentences ("Your balance is $42.50."). */
  facts: string[];
}

/** The sources embedded once per answer; each sentence is then one embedding away. */
export class FaithfulnessIndex {
  private constructor(
    private readonly embedder: Embedder,
    private readonly vectors: Float32Array[],
    private readonly passages: Set<string>[],
    private readonly threshold: number,
  ) {}

  static async build(
    embedder: Embedder,
    sources: FaithfulnessSources,
    threshold = FAITHFULNESS_THRESHOLD,
  ): Promise<FaithfulnessIndex> {
    const units = [...sources.documents.flatMap(passageSentences), ...sources.facts];
    const vectors = await embedder.embed(units);
    const passages = [...sources.documents, ...sources.facts].map(contentWords);
    return new FaithfulnessIndex(embedder, vectors, passages, threshold);
  }

  async check(sentence: string): Promise<FaithfulnessResult> {
    if (isPleasantry(sentence)) return judgeFaithfulness(sentence, 0, this.passages);
    const [v] = await this.embedder.embed([sentence]);
    const semantic = Math.max(0, ...this.vectors.map((u) => dot(u, v!)));
    return judgeFaithfulness(sentence, semantic, this.passages, this.threshold);
  }
}

/** Unit vectors: the dot product is the cosine. */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
