// The vector-index family: the knowledge base's chunks searched by similarity.

/** Knowledge-base topics: a retrieval payload filter and the KB intents' target. */
export type KbTopic = 'billing' | 'plans' | 'outages' | 'policies';

export interface KbChunk {
  /** Stable across re-ingests: `<docId>#<n>`; upserts by it never duplicate. */
  id: string;
  /** Source file, relative to the knowledge-base folder. */
  docId: string;
  title: string;
  topic: KbTopic;
  /** The section's prose; a section with a heading has it as the first line. */
  text: string;
}

/**
 * A chunk's section heading and its prose. The chunker writes the heading as the first line,
 * with no full stop; prose lines end with one, and a list item starts with "- ". A heading
 * names a section: it is not an answer.
 */
export function chunkHeading(text: string): { heading?: string; body: string } {
  const [first = '', ...rest] = text.split('\n');
  const heading = rest.length > 0 && !/^\s*[-*+]\s/.test(first) && !/[.!:]\s*$/.test(first);
  return heading ? { heading: first.trim(), body: rest.join('\n') } : { body: text };
}

export interface ScoredChunk extends KbChunk {
  /** Cosine similarity to the query, higher is closer. */
  score: number;
}

export interface VectorIndex {
  readonly name: string;
  /** Creates the collection/table if missing; idempotent. */
  ensureCollection(dimensions: number): Promise<void>;
  /** Inserts or replaces by chunk id. */
  upsert(points: { chunk: KbChunk; vector: Float32Array }[]): Promise<void>;
  search(vector: Float32Array, opts: { topK: number; topic?: KbTopic }): Promise<ScoredChunk[]>;
  /** Removes a document's chunks whose ids are not in keep (a shorter re-ingested doc). */
  pruneDocument(docId: string, keep: string[]): Promise<number>;
  count(): Promise<number>;
  /** Documents with chunks in the index (ingest prunes the ones deleted from the folder). */
  documentIds(): Promise<string[]>;
}
