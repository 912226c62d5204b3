// The vector index as a fallback chain: a search, a count or a listing goes down the links
// until one answers; what writes (the collection, upserts, prunes) goes to the first
// healthy link only, so one index holds the knowledge base and a retried write lands where
// the first try may have.
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import type { KbChunk, KbTopic, ScoredChunk, VectorIndex } from './port';

export class FallbackVectorIndex implements VectorIndex {
  readonly name: string;
  private readonly runner: FallbackRunner<VectorIndex>;

  constructor(links: FallbackLink<VectorIndex>[], gate?: FallbackGate) {
    this.runner = new FallbackRunner('vectors', links, gate);
    this.name = links.map((l) => l.provider).join(',');
  }

  ensureCollection(dimensions: number): Promise<void> {
    return this.write((index) => index.ensureCollection(dimensions));
  }

  upsert(points: { chunk: KbChunk; vector: Float32Array }[]): Promise<void> {
    return this.write((index) => index.upsert(points));
  }

  pruneDocument(docId: string, keep: string[]): Promise<number> {
    return this.write((index) => index.pruneDocument(docId, keep));
  }

  search(vector: Float32Array, opts: { topK: number; topic?: KbTopic }): Promise<ScoredChunk[]> {
    return this.read((index) => index.search(vector, opts));
  }

  count(): Promise<number> {
    return this.read((index) => index.count());
  }

  documentIds(): Promise<string[]> {
    return this.read((index) => index.documentIds());
  }

  private async read<T>(call: (index: VectorIndex) => Promise<T>): Promise<T> {
    return (await this.runner.run(call)).value;
  }

  private async write<T>(call: (index: VectorIndex) => Promise<T>): Promise<T> {
    return (await this.runner.run(call, { firstOnly: true })).value;
  }
}
