// Knowledge-base folder → chunks → embeddings → index. Re-runnable: chunk ids are stable, so
// upserts replace; afterwards each document's chunks beyond its current ones, and every
// chunk of a document no longer in the folder, are pruned.
import type { Embedder } from '../../providers/embeddings/port';
import type { VectorIndex } from '../../providers/vectors/port';
import { DEFAULT_CHUNKER, chunkDocument, embeddingText, type ChunkerOptions } from './chunker';
import { loadKnowledgeFolder } from './documents';

/** An index ingest can fully reconcile: it also lists the documents it holds. */
export type IngestTarget = VectorIndex & { documentIds(): Promise<string[]> };

export interface IngestOptions {
  folder: string;
  index: IngestTarget;
  embedder: Embedder;
  chunker?: ChunkerOptions;
  /** Chunks embedded and upserted per step (one progress line each). */
  batchSize?: number;
  log?: (line: string) => void;
}

export interface IngestReport {
  documents: number;
  chunks: number;
  /** Stale chunks pruned (shrunk documents and deleted ones). */
  pruned: number;
  /** Documents that were in the index but no longer in the folder. */
  deletedDocuments: string[];
  ms: number;
}

export async function ingestFolder(opts: IngestOptions): Promise<IngestReport> {
  const started = performance.now();
  const log = opts.log ?? (() => undefined);
  const batchSize = opts.batchSize ?? 16;
  const docs = await loadKnowledgeFolder(opts.folder);
  const chunks = docs.flatMap((d) => chunkDocument(d, opts.chunker ?? DEFAULT_CHUNKER));
  log(`[kb] ${docs.length} documents, ${chunks.length} chunks from ${opts.folder}`);

  await opts.index.ensureCollection(opts.embedder.dimensions);
  for (let i = 0; i < chunks.length; i += batchSize) {
    const batch = chunks.slice(i, i + batchSize);
    const vectors = await opts.embedder.embed(batch.map(embeddingText));
    await opts.index.upsert(batch.map((chunk, j) => ({ chunk, vector: vectors[j]! })));
    const last = batch[batch.length - 1]!;
    log(`[kb] ${i + batch.length}/${chunks.length} chunks embedded and upserted (… ${last.docId})`);
  }

  let pruned = 0;
  const byDoc = new Map(docs.map((d) => [d.docId, [] as string[]]));
  for (const c of chunks) byDoc.get(c.docId)!.push(c.id);
  for (const [docId, keep] of byDoc) pruned += await opts.index.pruneDocument(docId, keep);
  const deletedDocuments = (await opts.index.documentIds()).filter((d) => !byDoc.has(d));
  for (const docId of deletedDocuments) pruned += await opts.index.pruneDocument(docId, []);
  if (pruned)
    log(
      `[kb] pruned ${pruned} stale chunks` +
        (deletedDocuments.length ? ` (deleted: ${deletedDocuments.join(', ')})` : ''),
    );
  return {
    documents: docs.length,
    chunks: chunks.length,
    pruned,
    deletedDocuments,
    ms: performance.now() - started,
  };
}
