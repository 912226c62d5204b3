// One answer's embeddings, each text embedded once: the faithfulness index, the extractive
// answer and the checks of its sentences all ask for the same passage sentences.
import type { Embedder } from '../../providers/embeddings/port';

export class MemoEmbedder implements Embedder {
  readonly name: string;
  readonly dimensions: number;
  private readonly vectors = new Map<string, Promise<Float32Array>>();

  constructor(private readonly inner: Embedder) {
    this.name = inner.name;
    this.dimensions = inner.dimensions;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const missing = [...new Set(texts.filter((t) => !this.vectors.has(t)))];
    if (missing.length) {
      const batch = this.inner.embed(missing);
      missing.forEach((t, i) => {
        const vector = batch.then((rows) => rows[i]!);
        // A failed batch is forgotten, so a later call asks again.
        vector.catch(() => this.vectors.delete(t));
        this.vectors.set(t, vector);
      });
    }
    return Promise.all(texts.map((t) => this.vectors.get(t)!));
  }
}
