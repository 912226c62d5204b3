// The fake VectorIndex, in process memory: exact cosine search over what was upserted,
// for tests of chains and retrieval without a database; `failures` makes it fail on demand.
import { FakeFailures } from '../fake-failures';
import { ProviderError } from '../provider-error';
import type { KbChunk, KbTopic, ScoredChunk, VectorIndex } from './port';

export class FakeVectorIndex implements VectorIndex {
  readonly name = 'fake-vectors';
  readonly failures = new FakeFailures(this.name);
  private dimensions?: number;
  private readonly points = new Map<string, { chunk: KbChunk; vector: Float32Array }>();

  async ensureCollection(dimensions: number): Promise<void> {
    await this.failures.check();
    if (this.dimensions !== undefined && this.dimensions !== dimensions)
      throw new ProviderError(
        this.name,
        'bad_input',
        `holds ${this.dimensions}-d vectors, not ${dimensions}-d`,
      );
    this.dimensions = dimensions;
  }

  async upsert(points: { chunk: KbChunk; vector: Float32Array }[]): Promise<void> {
    await this.failures.check();
    for (const p of points) {
      if (p.vector.length !== this.dimensions)
        throw new ProviderError(
          this.name,
          'bad_input',
          `chunk ${p.chunk.id}: a ${p.vector.length}-d vector`,
        );
      this.points.set(p.chunk.id, { chunk: { ...p.chunk }, vector: Float32Array.from(p.vector) });
    }
  }

  async search(
    vector: Float32Array,
    opts: { topK: number; topic?: KbTopic },
  ): Promise<ScoredChunk[]> {
    await this.failures.check();
    return [...this.points.values()]
      .filter((p) => !opts.topic || p.chunk.topic === opts.topic)
      .map((p) => ({ ...p.chunk, score: cosine(vector, p.vector) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, opts.topK);
  }

  async pruneDocument(docId: string, keep: string[]): Promise<number> {
    await this.failures.check();
    let removed = 0;
    for (const [id, p] of this.points)
      if (p.chunk.docId === docId && !keep.includes(id)) removed += Number(this.points.delete(id));
    return removed;
  }

  async count(): Promise<number> {
    await this.failures.check();
    return this.points.size;
  }

  async documentIds(): Promise<string[]> {
    await this.failures.check();
    return [...new Set([...this.points.values()].map((p) => p.chunk.docId))].sort();
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / (Math.sqrt(na * nb) || 1);
}
