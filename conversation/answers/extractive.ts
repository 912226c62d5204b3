// The extractive answer: no model writes it. The retrieved passages' sentences are ranked by
// how close they are to the question (sentence embeddings, plus the share of the question's
// content words they contain) and the best one or two are said. Every word comes from a
// passage, so it passes the grounding and faithfulness checks by construction (the answerer
// still runs them), and it costs two embedding calls instead of a model's prompt evaluation.
import type { Embedder } from '../../providers/embeddings/port';
import {
  contentWords,
  dot,
  faithfulnessScore,
  lexicalSupport,
  passageSentences,
} from '../safety/faithfulness';

export interface ExtractiveOptions {
  /** Sentences said at most. */
  maxSentences?: number;
  /** Words said at most (an answer for the ear is short). */
  maxWords?: number;
  /** A further sentence must score at least this share of the best one. */
  followRatio?: number;
}

/** Shorter lines are section titles or list stubs, not answers. */
const MIN_WORDS = 4;
/** Two sentences this close say the same thing twice. */
const SAME_MEANING = 0.9;

const wordCount = (s: string): number => s.split(/\s+/).filter(Boolean).length;

export class ExtractiveAnswerer {
  private readonly maxSentences: number;
  private readonly maxWords: number;
  private readonly followRatio: number;

  constructor(
    private readonly embedder: Embedder,
    opts: ExtractiveOptions = {},
  ) {
    this.maxSentences = opts.maxSentences ?? 2;
    this.maxWords = opts.maxWords ?? 40;
    this.followRatio = opts.followRatio ?? 0.85;
  }

  /** The passage sentences that best answer the question, best first, as the passage says them. */
  async pick(question: string, passages: readonly string[]): Promise<string[]> {
    const candidates = [...new Set(passages.flatMap(passageSentences))].filter(
      (s) => wordCount(s) >= MIN_WORDS,
    );
    if (candidates.length === 0) return [];
    const [q, ...vectors] = await this.embedder.embed([question, ...candidates]);
    const asked = contentWords(question);
    const ranked = candidates
      .map((text, i) => ({
        text,
        vector: vectors[i]!,
        score: faithfulnessScore(dot(q!, vectors[i]!), lexicalSupport(asked, contentWords(text))),
      }))
      .sort((a, b) => b.score - a.score);
    const best = ranked[0]!;
    const picked = [best];
    let words = wordCount(best.text);
    for (const next of ranked.slice(1)) {
      if (picked.length >= this.maxSentences) break;
      if (next.score < best.score * this.followRatio) break;
      if (words + wordCount(next.text) > this.maxWords) continue;
      if (picked.some((p) => dot(p.vector, next.vector) >= SAME_MEANING)) continue;
      picked.push(next);
      words += wordCount(next.text);
    }
    return picked.map((p) => p.text);
  }
}
