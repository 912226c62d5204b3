// The intent model's pieces on data whose answer is known: softmax training, temperature
// fitting, calibration error, n-gram features, normalization, fold assignment.
import assert from 'node:assert/strict';
import {
  expectedCalibrationError,
  fitTemperature,
  negativeLogLikelihood,
} from '../../providers/intent/calibration';
import { featurize, ngramCounts } from '../../providers/intent/features';
import { normalizeUtterance } from '../../providers/intent/normalize';
import { logits, softmax, trainSoftmax } from '../../providers/intent/softmax';
import { assignFolds } from '../../providers/intent/train';

/** A seeded generator for test data (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dense = (v: number[]) => ({ idx: Int32Array.from(v.keys()), val: Float32Array.from(v) });

describe('intent model: softmax regression', () => {
  // Three classes around three centres in 2-d, with noise.
  const rand = rng(7);
  const centres = [
    [1, 0],
    [0, 1],
    [-1, -1],
  ];
  const ys = Array.from({ length: 150 }, (_, i) => i % 3);
  const xs = ys.map((y) => dense(centres[y]!.map((c) => c + (rand() - 0.5) * 0.6)));
  const opts = { classes: 3, dims: 2, l2: 1e-4, epochs: 200, learningRate: 0.1 };

  it('separates separable classes', () => {
    const m = trainSoftmax(xs, ys, opts);
    const hits = xs.filter((x, i) => {
      const z = logits(m, x);
      return z.indexOf(Math.max(...z)) === ys[i];
    }).length;
    assert.equal(hits, xs.length);
  });

  it('is deterministic: the same data gives the same weights', () => {
    assert.deepEqual(trainSoftmax(xs, ys, opts).weights, trainSoftmax(xs, ys, opts).weights);
  });

  it('reads sparse features by index', () => {
    const m = trainSoftmax(xs, ys, opts);
    const sparse = { idx: Int32Array.from([1]), val: Float32Array.from([1]) };
    assert.deepEqual(logits(m, sparse), logits(m, dense([0, 1])));
  });

  it('rejects mismatched examples and labels', () => {
    assert.throws(() => trainSoftmax(xs, [0], opts), /as many labels as examples/);
  });

  it('softmax sums to one and a temperature above 1 flattens it', () => {
    const p = softmax([2, 1, 0]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b) - 1) < 1e-12);
    assert.ok(softmax([2, 1, 0], 3)[0]! < p[0]!);
    assert.deepEqual(softmax([1000, 0]).map(Math.round), [1, 0]); // no overflow
  });
});

describe('intent model: calibration', () => {
  it('recovers the temperature that generated the labels', () => {
    const rand = rng(11);
    const zs: number[][] = [];
    const ys: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const z = [rand() * 8, rand() * 8, rand() * 8];
      const p = softmax(z, 2.5); // labels drawn from softmax(z / 2.5)
      const u = rand();
      ys.push(u < p[0]! ? 0 : u < p[0]! + p[1]! ? 1 : 2);
      zs.push(z);
    }
    const t = fitTemperature(zs, ys);
    assert.ok(Math.abs(t - 2.5) < 0.25, `fitted ${t}`);
    assert.ok(negativeLogLikelihood(zs, ys, t) < negativeLogLikelihood(zs, ys, 1));
  });

  it('ECE is 0 for honest confidences and large for overconfident ones', () => {
    const honest = Array.from({ length: 100 }, (_, i) => ({
      confidence: 0.75,
      correct: i % 4 !== 0,
    }));
    assert.ok(expectedCalibrationError(honest) < 1e-9);
    const overconfident = Array.from({ length: 100 }, (_, i) => ({
      confidence: 0.99,
      correct: i % 2 === 0,
    }));
    assert.ok(Math.abs(expectedCalibrationError(overconfident) - 0.49) < 1e-9);
    assert.equal(expectedCalibrationError([]), 0);
  });
});

describe('intent model: features and normalization', () => {
  it('normalizes case, punctuation and curly apostrophes the way the dataset is written', () => {
    assert.equal(normalizeUtterance('  What’s my BALANCE?!  '), "what's my balance");
    assert.equal(normalizeUtterance('...'), '');
  });

  it('keeps most character n-grams when a recognizer splits a word', () => {
    const a = new Set(ngramCounts('the internet is down').keys());
    const b = new Set(ngramCounts('the inter net is down').keys());
    const shared = [...a].filter((k) => b.has(k)).length;
    assert.ok(shared / a.size > 0.7, `shared ${shared} of ${a.size}`);
  });

  it('puts the embedding first and both parts at unit length', () => {
    const emb = Float32Array.from([0.6, 0.8]);
    const f = featurize(emb, 'pay my bill', 64);
    assert.deepEqual(Array.from(f.idx.slice(0, 2)), [0, 1]);
    assert.deepEqual(Array.from(f.val.slice(0, 2)), [0.6000000238418579, 0.800000011920929]);
    const rest = Array.from(f.val.slice(2));
    assert.ok(Math.abs(Math.hypot(...rest) - 1) < 1e-6);
    assert.ok(Array.from(f.idx.slice(2)).every((i) => i >= 2 && i < 66));
  });

  it('deals each class evenly over the folds, reproducibly', () => {
    const ys = Array.from({ length: 50 }, (_, i) => (i < 30 ? 0 : 1));
    const folds = assignFolds(ys, 5, 4);
    assert.deepEqual(folds, assignFolds(ys, 5, 4));
    for (let f = 0; f < 5; f++) {
      assert.equal(folds.filter((x, i) => x === f && ys[i] === 0).length, 6);
      assert.equal(folds.filter((x, i) => x === f && ys[i] === 1).length, 4);
    }
  });
});
