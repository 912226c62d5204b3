// Scores a classifier on labelled utterances, one at a time as calls would: in-scope
// accuracy, out-of-scope recall, a confusion table, calibration and latency.
import { performance } from 'node:perf_hooks';
import type { IntentName } from '../../contracts/call';
import type { IntentClassifier } from './port';
import { expectedCalibrationError } from './calibration';
import type { Example } from './dataset';
import { INTENT_NAMES } from './labels';

export interface IntentEvaluation {
  examples: number;
  /** Share of in-scope utterances given their intent. */
  inScopeAccuracy: number;
  /** Share of out-of-scope utterances answered out_of_scope. */
  outOfScopeRecall: number;
  /** Share of all utterances that are right, or below the gate (the caller is asked again). */
  safeRate: number;
  /** Expected calibration error of the confidences (10 bins). */
  ece: number;
  /** confusion[expected][predicted] = count. */
  confusion: Record<IntentName, Record<IntentName, number>>;
  errors: { text: string; expected: IntentName; got: IntentName; confidence: number }[];
  latencyMs: { p50: number; p95: number; max: number };
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export async function evaluateIntents(
  classifier: IntentClassifier,
  examples: Example[],
  gate = 0.5,
): Promise<IntentEvaluation> {
  const confusion = Object.fromEntries(
    INTENT_NAMES.map((a) => [a, Object.fromEntries(INTENT_NAMES.map((b) => [b, 0]))]),
  ) as IntentEvaluation['confusion'];
  const errors: IntentEvaluation['errors'] = [];
  const times: number[] = [];
  const preds: { confidence: number; correct: boolean }[] = [];
  let [inScope, inScopeHits, oos, oosHits, safe] = [0, 0, 0, 0, 0];
  for (const e of examples) {
    const t0 = performance.now();
    const r = await classifier.classify(e.text);
    times.push(performance.now() - t0);
    confusion[e.intent][r.name]++;
    const correct = r.name === e.intent;
    preds.push({ confidence: r.confidence, correct });
    if (correct || r.confidence < gate) safe++;
    if (!correct)
      errors.push({ text: e.text, expected: e.intent, got: r.name, confidence: r.confidence });
    if (e.intent === 'out_of_scope') {
      oos++;
      if (correct) oosHits++;
    } else {
      inScope++;
      if (correct) inScopeHits++;
    }
  }
  times.sort((a, b) => a - b);
  return {
    examples: examples.length,
    inScopeAccuracy: inScope ? inScopeHits / inScope : NaN,
    outOfScopeRecall: oos ? oosHits / oos : NaN,
    safeRate: examples.length ? safe / examples.length : NaN,
    ece: expectedCalibrationError(preds),
    confusion,
    errors,
    latencyMs: {
      p50: percentile(times, 0.5),
      p95: percentile(times, 0.95),
      max: times.at(-1) ?? NaN,
    },
  };
}
