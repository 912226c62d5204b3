// The local intent model: a sentence embedding (all-MiniLM-L6-v2 int8 on onnxruntime by
// default) plus hashed word/character n-grams, and a softmax layer trained on
// data/intents/train.tsv (scripts/train-intent.ts), with a fitted
// temperature so the confidence is a calibrated probability. out_of_scope is a class of
// its own, trained on many kinds of off-topic speech, fragments and noise.
import type { Intent } from '../../contracts/call';
import {
  DEFAULT_MODEL_FILE,
  readModelFile,
  toLinearModel,
  type IntentModelFile,
} from './model-file';
import { featurize } from './features';
import { normalizeUtterance } from './normalize';
import { logits, softmax, type LinearModel } from './softmax';
import type { Embedder } from '../embeddings/port';
import type { IntentClassifier } from './port';
import { ProviderError } from '../provider-error';
import { sharedMiniLmEmbedder } from '../embeddings/minilm-onnx';

export interface EmbeddingIntentOptions {
  /** Default: the process's shared MiniLM embedder. */
  embedder?: Embedder;
  /** A model file's content or path; default data/intents/model.json. */
  model?: IntentModelFile | string;
}

export class EmbeddingIntentClassifier implements IntentClassifier {
  readonly name: string;
  private readonly linear: LinearModel;

  constructor(
    private readonly embedder: Embedder,
    private readonly model: IntentModelFile,
  ) {
    if (model.embedder !== embedder.name || model.dimensions !== embedder.dimensions)
      throw new Error(
        `the intent model was trained on ${model.embedder} (${model.dimensions}-d), not ${embedder.name} (${embedder.dimensions}-d): retrain it with scripts/train-intent.ts`,
      );
    this.name = `embedding:${embedder.name}`;
    this.linear = toLinearModel(model);
  }

  /** Its embedder's failure is a ProviderError (`unavailable` unless the embedder says otherwise). */
  async classify(text: string): Promise<Intent> {
    try {
      return await this.classifyClean(normalizeUtterance(text));
    } catch (err) {
      throw ProviderError.from(this.name, err);
    }
  }

  private async classifyClean(clean: string): Promise<Intent> {
    // Nothing heard: not a request, and no evidence either way.
    if (!clean) return { name: 'out_of_scope', confidence: 0 };
    const [vector] = await this.embedder.embed([clean]);
    const features = featurize(vector!, clean, this.model.ngramBuckets);
    const p = softmax(logits(this.linear, features), this.model.temperature);
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    return { name: this.model.classes[best]!, confidence: Math.round(p[best]! * 1000) / 1000 };
  }

  /** Loads the embedding model now rather than on the first call. */
  async warmUp(): Promise<void> {
    await this.embedder.embed(['hello']);
  }
}

const shared = new Map<string, EmbeddingIntentClassifier>();

/**
 * The intent classifier the worker uses. Loads once per process (the model file at the
 * first call of the factory, the embedding model at the first classification or warmUp).
 */
export function createEmbeddingIntentClassifier(
  opts: EmbeddingIntentOptions = {},
): EmbeddingIntentClassifier {
  if (opts.embedder || typeof opts.model === 'object') {
    const model = typeof opts.model === 'object' ? opts.model : readModelFile(opts.model);
    return new EmbeddingIntentClassifier(opts.embedder ?? sharedMiniLmEmbedder(), model);
  }
  const file = opts.model ?? DEFAULT_MODEL_FILE;
  let c = shared.get(file);
  if (!c) {
    c = new EmbeddingIntentClassifier(sharedMiniLmEmbedder(), readModelFile(file));
    shared.set(file, c);
  }
  return c;
}
