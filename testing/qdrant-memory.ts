// A loopback HTTP server that stands in for Qdrant with collections kept in memory: unlike the
// replay (testing/qdrant-replay.ts), it holds what was upserted and answers real searches,
// so a benchmark can ingest the knowledge base into it and retrieve from it call after call.
// It answers the REST routes the adapter (providers/vectors/qdrant.ts) uses, in the shapes of
// Qdrant's API reference: the collection list, exists, info, create, payload indexes, upsert,
// query (and the older points/search), count, delete and facet by filter; scores are cosine
// similarities. Filters: `must`, `must_not` and `should` of `match.value` and `has_id`.
import type { IncomingMessage } from 'node:http';
import type { Answerer } from '../conversation/answers/answerer';
import { createKnowledgeAnswerer } from '../conversation/answers/knowledge-answerer';
import { ingestFolder } from '../conversation/knowledge/ingest';
import { DEFAULT_KB_FOLDER, knowledgeEmbedder } from '../conversation/knowledge/local-index';
import type { ProviderHealth } from '../providers/health/provider-health';
import { QdrantVectorIndex } from '../providers/vectors/qdrant';
import { JsonHttpServer, readJsonBody, type JsonReply } from './json-http';

type PointId = string | number;

interface Point {
  id: PointId;
  /** Normalized at upsert, as Qdrant does for cosine distance: the score is a dot product. */
  vector: number[];
  payload: Record<string, unknown>;
  version: number;
}

interface Collection {
  size: number;
  distance: string;
  points: Map<string, Point>;
  indexes: Set<string>;
}

interface Condition {
  key?: string;
  match?: { value?: unknown };
  has_id?: PointId[];
}

interface Filter {
  must?: Condition[];
  must_not?: Condition[];
  should?: Condition[];
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class QdrantMemoryServer {
  /** Requests served, by route (`POST /collections/{name}/points/query`), for assertions. */
  readonly served = new Map<string, number>();
  private readonly collections = new Map<string, Collection>();
  private operation = 0;
  private readonly http = new JsonHttpServer((req) => this.handle(req));

  start(): Promise<string> {
    return this.http.start();
  }

  close(): Promise<void> {
    return this.http.stop();
  }

  /** Forgets every collection. */
  reset(): void {
    this.collections.clear();
  }

  private async handle(req: IncomingMessage): Promise<JsonReply> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://x');
    const body = ((await readJsonBody(req)) ?? {}) as Record<string, unknown>;
    const [root, name, ...rest] = url.pathname.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    const route = `${method} /${[root, name && '{name}', ...rest].filter(Boolean).join('/')}`;
    this.served.set(route, (this.served.get(route) ?? 0) + 1);
    const time = () => (performance.now() - started) / 1000;
    try {
      if (root !== 'collections') throw new BadRequest(404, `Not found: ${url.pathname}`);
      const result = this.route(route, name ? decodeURIComponent(name) : '', body);
      return { status: 200, body: { result, status: 'ok', time: time() } };
    } catch (err) {
      const status = err instanceof BadRequest ? err.status : 500;
      return { status, body: { status: { error: (err as Error).message }, time: time() } };
    }
  }

  private route(route: string, name: string, body: Record<string, unknown>): unknown {
    switch (route) {
      case 'GET /collections':
        return { collections: [...this.collections.keys()].map((n) => ({ name: n })) };
      case 'GET /collections/{name}/exists':
        return { exists: this.collections.has(name) };
      case 'GET /collections/{name}':
        return this.info(this.collection(name));
      case 'PUT /collections/{name}':
        return this.create(name, body);
      case 'PUT /collections/{name}/index':
        this.collection(name).indexes.add(String(body.field_name));
        return this.completed();
      case 'PUT /collections/{name}/points':
        return this.upsert(this.collection(name), body);
      case 'POST /collections/{name}/points/query':
        return { points: this.nearest(this.collection(name), body.query, body) };
      case 'POST /collections/{name}/points/search':
        return this.nearest(this.collection(name), body.vector, body);
      case 'POST /collections/{name}/points/count':
        return { count: this.matching(this.collection(name), body.filter as Filter).length };
      case 'POST /collections/{name}/points/delete':
        return this.remove(this.collection(name), body.filter as Filter);
      case 'POST /collections/{name}/facet':
        return { hits: this.facet(this.collection(name), body) };
      default:
        throw new BadRequest(404, `Not found: ${route}`);
    }
  }

  private collection(name: string): Collection {
    const c = this.collections.get(name);
    if (!c) throw new BadRequest(404, `Not found: Collection \`${name}\` doesn't exist!`);
    return c;
  }

