// One conformance suite for every VectorIndex adapter: PGlite + pgvector for real, and
// Qdrant against a loopback server replaying recorded exchanges of its REST API (no Qdrant
// server can be installed here); the replay fails the test on any request it did not
// record; Qdrant against the in-memory stand-in the fault bench searches (the same suite
// keeps it honest); and the fallback adapter wrapping PGlite, alone and reading through [a failing
// fake, PGlite]. The vectors are small and hand-made so the expected order is obvious.
import assert from 'node:assert/strict';
import { ProviderError } from '../../providers/provider-error';
import type { KbChunk, ScoredChunk, VectorIndex } from '../../providers/vectors/port';
import { FakeVectorIndex } from '../../providers/vectors/fake';
import { FallbackVectorIndex } from '../../providers/vectors/fallback';
import { PgliteVectorIndex } from '../../providers/vectors/pglite';
import { QdrantVectorIndex, uuidV5 } from '../../providers/vectors/qdrant';
import { QdrantMemoryServer } from '../../testing/qdrant-memory';
import { QdrantReplayServer } from '../../testing/qdrant-replay';

type Index = VectorIndex & { documentIds(): Promise<string[]> };

const chunk = (id: string, topic: KbChunk['topic'], text: string): KbChunk => ({
  id,
  docId: id.split('#')[0]!,
  title: id.startsWith('billing') ? 'Paying your bill' : 'Internet plans',
  topic,
  text,
});

const POINTS: { chunk: KbChunk; vector: Float32Array }[] = [
  { chunk: chunk('billing/pay.md#0', 'billing', 'Pay online or in the app.'), vector: v(1, 0, 0, 0) },
  { chunk: chunk('billing/pay.md#1', 'billing', 'Card payments post within 1 business day.'), vector: v(0.8, 0.6, 0, 0) },
  { chunk: chunk('billing/pay.md#2', 'billing', 'Mailed checks post within 7 days.'), vector: v(0, 1, 0, 0) },
  { chunk: chunk('plans/internet.md#0', 'plans', 'Fiber 500 is $65 a month.'), vector: v(0.6, 0, 0.8, 0) },
  { chunk: chunk('plans/internet.md#1', 'plans', 'There are no data caps.'), vector: v(0, 0, 0, 1) },
]; // prettier-ignore

function v(...xs: number[]): Float32Array {
  return Float32Array.from(xs);
}

interface Subject {
  name: string;
  start(): Promise<void>;
  /** A fresh, empty index; `fixture` names the Qdrant exchanges this test makes. */
  open(fixture: string): Promise<Index>;
  /** After a test: nothing unexpected happened underneath. */
  check(): void;
  /** What went wrong underneath, to print beside a failed test. */
  explain(): string[];
  stop(): Promise<void>;
}

const replay = new QdrantReplayServer();
let qdrantUrl = '';
const memory = new QdrantMemoryServer();
let memoryUrl = '';
let pglite: PgliteVectorIndex | undefined;

const SUBJECTS: Subject[] = [
  {
    name: 'pglite + pgvector (for real)',
    async start() {
      pglite = await PgliteVectorIndex.open();
    },
    async open() {
      await pglite!.db.exec('DROP TABLE IF EXISTS kb_chunks');
      return pglite!;
    },
    check: () => undefined,
    explain: () => [],
    stop: async () => pglite?.close(),
  },
  pgliteSubject(
    'fallback(pglite)',
    (real) => new FallbackVectorIndex([{ provider: 'pglite', port: real }]),
  ),
  // Reads fall through the failing fake; writes never fall through (one index holds the
  // knowledge base), so they go to PGlite itself here.
  pgliteSubject('fallback(failing fake, pglite) reading', (real) => {
    const down = new FakeVectorIndex();
    down.failures.failWith('unavailable');
    const chain = new FallbackVectorIndex([
      { provider: 'fake', port: down },
      { provider: 'pglite', port: real },
    ]);
    return {
      name: chain.name,
      ensureCollection: (dimensions) => real.ensureCollection(dimensions),
      upsert: (points) => real.upsert(points),
      pruneDocument: (docId, keep) => real.pruneDocument(docId, keep),
      search: (vector, opts) => chain.search(vector, opts),
      count: () => chain.count(),
      documentIds: () => chain.documentIds(),
    };
  }),
  {
    name: 'qdrant (replayed REST exchanges)',
    async start() {
      qdrantUrl = await replay.start();
    },
    async open(fixture) {
      replay.use(fixture);
      return new QdrantVectorIndex({ url: qdrantUrl, collection: 'kb_test' }, {});
    },
    check: () => replay.assertDone(),
    explain: () => replay.mismatches,
    stop: () => replay.close(),
  },
  {
    name: 'qdrant (in-memory stand-in)',
    async start() {
      memoryUrl = await memory.start();
    },
    async open() {
      memory.reset();
      return new QdrantVectorIndex({ url: memoryUrl, collection: 'kb_test' }, {});
    },
    check: () => undefined,
    explain: () => [],
    stop: () => memory.close(),
  },
];

/** A PGlite index of its own, wrapped. */
function pgliteSubject(name: string, wrap: (real: PgliteVectorIndex) => Index): Subject {
  let real: PgliteVectorIndex | undefined;
  return {
    name,
    async start() {
      real = await PgliteVectorIndex.open();
    },
    async open() {
      await real!.db.exec('DROP TABLE IF EXISTS kb_chunks');
      return wrap(real!);
    },
    check: () => undefined,
    explain: () => [],
    stop: async () => real?.close(),
  };
}

async function seeded(subject: Subject, fixture: string): Promise<Index> {
  const index = await subject.open(fixture);
  await index.ensureCollection(4);
  await index.upsert(POINTS);
  return index;
}

