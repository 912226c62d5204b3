// Confidence that means something: one temperature T fitted on held-out logits so that
// softmax(z / T) minimises the negative log-likelihood, and the expected calibration
// error (ECE) to check it: |accuracy − mean confidence| per confidence bin, weighted.
import { softmax } from './softmax';

export function negativeLogLikelihood(zs: number[][], ys: number[], temperature: number): number {
  let sum = 0;
  zs.forEach((z, n) => {
    const p = softmax(z, temperature)[ys[n]!]!;
    sum -= Math.log(Math.max(p, 1e-12));
  });
  return sum / zs.length;
}

/** Golden-section search over log T in [1/20, 20]: the NLL is unimodal in T. */
export function fitTemperature(zs: number[][], ys: number[]): number {
  if (zs.length === 0) throw new Error('fitting a temperature needs held-out examples');
  const f = (logT: number) => negativeLogLikelihood(zs, ys, Math.exp(logT));
  let [a, b] = [Math.log(1 / 20), Math.log(20)];
  const r = (Math.sqrt(5) - 1) / 2;
  let c = b - r * (b - a);
  let d = a + r * (b - a);
  let [fc, fd] = [f(c), f(d)];
  while (b - a > 1e-4) {
    if (fc < fd) {
      [b, d, fd] = [d, c, fc];
      c = b - r * (b - a);
      fc = f(c);
    } else {
      [a, c, fc] = [c, d, fd];
      d = a + r * (b - a);
      fd = f(d);
    }
  }
  return Math.exp((a + b) / 2);
}

export interface Prediction {
  confidence: number;
  correct: boolean;
}

/** ECE over equal-width confidence bins (default 10), in [0, 1]; lower is better. */
export function expectedCalibrationError(preds: Prediction[], bins = 10): number {
  if (preds.length === 0) return 0;
  const acc = new Array<{ n: number; conf: number; hits: number }>(bins);
  for (let i = 0; i < bins; i++) acc[i] = { n: 0, conf: 0, hits: 0 };
  for (const p of preds) {
    const bin = acc[Math.min(bins - 1, Math.floor(p.confidence * bins))]!;
    bin.n++;
    bin.conf += p.confidence;
    bin.hits += p.correct ? 1 : 0;
  }
  return acc.reduce(
    (e, b) => (b.n ? e + (b.n / preds.length) * Math.abs(b.hits / b.n - b.conf / b.n) : e),
    0,
  );
}
