// Sharing one PGlite knowledge index between processes. PGlite is single-process, yet the
// call worker, the media edge and the CLI all search while `switchboard kb ingest` may
// re-run. So the index lives as a published snapshot (a gzipped dump of the database):
//  - the one writer (a cross-process lock; others wait for it) loads the current snapshot into memory,
//    ingests, dumps, writes a temp file and renames it over the snapshot — atomic, so a
//    reader sees the old or the new index, never half of one, and a crashed ingest
//    publishes nothing;
//  - each reader loads the snapshot in memory and, when a search finds the file changed
//    (a cheap stat), loads the new one in the background and swaps it in, serving the
//    old one meanwhile.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { acquireFileLock } from '../../infra/file-lock';
import type { KbTopic, ScoredChunk, VectorIndex } from './port';
import { PgliteVectorIndex } from './pglite';

export interface KnowledgeStore {
  /** Directory of the snapshot and the writer's lock. */
  dir: string;
  snapshot: string;
  /** The writer's lock (a directory while held). */
  lock: string;
}

/** The snapshot and lock in `dir` (the local index's own: conversation/knowledge/local-index.ts). */
export function knowledgeStore(dir: string): KnowledgeStore {
  return { dir, snapshot: path.join(dir, 'index.tar.gz'), lock: path.join(dir, 'writer-lock') };
}

export class KnowledgeIndexMissingError extends Error {
  constructor(snapshot: string) {
    super(`no knowledge index at ${snapshot}: build it with ./switchboard kb ingest`);
    this.name = 'KnowledgeIndexMissingError';
  }
}

// --- writer ------------------------------------------------------------------------------

export interface KnowledgeWriter {
  /** The in-memory index being written; its changes reach readers on publish(). */
  index: PgliteVectorIndex;
  /** Atomically replaces the snapshot readers load. */
  publish(): Promise<{ path: string; bytes: number }>;
  /** Releases the lock (without publishing what was not published). */
  close(): Promise<void>;
}

export interface WriterLockOptions {
  /** How long to wait for another writer; default 5 min. */
  waitMs?: number;
  /** A dead writer's lock is taken over after this long; default 20 s. */
  staleMs?: number;
  log?: (line: string) => void;
}

/** Takes the writer lock (waiting for another writer), then loads the current snapshot. */
export async function openKnowledgeWriter(
  store: KnowledgeStore,
  opts: WriterLockOptions = {},
): Promise<KnowledgeWriter> {
  await mkdir(store.dir, { recursive: true });
  const release = await acquireFileLock(store.lock, {
    what: 'the knowledge-base writer',
    waitMs: opts.waitMs ?? 5 * 60_000,
    ...(opts.staleMs !== undefined && { staleMs: opts.staleMs }),
    ...(opts.log && { log: opts.log }),
  });
  let index: PgliteVectorIndex;
  try {
    const existing = await readFile(store.snapshot).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    index = await PgliteVectorIndex.open(existing ? { loadDataDir: new Blob([existing]) } : {});
  } catch (err) {
    await release();
    throw err;
  }
  return {
    index,
    async publish() {
      const bytes = Buffer.from(await (await index.dump()).arrayBuffer());
      const tmp = `${store.snapshot}.${process.pid}.tmp`;
      try {
        await writeFile(tmp, bytes, { flush: true });
        await rename(tmp, store.snapshot);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return { path: store.snapshot, bytes: bytes.length };
    },
    async close() {
      try {
        await index.close();
      } finally {
        await release();
      }
    },
  };
}

// --- reader ------------------------------------------------------------------------------

interface Loaded {
  index: PgliteVectorIndex;
  version: string;
  active: number;
  retired: boolean;
}

/**
 * A read-only VectorIndex over the published snapshot, reloaded when it changes. Writes
 * throw: the writer (openKnowledgeWriter) is the only one that changes the index.
 */
export class SnapshotVectorIndex implements VectorIndex {
  readonly name = 'pglite';
  private current?: Loaded;
  private loading?: Promise<Loaded>;
  private closed = false;

  constructor(readonly store: KnowledgeStore) {}

  /** Loads the newest snapshot if it changed; resolves true when a new one was swapped in. */
  async refresh(): Promise<boolean> {
    if (this.closed) throw new Error('the knowledge index was closed');
    const version = await this.snapshotVersion();
    if (version === this.current?.version) return false;
    await this.load(version);
    return true;
  }

  async ensureCollection(dimensions: number): Promise<void> {
    const dims = await this.withIndex((index) => index.collectionDimensions());
    if (dims !== dimensions)
      throw new Error(`the knowledge index holds ${dims}-d vectors, not ${dimensions}-d`);
  }

  upsert(): Promise<void> {
    return Promise.reject(new Error('the published knowledge index is read-only: ingest with openKnowledgeWriter')); // prettier-ignore
  }

  pruneDocument(): Promise<number> {
    return Promise.reject(new Error('the published knowledge index is read-only: ingest with openKnowledgeWriter')); // prettier-ignore
  }

  search(vector: Float32Array, opts: { topK: number; topic?: KbTopic }): Promise<ScoredChunk[]> {
    return this.withIndex((index) => index.search(vector, opts));
  }

  count(): Promise<number> {
    return this.withIndex((index) => index.count());
  }

  documentIds(): Promise<string[]> {
    return this.withIndex((index) => index.documentIds());
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.loading?.catch(() => undefined);
    const loaded = this.current;
    this.current = undefined;
    if (loaded) await this.retire(loaded);
  }

  /** Serves from the loaded index; a changed snapshot is loaded in the background. */
  private async withIndex<T>(fn: (index: PgliteVectorIndex) => Promise<T>): Promise<T> {
    if (!this.current) await this.refresh();
    else
      void this.snapshotVersion()
        .then((v) => (!this.closed && v !== this.current?.version ? this.load(v) : undefined))
        .catch(() => undefined); // a vanished snapshot keeps the loaded index serving
    const loaded = this.current!;
    loaded.active++;
    try {
      return await fn(loaded.index);
    } finally {
      loaded.active--;
      if (loaded.retired && loaded.active === 0) await loaded.index.close();
    }
  }

  private load(version: string): Promise<Loaded> {
    this.loading ??= (async () => {
      try {
        const bytes = await readFile(this.store.snapshot).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') throw new KnowledgeIndexMissingError(this.store.snapshot);
          throw err;
        });
        const index = await PgliteVectorIndex.open({ loadDataDir: new Blob([bytes]) });
        if (this.closed) {
          await index.close(); // closed while loading: keep nothing alive
          throw new Error('the knowledge index was closed');
        }
        // The file may have been replaced while it was read: the version read before is the
        // conservative label (a later stat will differ and trigger another load).
        const loaded: Loaded = { index, version, active: 0, retired: false };
        const old = this.current;
        this.current = loaded;
        if (old) await this.retire(old);
        return loaded;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async retire(loaded: Loaded): Promise<void> {
    loaded.retired = true;
    if (loaded.active === 0) await loaded.index.close();
  }

  /** Identity of the snapshot file: a rename gives a new inode, a rewrite a new mtime/size. */
  private async snapshotVersion(): Promise<string> {
    try {
      const s = await stat(this.store.snapshot);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new KnowledgeIndexMissingError(this.store.snapshot);
      throw err;
    }
  }
}

/** The knowledge index for processes that search (call worker, media edge, CLI). */
export function openKnowledgeIndex(store: KnowledgeStore): SnapshotVectorIndex {
  return new SnapshotVectorIndex(store);
}
