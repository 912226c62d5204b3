// The vector store away, for real: Qdrant (its recorded-protocol stand-in) behind Toxiproxy
// with the proxy disabled, and the local PGlite index behind it in the chain. The local index
// answers; with both away, a sensitive question (billing, policies) is handed to a person (a
// refusal, which the call turns into a transfer) and any other gets a general line and a
// callback offer, without stating a fact. Then the answerer as the processes build it
// (`VECTOR_INDEX=qdrant`, the published local index, the breaker) over the knowledge base
// ingested into the in-memory Qdrant stand-in: the wiring `bench --faults vector-down` measures.
import assert from 'node:assert/strict';
import { createAnswerer } from '../../conversation/answers/answer';
import type { Answerer } from '../../conversation/answers/answerer';
import { ProviderHealth } from '../../providers/health/provider-health';
import type { AnswerInput } from '../../contracts/answers';
import type { KbIntentName } from '../../contracts/call';
import { languageModelFromEnv } from '../../providers/llm/config';
import { FallbackVectorIndex } from '../../providers/vectors/fallback';
import { PgliteVectorIndex } from '../../providers/vectors/pglite';
import { QdrantVectorIndex } from '../../providers/vectors/qdrant';
import type { KbChunk } from '../../providers/vectors/port';
import { type FaultProxy, hostPort, startFaultProxy, throughProxy } from '../../testing/faults';
import { silentLog } from '../../infra/paths';
import { answererBehindQdrant, QdrantMemoryServer } from '../../testing/qdrant-memory';
import { QdrantReplayServer } from '../../testing/qdrant-replay';

const LATE_FEE: KbChunk = {
  id: 'billing.md#2',
  docId: 'billing.md',
  title: 'Late fees',
  topic: 'billing',
  text: 'A late fee of $10 applies if a bill is unpaid 5 days after the due date.',
};
const PLANS: KbChunk = {
  id: 'plans.md#1',
  docId: 'plans.md',
  title: 'Plans',
  topic: 'plans',
  text: 'The Basic plan costs $30 a month.',
};
const QUERY = new Float32Array([1, 0, 0]);

const input = (intent: KbIntentName, question: string): AnswerInput => ({
  callSid: 'CAvectors',
  turnId: 1,
  question,
  intent,
  recentTurns: [],
  turnCount: 1,
});

describe('vector store away (Qdrant through Toxiproxy, the local index behind it)', function () {
  this.timeout(60_000);
  const qdrantServer = new QdrantReplayServer();
  let proxy: FaultProxy;
  let local: PgliteVectorIndex;
  let answerer: ReturnType<typeof createAnswerer>;
  const failures: string[] = [];

  before(async () => {
    const url = await qdrantServer.start();
    proxy = await (await startFaultProxy()).proxy('vectors-qdrant', hostPort(url));
    local = await PgliteVectorIndex.open();
    await local.ensureCollection(3);
    await local.upsert([
      { chunk: LATE_FEE, vector: new Float32Array([1, 0, 0]) },
      { chunk: PLANS, vector: new Float32Array([0, 1, 0]) },
    ]);
    const index = new FallbackVectorIndex([
      {
        provider: 'qdrant',
        port: new QdrantVectorIndex({ url: throughProxy(url, proxy), timeoutMs: 1_000 }),
      },
      { provider: 'pglite', port: local },
    ]);
    answerer = createAnswerer({
      retrieve: (_q, o) => index.search(QUERY, o),
      chain: languageModelFromEnv({ LLM_CHAIN: 'template' }, silentLog),
      onRetrievalFailed: (err) => failures.push(err.message),
    });
    await proxy.down();
  });
  after(async () => {
    await local.close();
    await qdrantServer.close();
  });

  it('the local index answers while Qdrant is down', async () => {
    const r = await answerer.answer(input('ask_billing', 'what is the late fee'));
    assert.deepEqual(r.documentIds, ['billing.md#2'], 'retrieved from the local index');
    assert.equal(r.refused, undefined, r.text);
    assert.equal(r.degraded, undefined);
    assert.match(r.text, /late fee of 10 dollars/);
    assert.deepEqual(failures, []);
  });

  describe('both away (the local index closed too)', () => {
    before(async () => {
      await local.close();
    });

    for (const intent of ['ask_billing', 'ask_policy'] as const) {
      it(`${intent}: sensitive, so a person answers (a refusal the call turns into a transfer)`, async () => {
        const said: string[] = [];
        const r = await answerer.answer(input(intent, 'can I dispute this charge'), {
          onSentence: (s) => void said.push(s),
        });
        assert.equal(r.refused, 'no_retrieval');
        assert.match(r.text, /connect you to an agent/);
        assert.deepEqual(said, [r.text], 'the line is spoken');
        assert.deepEqual(r.documentIds, []);
        assert.equal(r.servedBy, 'none', 'no model is asked without documents');
        assert.ok(failures.length > 0, 'the failed retrieval was reported');
      });
    }

    for (const intent of ['ask_plans', 'ask_outage'] as const) {
      it(`${intent}: a general line and a callback offer, no figures`, async () => {
        const r = await answerer.answer(input(intent, 'what plans do you have'));
        assert.equal(r.refused, undefined);
        assert.equal(r.degraded, 'no_retrieval');
        assert.match(r.text, /call back/);
        assert.doesNotMatch(r.text, /\d/, 'nothing stated as fact');
      });
    }
  });
});

describe('vector store away, as the processes wire it (VECTOR_INDEX=qdrant, the breaker)', function () {
  this.timeout(300_000);
  const qdrant = new QdrantMemoryServer();
  const health = new ProviderHealth();
  let proxy: FaultProxy;
  let answerer: Answerer;
  const searches = () => qdrant.served.get('POST /collections/{name}/points/query') ?? 0;
  const lateFee = () => answerer.answer(input('ask_billing', 'what is the late fee'));

  before(async () => {
    const url = await qdrant.start();
    proxy = await (await startFaultProxy()).proxy('vectors-wiring-qdrant', hostPort(url));
    answerer = await answererBehindQdrant(url, throughProxy(url, proxy), health);
  });
  after(async () => {
    await proxy.clear();
    await health.close();
    await qdrant.close();
  });

  it('retrieves from Qdrant while it answers', async () => {
    const before = searches();
    const r = await lateFee();
    assert.ok(searches() > before, 'Qdrant was searched');
    assert.ok(
      r.documentIds.some((id) => id.startsWith('billing/')),
      r.documentIds.join(),
    );
    assert.equal(r.refused, undefined, r.text);
  });

  it('Qdrant refusing: the local index answers the same question, and its breaker opens', async () => {
    await proxy.down();
    for (let i = 0; i < 10 && health.state('vectors:qdrant').state.state !== 'open'; i++) {
      const r = await lateFee();
      assert.ok(
        r.documentIds.some((id) => id.startsWith('billing/')),
        r.documentIds.join(),
      );
      assert.equal(r.refused, undefined, r.text);
      assert.equal(r.degraded, undefined);
    }
    assert.equal(health.state('vectors:qdrant').state.state, 'open');
  });
});
