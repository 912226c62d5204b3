// VectorIndex on Qdrant (production) through the official REST client. Qdrant point ids
// must be unsigned integers or UUIDs, so a chunk's point id is the UUID v5 of its chunk id:
// the same chunk always lands on the same point and a re-ingest replaces, never duplicates.
// The chunk id itself travels in the payload. Distance is cosine, so scores are cosine
// similarities like the local index's.
import type { HealthCheck } from '../health-check';
import { createHash } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { ProviderError } from '../provider-error';
import type { KbChunk, KbTopic, ScoredChunk, VectorIndex } from './port';

export interface QdrantOptions {
  /** e.g. https://xyz.cloud.qdrant.io:6333 */
  url: string;
  collection: string;
  apiKey?: string;
  timeoutMs: number;
}

export const QDRANT_DEFAULTS = { collection: 'switchboard_kb', timeoutMs: 5000 };

/** Options from env (QDRANT_URL, QDRANT_API_KEY, QDRANT_COLLECTION) merged under explicit ones. */
export function qdrantOptions(
  opts: Partial<QdrantOptions> = {},
  env: NodeJS.ProcessEnv = process.env,
): QdrantOptions {
  const url = opts.url ?? env.QDRANT_URL;
  if (!url) throw new Error('QDRANT_URL is not set (e.g. http://127.0.0.1:6333)');
  return {
    ...QDRANT_DEFAULTS,
    ...(env.QDRANT_COLLECTION && { collection: env.QDRANT_COLLECTION }),
    ...(env.QDRANT_API_KEY && { apiKey: env.QDRANT_API_KEY }),
    ...opts,
    url,
  };
}

/** Namespace of chunk-id UUIDs (v5); never change it, or every point id changes. */
const CHUNK_NAMESPACE = '6f1d7c5e-3b2a-4c8e-9d0f-5a4b3c2d1e0f';

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name: string, namespace = CHUNK_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

interface Payload {
  chunkId: string;
  docId: string;
  title: string;
  topic: KbTopic;
  text: string;
}

export class QdrantVectorIndex implements VectorIndex, HealthCheck {
  readonly name = 'qdrant';
  private readonly client: QdrantClient;
  private readonly collection: string;

  constructor(opts: Partial<QdrantOptions> = {}, env: NodeJS.ProcessEnv = process.env) {
    const o = qdrantOptions(opts, env);
    this.collection = o.collection;
    const url = new URL(o.url);
    this.client = new QdrantClient({
      url: `${url.protocol}//${url.hostname}`,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 6333,
      ...(url.pathname !== '/' && { prefix: url.pathname.replace(/\/$/, '') }),
      ...(o.apiKey && { apiKey: o.apiKey }),
      timeout: o.timeoutMs,
      // The version probe is a fire-and-forget request at construction; skip it.
      checkCompatibility: false,
    });
  }

  async ensureCollection(dimensions: number): Promise<void> {
    await this.call('ensure collection', async () => {
      const { exists } = await this.client.collectionExists(this.collection);
      if (exists) {
        const info = await this.client.getCollection(this.collection);
        const vectors = info.config.params.vectors as { size?: number } | undefined;
        if (vectors?.size !== dimensions)
          throw new ProviderError(
            this.name,
            'bad_input',
            `Qdrant collection ${this.collection} holds ${String(vectors?.size)}-d vectors, not ${dimensions}-d`,
          );
        return;
      }
      try {
        await this.client.createCollection(this.collection, {
          vectors: { size: dimensions, distance: 'Cosine' },
        });
      } catch (err) {
        if (status(err) !== 409) throw err; // another process created it first: fine
      }
      // Keyword indexes make the topic filter and the per-document prune fast.
      for (const field_name of ['topic', 'docId'])
        await this.client.createPayloadIndex(this.collection, {
          field_name,
          field_schema: 'keyword',
          wait: true,
        });
    });
  }

  async upsert(points: { chunk: KbChunk; vector: Float32Array }[]): Promise<void> {
    if (!points.length) return;
    await this.call('upsert', () =>
      this.client.upsert(this.collection, {
        wait: true,
        points: points.map(({ chunk, vector }) => ({
          id: uuidV5(chunk.id),
          vector: Array.from(vector),
          payload: {
            chunkId: chunk.id,
            docId: chunk.docId,
            title: chunk.title,
            topic: chunk.topic,
            text: chunk.text,
          } satisfies Payload,
        })),
      }),
    );
  }

  async search(
    vector: Float32Array,
    opts: { topK: number; topic?: KbTopic },
  ): Promise<ScoredChunk[]> {
    const res = await this.call('search', () =>
      this.client.query(this.collection, {
        query: Array.from(vector),
        limit: Math.max(1, Math.floor(opts.topK)),
        ...(opts.topic && { filter: { must: [{ key: 'topic', match: { value: opts.topic } }] } }),
        with_payload: true,
      }),
    );
    return res.points.map((p) => {
      const payload = p.payload as unknown as Payload;
      return {
        id: payload.chunkId,
        docId: payload.docId,
        title: payload.title,
        topic: payload.topic,
        text: payload.text,
        score: p.score,
      };
    });
  }

  async pruneDocument(docId: string, keep: string[]): Promise<number> {
    const filter = {
      must: [{ key: 'docId', match: { value: docId } }],
      ...(keep.length && { must_not: [{ has_id: keep.map((id) => uuidV5(id)) }] }),
    };
    return this.call('prune', async () => {
      // Qdrant's delete does not say how many points went: count them first.
      const { count } = await this.client.count(this.collection, { filter, exact: true });
      if (count > 0) await this.client.delete(this.collection, { filter, wait: true });
      return count;
    });
  }

  /** The health check: `GET /collections`, a read of the collection list. */
  async check(): Promise<void> {
    await this.call('health check', () => this.client.getCollections());
  }

  /** Points in the collection; a collection not created yet holds none. */
  async count(): Promise<number> {
    const res = await this.call('count', () =>
      this.client.count(this.collection, { exact: true }).catch(missingAs(undefined)),
    );
    return res?.count ?? 0;
  }

  /** Documents that have points (a facet over the indexed docId field). */
  async documentIds(): Promise<string[]> {
    const res = await this.call('list documents', () =>
      this.client
        .facet(this.collection, { key: 'docId', limit: 100_000, exact: true })
        .catch(missingAs(undefined)),
    );
    return (res?.hits ?? []).map((h) => String(h.value)).sort();
  }

  /** Client errors as ProviderErrors (4xx final except 408/429). */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      const message = `Qdrant ${what} on ${this.collection} failed: ${(err as Error).message}`;
      const code = status(err);
      if (code !== undefined) throw ProviderError.fromStatus(this.name, code, message);
      throw new ProviderError(this.name, 'unavailable', message, { cause: err });
    }
  }
}

/** A 404 (no such collection) resolves to the given value; other errors pass through. */
const missingAs =
  <T>(value: T) =>
  (err: unknown): T => {
    if (status(err) === 404) return value;
    throw err;
  };

/** HTTP status of a client error: ApiError carries it; unexpected responses only in the text. */
function status(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.name === 'QdrantClientResourceExhaustedError') return 429;
  const s = (err as { status?: unknown }).status;
  if (typeof s === 'number') return s;
  const m = /Unexpected Response: (\d{3})/.exec(err.message);
  return m ? Number(m[1]) : undefined;
}
