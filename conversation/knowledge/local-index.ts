// The local default knowledge index: ingest a folder into the PGlite writer and publish the
// snapshot every reader process loads.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { paths, repoRoot } from '../../infra/paths';
import type { Embedder } from '../../providers/embeddings/port';
import { sharedMiniLmEmbedder } from '../../providers/embeddings/minilm-onnx';
import {
  knowledgeStore,
  openKnowledgeIndex,
  openKnowledgeWriter,
  type KnowledgeStore,
  type KnowledgeWriter,
  type SnapshotVectorIndex,
} from '../../providers/vectors/pglite-snapshot';
import { ingestFolder, type IngestReport } from './ingest';

export const DEFAULT_KB_FOLDER = path.join(repoRoot, 'kb');

/**
 * What embeds the knowledge base and the questions searched in it. MiniLM rather than USE
 * lite: it finds the answering passage more often, most of all for questions as a recognizer
 * misheard them ("a payment to boast"), and in half the time (docs/answers.md).
 */
export const knowledgeEmbedder = (): Embedder => sharedMiniLmEmbedder();

/** The local index's files, one set per embedder: a new model builds a new index. */
export const localKnowledgeStore = (): KnowledgeStore =>
  knowledgeStore(path.join(paths().data, 'kb', knowledgeEmbedder().name));

export const openLocalKnowledgeIndex = (): SnapshotVectorIndex =>
  openKnowledgeIndex(localKnowledgeStore());

export async function ingestAndPublish(
  opts: {
    folder?: string;
    store?: KnowledgeStore;
    embedder?: Embedder;
    log?: (line: string) => void;
  } = {},
): Promise<IngestReport & { snapshot: string; bytes: number }> {
  const log = opts.log ?? (() => undefined);
  const writer = await openKnowledgeWriter(opts.store ?? localKnowledgeStore(), { log });
  try {
    return await ingestInto(writer, { ...opts, log });
  } finally {
    await writer.close();
  }
}

/**
 * Builds the index from kb/ when none was published yet (first start of the system). Any
 * number of processes may ask at once: one builds it, the others wait for the writer lock
 * and then find it published.
 */
export async function ensureLocalKnowledgeIndex(
  opts: { log?: (line: string) => void; store?: KnowledgeStore; folder?: string } = {},
): Promise<void> {
  const store = opts.store ?? localKnowledgeStore();
  const log = opts.log ?? (() => undefined);
  if (existsSync(store.snapshot)) return;
  const writer = await openKnowledgeWriter(store, { log });
  try {
    if (existsSync(store.snapshot)) return; // built by the writer we waited for
    const folder = opts.folder ?? DEFAULT_KB_FOLDER;
    log(`[kb] no knowledge index yet: building it from ${folder}`);
    await ingestInto(writer, { folder, log });
  } finally {
    await writer.close();
  }
}

async function ingestInto(
  writer: KnowledgeWriter,
  opts: { folder?: string; embedder?: Embedder; log: (line: string) => void },
): Promise<IngestReport & { snapshot: string; bytes: number }> {
  const report = await ingestFolder({
    folder: opts.folder ?? DEFAULT_KB_FOLDER,
    index: writer.index,
    embedder: opts.embedder ?? knowledgeEmbedder(),
    log: opts.log,
  });
  const { path: snapshot, bytes } = await writer.publish();
  opts.log(`[kb] published ${(bytes / 1e6).toFixed(1)} MB snapshot ${snapshot}`);
  return { ...report, snapshot, bytes };
}
