// The embeddings family: sentence vectors for retrieval and intent.

/** Sentence embeddings, unit length, so a dot product is the cosine similarity. */
export interface Embedder {
  readonly name: string;
  readonly dimensions: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}
