// The trained intent model as a JSON file: which embedder it expects, the weights, the
// temperature, and what it was trained on (so a stale file is caught by a test).
import fs from 'node:fs';
import path from 'node:path';
import type { IntentName } from '../../contracts/call';
import { INTENT_DATA_DIR } from './dataset';
import { isIntentName } from './labels';
import type { LinearModel } from './softmax';

export const DEFAULT_MODEL_FILE = path.join(INTENT_DATA_DIR, 'model.json');

export interface IntentModelFile {
  format: 'switchboard-intent-softmax/1';
  /** Embedder.name the weights were trained on; another embedder's vectors are meaningless here. */
  embedder: string;
  /** The embedding's dimensions; the features are [embedding | ngramBuckets] (features.ts). */
  dimensions: number;
  ngramBuckets: number;
  classes: IntentName[];
  /** Divides the logits before the softmax (fitted on cross-validated held-out logits). */
  temperature: number;
  /** [classes][dimensions + ngramBuckets]. */
  weights: number[][];
  bias: number[];
  training: {
    examples: number;
    datasetSha256: string;
    l2: number;
    epochs: number;
    seed: number;
    /** k-fold cross-validation on the training split, before the final fit. */
    crossValidation: { folds: number; accuracy: number; ece: number; eceUncalibrated: number };
  };
}

export function toLinearModel(f: IntentModelFile): LinearModel {
  return {
    classes: f.classes.length,
    dims: f.dimensions + f.ngramBuckets,
    weights: Float64Array.from(f.weights.flat()),
    bias: Float64Array.from(f.bias),
  };
}

export function readModelFile(file = DEFAULT_MODEL_FILE): IntentModelFile {
  let parsed: IntentModelFile;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as IntentModelFile;
  } catch (err) {
    throw new Error(
      `cannot read the intent model ${file} (train it: npx tsx scripts/train-intent.ts): ${(err as Error).message}`,
    );
  }
  const ok =
    parsed.format === 'switchboard-intent-softmax/1' &&
    parsed.classes.every(isIntentName) &&
    parsed.weights.length === parsed.classes.length &&
    parsed.weights.every((row) => row.length === parsed.dimensions + parsed.ngramBuckets) &&
    parsed.bias.length === parsed.classes.length &&
    parsed.temperature > 0;
  if (!ok) throw new Error(`${file} is not a valid intent model file`);
  return parsed;
}

export function writeModelFile(model: IntentModelFile, file = DEFAULT_MODEL_FILE): void {
  fs.writeFileSync(file, `${JSON.stringify(model)}\n`);
}