for (const subject of SUBJECTS) {
  describe(`VectorIndex conformance: ${subject.name}`, function () {
    this.timeout(120_000);
    before(() => subject.start());
    after(() => subject.stop());
    afterEach(function () {
      if (this.currentTest?.state === 'passed') subject.check();
      else for (const m of subject.explain()) console.error(`    replay mismatch: ${m}`);
    });

    it('creates the collection once; a second ensureCollection is a no-op', async () => {
      const index = await subject.open('ensure-collection');
      assert.equal(await index.count(), 0);
      await index.ensureCollection(4);
      await index.ensureCollection(4);
      assert.equal(await index.count(), 0);
      assert.deepEqual(await index.documentIds(), []);
    });

    it('refuses vectors of another size than the collection holds', async () => {
      const index = await subject.open('wrong-dimensions');
      await index.ensureCollection(4);
      await assert.rejects(index.ensureCollection(8), /4-d/);
    });

    it('finds the nearest chunks first, with cosine similarity and the whole payload', async () => {
      const index = await seeded(subject, 'search-nearest');
      const hits = await index.search(v(1, 0, 0, 0), { topK: 3 });
      assert.deepEqual(
        hits.map((h) => h.id),
        ['billing/pay.md#0', 'billing/pay.md#1', 'plans/internet.md#0'],
      );
      assert.deepEqual(
        hits.map((h) => Number(h.score.toFixed(3))),
        [1, 0.8, 0.6],
      );
      const first: Partial<ScoredChunk> = { ...hits[0]! };
      delete first.score;
      assert.deepEqual(first, POINTS[0]!.chunk);
    });

    it('keeps to the topic filter', async () => {
      const index = await seeded(subject, 'search-topic');
      const hits = await index.search(v(1, 0, 0, 0), { topK: 5, topic: 'plans' });
      assert.deepEqual(
        hits.map((h) => h.id),
        ['plans/internet.md#0', 'plans/internet.md#1'],
      );
      assert.ok(hits.every((h) => h.topic === 'plans'));
    });

    it('re-upserting the same chunk ids replaces them instead of duplicating', async () => {
      const index = await seeded(subject, 'reupsert');
      const edited = POINTS.map((p) =>
        p.chunk.id === 'billing/pay.md#1'
          ? { ...p, chunk: { ...p.chunk, text: 'Card and bank payments post within 1 business day.' } }
          : p,
      ); // prettier-ignore
      await index.upsert(edited);
      assert.equal(await index.count(), POINTS.length);
      const [hit] = await index.search(v(0.8, 0.6, 0, 0), { topK: 1 });
      assert.equal(hit?.id, 'billing/pay.md#1');
      assert.equal(hit?.text, 'Card and bank payments post within 1 business day.');
    });

    it("prunes only a document's stale chunks, and a deleted document's all", async () => {
      const index = await seeded(subject, 'prune');
      assert.deepEqual(await index.documentIds(), ['billing/pay.md', 'plans/internet.md']);
      // billing/pay.md shrank to one chunk:
      assert.equal(await index.pruneDocument('billing/pay.md', ['billing/pay.md#0']), 2);
      assert.equal(await index.count(), 3);
      const hits = await index.search(v(0, 1, 0, 0), { topK: 5 });
      assert.deepEqual(hits.map((h) => h.id).sort(), [
        'billing/pay.md#0',
        'plans/internet.md#0',
        'plans/internet.md#1',
      ]);
      // plans/internet.md was deleted:
      assert.equal(await index.pruneDocument('plans/internet.md', []), 2);
      assert.equal(await index.pruneDocument('plans/internet.md', []), 0);
      assert.equal(await index.count(), 1);
      assert.deepEqual(await index.documentIds(), ['billing/pay.md']);
    });
  });
}

describe('Qdrant adapter specifics (replayed REST exchanges)', function () {
  const server = new QdrantReplayServer();
  let url = '';
  before(async () => (url = await server.start()));
  after(() => server.close());

  it('derives point ids as UUID v5 of the chunk id (RFC 4122 test vector)', () => {
    const dns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    assert.equal(uuidV5('www.example.com', dns), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
    assert.equal(uuidV5('billing/pay.md#0'), uuidV5('billing/pay.md#0'));
    assert.notEqual(uuidV5('billing/pay.md#0'), uuidV5('billing/pay.md#1'));
  });

  it('maps 429 to a retryable rate_limited error and 401 to a final bad_input', async () => {
    server.use('errors');
    const index = new QdrantVectorIndex({ url, collection: 'kb_test' }, {});
    const limited = await index.search(v(1, 0, 0, 0), { topK: 1 }).catch((e: unknown) => e);
    assert.ok(limited instanceof ProviderError, String(limited));
    assert.equal(limited.kind, 'rate_limited');
    assert.equal(limited.retryable, true);
    const denied = await index.count().catch((e: unknown) => e);
    assert.ok(denied instanceof ProviderError, String(denied));
    assert.equal(denied.kind, 'bad_input');
    assert.equal(denied.retryable, false);
    server.assertDone();
  });

  it('health check: GET /collections; a 503 is a retryable unavailable', async () => {
    server.use('health-check');
    const index = new QdrantVectorIndex({ url, collection: 'kb_test' }, {});
    await index.check();
    const err = await index.check().catch((e: unknown) => e);
    assert.ok(err instanceof ProviderError, String(err));
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.retryable, true);
    server.assertDone();
  });

  it('fails a request the recording does not have (the replay is strict)', async () => {
    server.use('ensure-collection');
    const index = new QdrantVectorIndex({ url, collection: 'another_collection' }, {});
    await assert.rejects(index.count());
    assert.throws(() => server.assertDone(), /another_collection/);
  });
});
