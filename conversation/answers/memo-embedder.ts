// Embeddings remembered across answers: the passages' sentences come back answer after answer
// (the knowledge base is small), and within one answer the faithfulness index, the extractive
// answer and the checks of its sentences all ask for the same ones. Bounded: the least
// recently used texts are forgotten first.
import type { Embedder } from '../../providers/embeddings/port';

export class MemoEmbedder implements Embedder {
  readonly name: string;
  readonly dimensions: number;
  private readonly vectors = new Map<string, Promise<Float32Array>>();

  constructor(
    private readonly inner: Embedder,
    private readonly maxEntries = 4_000,
  ) {
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
    const out = texts.map((t) => {
      const vector = this.vectors.get(t)!;
      this.vectors.delete(t); // re-inserted: most recently used last
      this.vectors.set(t, vector);
      return vector;
    });
    for (const oldest of this.vectors.keys()) {
      if (this.vectors.size <= this.maxEntries) break;
      this.vectors.delete(oldest);
    }
    return Promise.all(out);
  }
}
