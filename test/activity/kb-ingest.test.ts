// Ingest for real: the shipped kb/ → chunker → USE-lite embeddings → PGlite, published as a
// snapshot that reader instances load; re-runs replace instead of duplicating and prune
// what shrank or was deleted.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chunkDocument } from '../../conversation/knowledge/chunker';
import { loadKnowledgeFolder } from '../../conversation/knowledge/documents';
import {
  DEFAULT_KB_FOLDER,
  ingestAndPublish,
  knowledgeEmbedder,
} from '../../conversation/knowledge/local-index';
import { Retriever } from '../../conversation/knowledge/retrieve';
import {
  knowledgeStore,
  openKnowledgeIndex,
  openKnowledgeWriter,
  type SnapshotVectorIndex,
} from '../../providers/vectors/pglite-snapshot';
import { killHard, spawnWorkerProcess } from '../helpers/worker-process';

const KB_PROCESS = path.join(__dirname, '..', 'fixtures', 'kb-index-process.ts');

describe('knowledge-base ingest (PGlite snapshot, real embeddings)', function () {
  this.timeout(300_000);
  let tmp: string;
  let folder: string;
  let store: ReturnType<typeof knowledgeStore>;
  let reader: SnapshotVectorIndex | undefined;
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-ingest-'));
    folder = path.join(tmp, 'kb');
    await cp(DEFAULT_KB_FOLDER, folder, { recursive: true });
    store = knowledgeStore(path.join(tmp, 'index'));
  });
  after(async () => {
    await reader?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('a reader before any ingest gets a clear error', async () => {
    await assert.rejects(openKnowledgeIndex(store).count(), /kb ingest/);
  });

  it('ingests every chunk with progress, and a re-run keeps the same count', async () => {
    const expected = (await loadKnowledgeFolder(folder)).flatMap((d) => chunkDocument(d)).length;
    const first = await ingestAndPublish({ folder, store, log });
    assert.equal(first.chunks, expected);
    assert.ok(lines.some((l) => new RegExp(`^\\[kb\\] ${expected}/${expected} chunks`).test(l)), lines.join('\n')); // prettier-ignore
    reader = openKnowledgeIndex(store);
    assert.equal(await reader.count(), expected);

    const second = await ingestAndPublish({ folder, store });
    assert.equal(second.pruned, 0);
    assert.equal(await reader.refresh(), true, 'the re-published snapshot is loaded');
    assert.equal(await reader.count(), expected);
  });

  it('prunes the stale chunks of a shortened document and all of a deleted one; readers see it', async () => {
    const before = await reader!.count();
    const shortened = path.join(folder, 'billing', 'ways-to-pay.md');
    const oldChunks = chunkDocument({ docId: 'billing/ways-to-pay.md', topic: 'billing', source: await readFile(shortened, 'utf8') }).length; // prettier-ignore
    await writeFile(shortened, '# Ways to pay your bill\n\nPay online, in the app, by phone, by mail or at partner stores.\n'); // prettier-ignore
    await unlink(path.join(folder, 'policies', 'moving.md'));

    const report = await ingestAndPublish({ folder, store, log });
    assert.deepEqual(report.deletedDocuments, ['policies/moving.md']);
    assert.equal(report.pruned, oldChunks - 1 + 2);

    // The reader still serves the old snapshot until it notices the new one.
    assert.equal(await reader!.count(), before);
    assert.equal(await reader!.refresh(), true);
    assert.equal(await reader!.count(), before - (oldChunks - 1) - 2);
    assert.deepEqual(
      (await reader!.documentIds()).filter((d) => d === 'policies/moving.md' || d.startsWith('billing/ways')),
      ['billing/ways-to-pay.md'],
    ); // prettier-ignore

    const retriever = new Retriever(knowledgeEmbedder(), reader!);
    const [top] = await retriever.retrieve('what are the ways i can pay my bill', { topic: 'billing' }); // prettier-ignore
    assert.equal(top?.id, 'billing/ways-to-pay.md#0');
    assert.match(top.text, /partner stores/);
  });

  it('lets one writer in at a time: the next waits for it, with a bound', async () => {
    const writer = await openKnowledgeWriter(store);
    const waited: string[] = [];
    const next = openKnowledgeWriter(store, { waitMs: 30_000, log: (l) => waited.push(l) });
    try {
      await assert.rejects(
        openKnowledgeWriter(store, { waitMs: 600 }),
        /gave up after \d+ s waiting for the knowledge-base writer/,
      );
      assert.match(waited.join('\n'), /waiting for the knowledge-base writer/);
    } finally {
      await writer.close();
    }
    await (await next).close();
    assert.match(waited.join('\n'), /is free now/);
  });

  it("takes over a killed writer's lock once it is stale", async () => {
    const holder = await spawnWorkerProcess(
      KB_PROCESS,
      { ...process.env, KB_MODE: 'hold', KB_STORE: store.dir },
      'holding',
      'lock holder',
    );
    await killHard(holder);
    const t0 = Date.now();
    const writer = await openKnowledgeWriter(store, { waitMs: 30_000, staleMs: 2_000 });
    await writer.close();
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
  });

  it('two processes starting on no index: one builds it, the other waits and uses it', async () => {
    const fresh = knowledgeStore(path.join(tmp, 'fresh-index'));
    const small = path.join(tmp, 'small-kb');
    await cp(path.join(folder, 'billing'), path.join(small, 'billing'), { recursive: true });
    const env = { ...process.env, KB_MODE: 'ensure', KB_STORE: fresh.dir, KB_FOLDER: small };
    const both = await Promise.all(
      ['a', 'b'].map((n) => spawnWorkerProcess(KB_PROCESS, env, 'ready', `process ${n}`)),
    );
    await Promise.all(both.map((p) => p.exited));
    assert.deepEqual(
      both.map((p) => p.child.exitCode),
      [0, 0],
      both.map((p) => p.output.join('')).join('\n---\n'),
    );
    const built = both.filter((p) => /building it from/.test(p.output.join('')));
    assert.equal(built.length, 1, 'exactly one process builds the index');
    const index = openKnowledgeIndex(fresh);
    try {
      await index.refresh();
      const [top] = await new Retriever(knowledgeEmbedder(), index).retrieve('late fee');
      assert.ok(top?.id.startsWith('billing/'), `found ${top?.id}`);
    } finally {
      await index.close();
    }
  });

  it('is read-only for readers', async () => {
    await assert.rejects(reader!.pruneDocument(), /read-only/);
  });
});
