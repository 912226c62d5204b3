// Question (+ the topic its intent maps to) → the nearest knowledge-base chunks.
import type { Embedder } from '../../providers/embeddings/port';
import type { KbTopic, ScoredChunk, VectorIndex } from '../../providers/vectors/port';

export interface RetrieveOptions {
  topic?: KbTopic;
  /** How many chunks to return; 5 unless told. */
  topK?: number;
  /** Drop chunks less similar than this (cosine); none dropped unless told. */
  minScore?: number;
}

export interface Retrieval {
  chunks: ScoredChunk[];
  embedMs: number;
  searchMs: number;
}

export class Retriever {
  constructor(
    private readonly embedder: Embedder,
    private readonly index: VectorIndex,
  ) {}

  async retrieve(question: string, opts: RetrieveOptions = {}): Promise<ScoredChunk[]> {
    return (await this.retrieveTimed(question, opts)).chunks;
  }

  /** The same, with where the time went (evaluation and benchmarks). */
  async retrieveTimed(question: string, opts: RetrieveOptions = {}): Promise<Retrieval> {
    const text = question.trim();
    if (!text) throw new Error('cannot retrieve for an empty question');
    const t0 = performance.now();
    const [vector] = await this.embedder.embed([text]);
    const t1 = performance.now();
    const found = await this.index.search(vector!, {
      topK: opts.topK ?? 5,
      ...(opts.topic && { topic: opts.topic }),
    });
    const t2 = performance.now();
    const chunks = opts.minScore === undefined ? found : found.filter((c) => c.score >= opts.minScore!); // prettier-ignore
    return { chunks, embedMs: t1 - t0, searchMs: t2 - t1 };
  }
}
