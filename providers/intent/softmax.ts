// Multinomial logistic regression: one weight row per intent over sparse-or-dense
// features. Trained full-batch with Adam from zero weights, so the same data gives the
// same model.
import type { Features } from './features';

export interface LinearModel {
  classes: number;
  dims: number;
  /** Row-major [classes × dims]. */
  weights: Float64Array;
  bias: Float64Array;
}

export interface TrainOptions {
  classes: number;
  dims: number;
  /** L2 penalty on the weights (not the biases). */
  l2: number;
  epochs: number;
  learningRate: number;
}

export function logits(m: LinearModel, x: Features): number[] {
  const z = new Array<number>(m.classes);
  for (let c = 0; c < m.classes; c++) {
    let s = m.bias[c]!;
    const row = c * m.dims;
    for (let j = 0; j < x.idx.length; j++) s += m.weights[row + x.idx[j]!]! * x.val[j]!;
    z[c] = s;
  }
  return z;
}

/** softmax(z / temperature), computed stably. */
export function softmax(z: number[], temperature = 1): number[] {
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp((v - max) / temperature));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export function trainSoftmax(xs: Features[], ys: number[], o: TrainOptions): LinearModel {
  if (xs.length === 0 || xs.length !== ys.length)
    throw new Error('training needs as many labels as examples, at least one');
  const { classes: k, dims } = o;
  const m: LinearModel = {
    classes: k,
    dims,
    weights: new Float64Array(k * dims),
    bias: new Float64Array(k),
  };
  const params = k * dims + k; // weights, then biases
  const grad = new Float64Array(params);
  const m1 = new Float64Array(params);
  const m2 = new Float64Array(params);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const n = xs.length;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    grad.fill(0);
    for (let e = 0; e < n; e++) {
      const x = xs[e]!;
      const p = softmax(logits(m, x));
      for (let c = 0; c < k; c++) {
        const g = (p[c]! - (c === ys[e] ? 1 : 0)) / n;
        const row = c * dims;
        for (let j = 0; j < x.idx.length; j++) grad[row + x.idx[j]!]! += g * x.val[j]!;
        grad[k * dims + c]! += g;
      }
    }
    for (let i = 0; i < k * dims; i++) grad[i]! += o.l2 * m.weights[i]!;
    const lr = (o.learningRate * Math.sqrt(1 - b2 ** epoch)) / (1 - b1 ** epoch);
    for (let i = 0; i < params; i++) {
      const g = grad[i]!;
      m1[i] = b1 * m1[i]! + (1 - b1) * g;
      m2[i] = b2 * m2[i]! + (1 - b2) * g * g;
      const step = (lr * m1[i]!) / (Math.sqrt(m2[i]!) + eps);
      if (i < k * dims) m.weights[i]! -= step;
      else m.bias[i - k * dims]! -= step;
    }
  }
  return m;
}
