// Intent classification latency, p50/p95 per single utterance, the way the worker calls it
// (one at a time, after warm-up). Every utterance of the evaluation split is classified
// `rounds` times; the embedding adapter caches nothing, so each call pays the full model.
import { performance } from 'node:perf_hooks';
import { loadSplit } from '../providers/intent/dataset';
import { percentile } from '../providers/intent/evaluate';
import type { IntentClassifier } from '../providers/intent/port';

export interface IntentLatency {
  classifier: string;
  samples: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export async function measureIntentLatency(
  classifier: IntentClassifier,
  opts: { rounds?: number; texts?: string[] } = {},
): Promise<IntentLatency> {
  const texts = opts.texts ?? loadSplit('eval').map((e) => e.text);
  for (const t of texts.slice(0, 10)) await classifier.classify(t); // warm-up, not counted
  const times: number[] = [];
  for (let r = 0; r < (opts.rounds ?? 3); r++) {
    for (const t of texts) {
      const t0 = performance.now();
      await classifier.classify(t);
      times.push(performance.now() - t0);
    }
  }
  times.sort((a, b) => a - b);
  return {
    classifier: classifier.name,
    samples: times.length,
    p50Ms: percentile(times, 0.5),
    p95Ms: percentile(times, 0.95),
    maxMs: times.at(-1) ?? NaN,
  };
}

/** For `switchboard bench`: the shipped model, and the rules it replaces, printed. */
export async function runIntentBench(
  log: (line: string) => void = console.log,
): Promise<IntentLatency[]> {
  const { createIntentClassifier } = await import('../providers/intent/select');
  const out: IntentLatency[] = [];
  for (const name of ['embedding', 'rules']) {
    const r = await measureIntentLatency(await createIntentClassifier(name));
    log(
      `[bench] intent ${r.classifier}: p50 ${r.p50Ms.toFixed(1)} ms, p95 ${r.p95Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms (${r.samples} classifications)`,
    );
    out.push(r);
  }
  return out;
}
