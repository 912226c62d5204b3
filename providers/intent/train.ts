// Training: embed the training split, pick nothing by hand at run time (fixed
// hyper-parameters), fit the temperature on k-fold out-of-fold logits, then fit the final
// weights on all of the training split and the lines as a recognizer heard them. The heard
// lines stay out of the folds: a heard copy of a held-out line would leak it. Seeded: the
// same data gives the same file.
import type { Embedder } from '../embeddings/port';
import { expectedCalibrationError, fitTemperature } from './calibration';
import { datasetHash, type Example } from './dataset';
import { featurize, NGRAM_BUCKETS } from './features';
import { INTENT_NAMES } from './labels';
import type { IntentModelFile } from './model-file';
import { normalizeUtterance } from './normalize';
import { logits, softmax, trainSoftmax, type TrainOptions } from './softmax';

export interface IntentTrainingOptions {
  l2?: number;
  epochs?: number;
  learningRate?: number;
  folds?: number;
  seed?: number;
  /** Training lines as a recognizer heard them: in the final fit only. */
  heard?: Example[];
  log?: (line: string) => void;
}

// l2 chosen by 5-fold cross-validation on the training split (1e-4 over 3e-5 and 3e-4).
const DEFAULTS = { l2: 1e-4, epochs: 300, learningRate: 0.1, folds: 5, seed: 4 };

/** mulberry32: a small seeded generator, for the fold assignment only. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stratified folds: each intent's examples dealt round-robin after a seeded shuffle. */
export function assignFolds(ys: number[], folds: number, seed: number): number[] {
  const rand = seeded(seed);
  const fold = new Array<number>(ys.length).fill(0);
  const byClass = new Map<number, number[]>();
  ys.forEach((y, i) => byClass.set(y, [...(byClass.get(y) ?? []), i]));
  for (const idx of byClass.values()) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((n, r) => (fold[n] = r % folds));
  }
  return fold;
}

export async function trainIntentModel(
  embedder: Embedder,
  examples: Example[],
  opts: IntentTrainingOptions = {},
): Promise<IntentModelFile> {
  const o = { ...DEFAULTS, ...opts };
  const log = opts.log ?? (() => {});
  const classes = [...INTENT_NAMES];
  const heard = opts.heard ?? [];
  const all = [...examples, ...heard];
  const allYs = all.map((e) => classes.indexOf(e.intent));
  log(`embedding ${examples.length} training utterances and ${heard.length} heard with ${embedder.name} …`); // prettier-ignore
  const allTexts = all.map((e) => normalizeUtterance(e.text));
  const allXs = (await embedder.embed(allTexts)).map((v, i) => featurize(v, allTexts[i]!, NGRAM_BUCKETS)); // prettier-ignore
  const xs = allXs.slice(0, examples.length);
  const ys = allYs.slice(0, examples.length);
  const train: TrainOptions = {
    classes: classes.length,
    dims: embedder.dimensions + NGRAM_BUCKETS,
    l2: o.l2,
    epochs: o.epochs,
    learningRate: o.learningRate,
  };

  // Out-of-fold logits: every training example scored by a model that never saw it.
  const fold = assignFolds(ys, o.folds, o.seed);
  const oof: number[][] = new Array<number[]>(examples.length);
  for (let f = 0; f < o.folds; f++) {
    const inFold = (i: number) => fold[i] === f;
    const m = trainSoftmax(
      xs.filter((_, i) => !inFold(i)),
      ys.filter((_, i) => !inFold(i)),
      train,
    );
    xs.forEach((x, i) => {
      if (inFold(i)) oof[i] = logits(m, x);
    });
    log(`fold ${f + 1}/${o.folds} done`);
  }
  const temperature = fitTemperature(oof, ys);
  const preds = (t: number) =>
    oof.map((z, i) => {
      const p = softmax(z, t);
      const best = p.indexOf(Math.max(...p));
      return { confidence: p[best]!, correct: best === ys[i] };
    });
  const calibrated = preds(temperature);
  const accuracy = calibrated.filter((p) => p.correct).length / calibrated.length;
  log(
    `cross-validated accuracy ${(accuracy * 100).toFixed(1)} %, temperature ${temperature.toFixed(3)}`,
  );

  const final = trainSoftmax(allXs, allYs, train);
  const round = (v: number) => Math.round(v * 1e5) / 1e5;
  return {
    format: 'switchboard-intent-softmax/1',
    embedder: embedder.name,
    dimensions: embedder.dimensions,
    ngramBuckets: NGRAM_BUCKETS,
    classes,
    temperature: round(temperature),
    weights: classes.map((_, c) =>
      Array.from(final.weights.subarray(c * final.dims, (c + 1) * final.dims), round),
    ),
    bias: Array.from(final.bias, round),
    training: {
      examples: all.length,
      datasetSha256: datasetHash(all),
      l2: o.l2,
      epochs: o.epochs,
      seed: o.seed,
      crossValidation: {
        folds: o.folds,
        accuracy: round(accuracy),
        ece: round(expectedCalibrationError(calibrated)),
        eceUncalibrated: round(expectedCalibrationError(preds(1))),
      },
    },
  };
}
