// VectorIndex on PGlite (Postgres in WebAssembly, in-process) with pgvector: the local
// default. Exact cosine search over a table; at a call center's KB size (hundreds to a few
// thousand chunks) a sequential scan takes a few ms and, unlike an HNSW index, never drops
// rows that a topic filter would keep. PGlite is single-process: several processes share
// one index through published snapshots (see pglite-snapshot.ts), not through one data dir.
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { ProviderError } from '../provider-error';
import type { KbChunk, KbTopic, ScoredChunk, VectorIndex } from './port';

const TABLE = 'kb_chunks';

type Db = PGlite;

interface Row {
  id: string;
  doc_id: string;
  title: string;
  topic: KbTopic;
  text: string;
  score: number;
}

/** pgvector's text form: `[0.1,0.2,…]`. */
const literal = (v: Float32Array): string => `[${Array.from(v).join(',')}]`;

export class PgliteVectorIndex implements VectorIndex {
  readonly name = 'pglite';
  private dimensions?: number;

  constructor(readonly db: Db) {}

  /** In memory (tests, writers) or from a snapshot made by dumpDataDir (readers). */
  static async open(opts: { loadDataDir?: Blob } = {}): Promise<PgliteVectorIndex> {
    const db = await PGlite.create({
      extensions: { vector },
      ...(opts.loadDataDir && { loadDataDir: opts.loadDataDir }),
    });
    return new PgliteVectorIndex(db);
  }

  async ensureCollection(dimensions: number): Promise<void> {
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 16000)
      throw new ProviderError(
        this.name,
        'bad_input',
        `vector dimensions must be an integer in [1, 16000], not ${dimensions}`,
      );
    await this.db.exec('CREATE EXTENSION IF NOT EXISTS vector');
    const existing = await this.collectionDimensions();
    if (existing !== undefined && existing !== dimensions)
      throw new ProviderError(
        this.name,
        'bad_input',
        `the ${TABLE} table holds ${existing}-d vectors, not ${dimensions}-d: re-ingest into a fresh index`,
      );
    await this.db.exec(`
      CREATE TABLE IF NOT EXISTS ${TABLE} (
        id text PRIMARY KEY,
        doc_id text NOT NULL,
        title text NOT NULL,
        topic text NOT NULL,
        text text NOT NULL,
        embedding vector(${dimensions}) NOT NULL
      );
      CREATE INDEX IF NOT EXISTS ${TABLE}_doc_id ON ${TABLE} (doc_id);
      CREATE INDEX IF NOT EXISTS ${TABLE}_topic ON ${TABLE} (topic);`);
    this.dimensions = dimensions;
  }

  async upsert(points: { chunk: KbChunk; vector: Float32Array }[]): Promise<void> {
    if (!points.length) return;
    const dims = await this.requireDimensions();
    for (const { chunk, vector: v } of points)
      if (v.length !== dims)
        throw new ProviderError(
          this.name,
          'bad_input',
          `chunk ${chunk.id}: a ${v.length}-d vector for a ${dims}-d index`,
        );
    await this.db.transaction(async (tx) => {
      for (const { chunk, vector: v } of points)
        await tx.query(
          `INSERT INTO ${TABLE} (id, doc_id, title, topic, text, embedding)
           VALUES ($1, $2, $3, $4, $5, $6::vector)
           ON CONFLICT (id) DO UPDATE SET doc_id = EXCLUDED.doc_id, title = EXCLUDED.title,
             topic = EXCLUDED.topic, text = EXCLUDED.text, embedding = EXCLUDED.embedding`,
          [chunk.id, chunk.docId, chunk.title, chunk.topic, chunk.text, literal(v)],
        );
    });
  }

  async search(
    vector: Float32Array,
    opts: { topK: number; topic?: KbTopic },
  ): Promise<ScoredChunk[]> {
    const topK = Math.max(1, Math.floor(opts.topK));
    const params: unknown[] = [literal(vector), topK];
    if (opts.topic) params.push(opts.topic);
    const { rows } = await this.db.query<Row>(
      `SELECT id, doc_id, title, topic, text, 1 - (embedding <=> $1::vector) AS score
       FROM ${TABLE} ${opts.topic ? 'WHERE topic = $3' : ''}
       ORDER BY embedding <=> $1::vector, id LIMIT $2`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      docId: r.doc_id,
      title: r.title,
      topic: r.topic,
      text: r.text,
      score: Number(r.score),
    }));
  }

  async pruneDocument(docId: string, keep: string[]): Promise<number> {
    const { rows } = await this.db.query<{ id: string }>(
      `DELETE FROM ${TABLE} WHERE doc_id = $1 AND NOT (id = ANY($2::text[])) RETURNING id`,
      [docId, keep],
    );
    return rows.length;
  }

  async count(): Promise<number> {
    if ((await this.collectionDimensions()) === undefined) return 0;
    const { rows } = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE}`);
    return rows[0]?.n ?? 0;
  }

  /** Documents that have chunks in the index (ingest prunes the ones deleted from the folder). */
  async documentIds(): Promise<string[]> {
    if ((await this.collectionDimensions()) === undefined) return [];
    const { rows } = await this.db.query<{ doc_id: string }>(
      `SELECT DISTINCT doc_id FROM ${TABLE} ORDER BY doc_id`,
    );
    return rows.map((r) => r.doc_id);
  }

  /** A gzipped tarball of the whole database, loadable with open({ loadDataDir }). */
  async dump(): Promise<Blob> {
    return this.db.dumpDataDir('gzip');
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }

  private async requireDimensions(): Promise<number> {
    this.dimensions ??= await this.collectionDimensions();
    if (this.dimensions === undefined)
      throw new ProviderError(
        this.name,
        'bad_input',
        'the vector index has no collection yet: call ensureCollection first',
      );
    return this.dimensions;
  }

  /** The declared size of the embedding column (pgvector keeps it in atttypmod); none yet: undefined. */
  async collectionDimensions(): Promise<number | undefined> {
    const { rows } = await this.db.query<{ dims: number }>(
      `SELECT a.atttypmod AS dims FROM pg_attribute a
       WHERE a.attrelid = to_regclass($1) AND a.attname = 'embedding'`,
      [TABLE],
    );
    return rows[0]?.dims;
  }
}
