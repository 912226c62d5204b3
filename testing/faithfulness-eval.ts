// Scores the labelled faithfulness set with an embedder, and precision / recall / F1 of
// "supported" at a threshold. Shared by the calibration bench and its unit test.
import type { Embedder } from '../providers/embeddings/port';
import { FaithfulnessIndex } from '../conversation/safety/faithfulness';
import {
  caseFacts,
  FAITHFULNESS_SET,
  type FaithfulnessCase,
  loadArticles,
} from './faithfulness-set';

export interface ScoredCase {
  case: FaithfulnessCase;
  semantic: number;
  lexical: number;
  score: number;
  pleasantry: boolean;
}

export async function scoreFaithfulnessSet(embedder: Embedder): Promise<ScoredCase[]> {
  const articles = loadArticles();
  const scored: ScoredCase[] = [];
  for (const c of FAITHFULNESS_SET) {
    const index = await FaithfulnessIndex.build(embedder, {
      documents: c.articles.map((a) => articles.get(a)!),
      facts: caseFacts(c),
    });
    const r = await index.check(c.sentence);
    scored.push({ case: c, ...r });
  }
  return scored;
}

export interface ThresholdRow {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  /** Unsupported sentences let through. */
  falsePasses: number;
  /** Supported sentences refused. */
  falseRefusals: number;
}

/** "Passes" = the check lets it through (a pleasantry always does). */
export function atThreshold(scored: readonly ScoredCase[], threshold: number): ThresholdRow {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const s of scored) {
    const passes = s.pleasantry || s.score >= threshold;
    if (passes && s.case.supported) tp += 1;
    else if (passes) fp += 1;
    else if (s.case.supported) fn += 1;
  }
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { threshold, precision, recall, f1, falsePasses: fp, falseRefusals: fn };
}
