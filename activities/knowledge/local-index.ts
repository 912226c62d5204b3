// The local default knowledge index: ingest a folder into the PGlite writer and publish the
// snapshot every reader process loads.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../infra/paths';
import type { Embedder } from '../ports';
import { sharedUseLiteEmbedder } from '../providers/embeddings/use-lite';
import {
  knowledgeStore,
  openKnowledgeWriter,
  type KnowledgeStore,
} from '../providers/vectors/pglite-snapshot';
import { ingestFolder, type IngestReport } from './ingest';

export const DEFAULT_KB_FOLDER = path.join(repoRoot, 'kb');

export async function ingestAndPublish(
  opts: {
    folder?: string;
    store?: KnowledgeStore;
    embedder?: Embedder;
    log?: (line: string) => void;
  } = {},
): Promise<IngestReport & { snapshot: string; bytes: number }> {
  const log = opts.log ?? (() => undefined);
  const writer = await openKnowledgeWriter(opts.store ?? knowledgeStore());
  try {
    const report = await ingestFolder({
      folder: opts.folder ?? DEFAULT_KB_FOLDER,
      index: writer.index,
      embedder: opts.embedder ?? sharedUseLiteEmbedder(),
      log,
    });
    const { path: snapshot, bytes } = await writer.publish();
    log(`[kb] published ${(bytes / 1e6).toFixed(1)} MB snapshot ${snapshot}`);
    return { ...report, snapshot, bytes };
  } finally {
    await writer.close();
  }
}

/** Builds the index from kb/ when none was published yet (first start of the system). */
export async function ensureLocalKnowledgeIndex(
  log?: (line: string) => void,
  store: KnowledgeStore = knowledgeStore(),
): Promise<void> {
  if (existsSync(store.snapshot)) return;
  await ingestAndPublish({ store, ...(log && { log }) });
}