  private create(name: string, body: Record<string, unknown>): boolean {
    if (this.collections.has(name))
      throw new BadRequest(409, `Wrong input: Collection \`${name}\` already exists!`);
    const vectors = body.vectors as { size?: number; distance?: string } | undefined;
    if (!vectors?.size || vectors.distance !== 'Cosine')
      throw new BadRequest(400, 'Wrong input: this stand-in keeps one unnamed cosine vector');
    this.collections.set(name, {
      size: vectors.size,
      distance: vectors.distance,
      points: new Map(),
      indexes: new Set(),
    });
    return true;
  }

  private info(c: Collection): unknown {
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: c.points.size,
      segments_count: 1,
      config: {
        params: {
          vectors: { size: c.size, distance: c.distance },
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
      },
      payload_schema: Object.fromEntries(
        [...c.indexes].map((k) => [k, { data_type: 'keyword', points: c.points.size }]),
      ),
    };
  }

  private upsert(c: Collection, body: Record<string, unknown>): unknown {
    const points = (body.points ?? []) as { id: PointId; vector: number[]; payload?: object }[];
    for (const p of points) {
      if (p.vector.length !== c.size)
        throw new BadRequest(
          400,
          `Wrong input: Vector dimension error: expected dim: ${c.size}, got ${p.vector.length}`,
        );
    }
    const version = ++this.operation;
    for (const p of points) {
      c.points.set(String(p.id), {
        id: p.id,
        vector: normalized(p.vector),
        payload: { ...(p.payload as Record<string, unknown>) },
        version,
      });
    }
    return this.completed(version);
  }

  private nearest(c: Collection, query: unknown, body: Record<string, unknown>): unknown[] {
    if (!Array.isArray(query) || query.length !== c.size)
      throw new BadRequest(400, `Wrong input: expected a ${c.size}-d query vector`);
    const q = normalized(query as number[]);
    const limit = Number(body.limit ?? 10);
    return this.matching(c, body.filter as Filter)
      .map((p) => ({ p, score: Math.fround(p.vector.reduce((s, x, i) => s + x * q[i]!, 0)) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, limit)
      .map(({ p, score }) => ({
        id: p.id,
        version: p.version,
        score,
        ...(body.with_payload === true && { payload: p.payload }),
      }));
  }

  private remove(c: Collection, filter: Filter | undefined): unknown {
    for (const p of this.matching(c, filter)) c.points.delete(String(p.id));
    return this.completed();
  }

  private facet(c: Collection, body: Record<string, unknown>): unknown[] {
    const key = String(body.key);
    const counts = new Map<string, number>();
    for (const p of this.matching(c, body.filter as Filter)) {
      const v = p.payload[key];
      if (typeof v === 'string') counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    return [...counts]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, Number(body.limit ?? 10))
      .map(([value, count]) => ({ value, count }));
  }

  private matching(c: Collection, filter: Filter | undefined): Point[] {
    const all = [...c.points.values()];
    if (!filter) return all;
    return all.filter(
      (p) =>
        (filter.must ?? []).every((k) => holds(p, k)) &&
        !(filter.must_not ?? []).some((k) => holds(p, k)) &&
        (!filter.should?.length || filter.should.some((k) => holds(p, k))),
    );
  }

  private completed(version = ++this.operation): unknown {
    return { operation_id: version, status: 'completed' };
  }
}

function holds(p: Point, k: Condition): boolean {
  if (k.has_id) return k.has_id.some((id) => String(id) === String(p.id));
  if (k.key !== undefined && k.match && 'value' in k.match)
    return p.payload[k.key] === k.match.value;
  throw new BadRequest(400, `Wrong input: this stand-in has no condition ${JSON.stringify(k)}`);
}

function normalized(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}

/**
 * The knowledge base ingested into the stand-in at `url`, and an answerer wired as the
 * processes wire it with `VECTOR_INDEX=qdrant`: Qdrant reached at `qdrantUrl` (a fault proxy
 * in front of the stand-in), the published local index behind it, the template answer.
 */
export async function answererBehindQdrant(
  url: string,
  qdrantUrl: string,
  health: ProviderHealth,
): Promise<Answerer> {
  const env = { ...process.env, LLM_CHAIN: 'template', VECTOR_INDEX: 'qdrant', QDRANT_URL: qdrantUrl }; // prettier-ignore
  await ingestFolder({
    folder: DEFAULT_KB_FOLDER,
    index: new QdrantVectorIndex({ url }, env),
    embedder: knowledgeEmbedder(),
  });
  return createKnowledgeAnswerer({ env, health });
}
