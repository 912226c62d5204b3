// The extractive answer: no model writes it. The retrieved passages' sentences are ranked by
// how close they are to the question — sentence embeddings plus the share of the question's
// content words they contain, each sentence read with its section heading ("Mailed payments.
// A check sent by mail posts within 7 days."), plus how close its passage came in retrieval —
// and a little more for a sentence that states a figure — and the best one or two are said.
// A heading itself is never said: it names a section, it does not answer. A sentence that
// leans on the one before it ("You can turn it off the same way at any time.") is said after
// that one, or not at all: alone it answers nothing. Every word comes from a passage, so it
// passes the grounding and faithfulness checks by construction (the answerer still runs
// them), and it costs two embedding calls instead of a model's prompt evaluation.
import type { Embedder } from '../../providers/embeddings/port';
import { chunkHeading } from '../../providers/vectors/port';
import {
  contentWords,
  dot,
  faithfulnessScore,
  lexicalSupport,
  passageSentences,
} from '../safety/faithfulness';

export interface ExtractivePassage {
  /** The chunk's text; a section's heading, when it has one, is its first line. */
  text: string;
  /** The passage's cosine to the question in retrieval (0 when not retrieved). */
  score?: number;
}

export interface ExtractiveOptions {
  /** Sentences said at most. */
  maxSentences?: number;
  /** Words said at most (an answer for the ear is short). */
  maxWords?: number;
  /** A further sentence must score at least this share of the best one. */
  followRatio?: number;
  /** Read a passage's first line as its section heading when it is one (`chunkHeading`). */
  headings?: boolean;
  /** Weight of the passage's retrieval score in a sentence's rank. */
  retrievalWeight?: number;
  /** Added to the rank of a sentence that states a figure. */
  figureWeight?: number;
}

/** Shorter lines are section titles or list stubs, not answers. */
const MIN_WORDS = 4;
/** Two sentences sharing this much of their content words say the same thing twice. */
const SAME_CLAIM = 0.8;
/** Chosen on kb/eval.json with `npx tsx bench/answer-eval.ts` (docs/answers.md). */
export const RETRIEVAL_WEIGHT = 0.5;
/**
 * A caller asks a service line for the figure: "a late fee of $10 is added" answers "what if I
 * pay late" better than "a late fee can apply", though both share its words. Chosen like the
 * retrieval weight (docs/answers.md).
 */
export const FIGURE_WEIGHT = 0.06;
/** "See the article on refunds." points a reader elsewhere; a caller cannot follow it. */
const READING_POINTER = /^see (?:the|our) (?:article|section|page)\b/i;

const wordCount = (s: string): number => s.split(/\s+/).filter(Boolean).length;

/** Jaccard overlap of content words (the ranking's vectors carry the heading, so not those). */
function sameClaim(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  let shared = 0;
  for (const w of a) if (b.has(w)) shared += 1;
  const union = a.size + b.size - shared;
  return union > 0 && shared / union >= SAME_CLAIM;
}

/**
 * Opens on a word that points back ("It", "This", "After that") or borrows the previous
 * sentence's "way": without the sentence before it, the listener cannot tell what it means.
 */
const LEANS_BACK =
  /^(?:it|its|this|that|these|those|they|them|then|after that|otherwise|also)\b|\bthe same way\b/i;

interface Candidate {
  /** What is said. */
  text: string;
  /** The sentence it leans on, said before it. */
  after?: string;
  /** What is ranked: the sentence under its heading. */
  context: string;
  retrieval: number;
}

export class ExtractiveAnswerer {
  private readonly maxSentences: number;
  private readonly maxWords: number;
  private readonly followRatio: number;
  private readonly headings: boolean;
  private readonly retrievalWeight: number;
  private readonly figureWeight: number;

  constructor(
    private readonly embedder: Embedder,
    opts: ExtractiveOptions = {},
  ) {
    this.maxSentences = opts.maxSentences ?? 2;
    this.maxWords = opts.maxWords ?? 40;
    this.followRatio = opts.followRatio ?? 0.85;
    this.headings = opts.headings ?? true;
    this.retrievalWeight = opts.retrievalWeight ?? RETRIEVAL_WEIGHT;
    this.figureWeight = opts.figureWeight ?? FIGURE_WEIGHT;
  }

  /** The passage sentences that best answer the question, best first, as the passage says them. */
  async pick(
    question: string,
    passages: readonly (string | ExtractivePassage)[],
  ): Promise<string[]> {
    const candidates = this.candidates(passages);
    if (candidates.length === 0) return [];
    const [q, ...vectors] = await this.embedder.embed([
      question,
      ...candidates.map((c) => c.context),
    ]);
    const asked = contentWords(question);
    const ranked = candidates
      .map((c, i) => ({
        text: c.text,
        after: c.after,
        words: contentWords(c.text),
        score:
          faithfulnessScore(dot(q!, vectors[i]!), lexicalSupport(asked, contentWords(c.context))) +
          this.retrievalWeight * c.retrieval +
          (/\d/.test(c.text) ? this.figureWeight : 0),
      }))
      .sort((a, b) => b.score - a.score);
    const said: string[] = [];
    let bestScore: number | undefined;
    let words = 0;
    const claims: ReadonlySet<string>[] = [];
    for (const next of ranked) {
      // Its antecedent just said, it follows on.
      const sentences =
        next.after && said.at(-1) !== next.after ? [next.after, next.text] : [next.text];
      if (said.length + sentences.length > this.maxSentences) continue;
      if (bestScore === undefined) bestScore = next.score;
      else if (next.score < bestScore * this.followRatio) break;
      const length = sentences.reduce((n, s) => n + wordCount(s), 0);
      if (said.length > 0 && words + length > this.maxWords) continue;
      if (sentences.some((s) => said.includes(s))) continue;
      if (claims.some((c) => sameClaim(c, next.words))) continue;
      said.push(...sentences);
      claims.push(next.words);
      words += length;
      if (said.length >= this.maxSentences) break;
    }
    return said;
  }

  /** Each sentence once (where its passage ranked best), under its heading, headings not among them. */
  private candidates(passages: readonly (string | ExtractivePassage)[]): Candidate[] {
    const bySentence = new Map<string, Candidate>();
    for (const p of passages) {
      const { text, score = 0 } = typeof p === 'string' ? { text: p } : p;
      const { heading, body } = this.headings ? chunkHeading(text) : { body: text };
      const sentences = passageSentences(body);
      sentences.forEach((sentence, i) => {
        if (wordCount(sentence) < MIN_WORDS || READING_POINTER.test(sentence)) return;
        const leans = LEANS_BACK.test(sentence);
        if (leans && i === 0) return;
        const after = leans ? sentences[i - 1] : undefined;
        const seen = bySentence.get(sentence);
        if (seen && seen.retrieval >= score) return;
        const context = heading ? `${heading.replace(/[.!?:]$/, '')}. ${sentence}` : sentence;
        bySentence.set(sentence, { text: sentence, after, context, retrieval: score });
      });
    }
    return [...bySentence.values()];
  }
}
