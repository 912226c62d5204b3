// The data plane under real calls, on a broker and a Temporal server of this file's own:
// Kafka killed in the middle of a call and started again loses nothing and doubles nothing
// in the warehouse, and `switchboard report`'s figures are those of the calls placed.
// Its own Temporal server keeps other tests' post-call workflows away from this file's
// post-call worker (their events would land in this warehouse).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TOPICS } from '../../providers/events/catalog';
import { createKnowledgeAnswerer } from '../../conversation/answers/knowledge-answerer';
import { KafkaEventBus } from '../../providers/events/kafka';
import { DuckDbWarehouse, type SqlParams } from '../../providers/warehouse/duckdb';
import { defaultPricesPath, loadPriceTable } from '../../analytics/prices';
import { runReport } from '../../cli/report';
import { createEphemeralDevServer } from '../../infra/ephemeral-server';
import {
  type CallResult,
  callStatusSignal,
  transcriptQuery,
  type TranscriptEntry,
} from '../../contracts/call';
import type { PostCallResult } from '../../contracts/post-call';
import { loadOpenAiFixture, OpenAiReplayServer } from '../../testing/openai-replay';
import { postCallResult, startCall } from '../../testing/calls';
import { startCallAndPostCallWorkers, type RunningWorkers } from '../../testing/data-plane';
import { resetDb, TEST_SUGGEST_CONTINUE_AS_NEW } from '../../testing/platform';
import { freePort } from '../../infra';
import { messagesOn } from '../../testing/kafka-admin';
import { percentile } from '../helpers/percentile';
import { type ScratchKafka, startScratchKafka } from '../helpers/scratch-kafka';
import { Collector } from '../../testing/event-fixtures';

interface Placed {
  result: CallResult;
  transcript: TranscriptEntry[];
  analysis: PostCallResult;
}

const PREFIX = 'dataplane.';
const TASK_QUEUE = 'calls-data-plane';
const countBy = (keys: string[]) =>
  [...keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>())].sort();

describe('the data plane under real calls (own broker and server)', function () {
  this.timeout(600_000);
  let env: TestWorkflowEnvironment;
  let broker: ScratchKafka;
  let bus: KafkaEventBus;
  let workers: RunningWorkers | undefined;
  let dir: string;
  const notices: string[] = [];
  const placed: Placed[] = [];
  const day = new Date().toISOString().slice(0, 10);
  const secondary = new OpenAiReplayServer();

  const reportEnv = () => ({
    ...process.env,
    WAREHOUSE: 'duckdb',
    WAREHOUSE_PATH: path.join(dir, 'warehouse.duckdb'),
    WAREHOUSE_GROUP: `${PREFIX}warehouse`,
    KAFKA_BROKERS: broker.brokers.join(','),
    EVENTS_TOPIC_PREFIX: PREFIX,
  });
  /** `switchboard report --day`: loads what Kafka holds into the warehouse, then reports. */
  const report = (load = true) =>
    runReport({
      day,
      env: reportEnv(),
      chart: path.join(dir, 'latency.png'),
      load,
      log: (line) => notices.push(`report: ${line}`),
    });
  const warehouseRows = async (sql: string, params: SqlParams = []) => {
    const wh = new DuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
    try {
      return await wh.all(sql, params);
    } finally {
      await wh.close();
    }
  };

  /** Starts a text call as the edge does and says `lines` (text, or text and confidence). */
  async function dial(from: string, lines: (string | [string, number])[] = []) {
    const call = await startCall(env.client, { from, taskQueue: TASK_QUEUE });
    await call.bridge.streamStarted();
    for (const line of lines) {
      const [text, confidence] = typeof line === 'string' ? [line, 1] : line;
      await call.bridge.utterance(text, confidence);
    }
    return call;
  }
  /** Waits for the call and its post-call work; the call counts as placed. */
  async function finished(call: Awaited<ReturnType<typeof dial>>): Promise<Placed> {
    const result = await call.handle.result();
    const done = {
      result,
      transcript: await call.handle.query(transcriptQuery),
      analysis: (await postCallResult(env.client, call.callSid)) as PostCallResult,
    };
    placed.push(done);
    return done;
  }

  before(async () => {
    env = await createEphemeralDevServer({
      'limit.historyCount.suggestContinueAsNew': TEST_SUGGEST_CONTINUE_AS_NEW,
    });
    broker = await startScratchKafka();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-dataplane-'));
    bus = new KafkaEventBus({
      brokers: broker.brokers,
      topicPrefix: PREFIX,
      publishTimeoutMs: 30_000,
      backoff: { initialMs: 200, maxMs: 2_000 },
      log: (level, msg) => notices.push(`${level} ${msg}`),
    });
    // The first link is an OpenAI endpoint nobody listens on: every knowledge answer is a
    // real fallback, to the secondary (OpenAI's wire protocol replayed, with its usage
    // chunk), which the report must count and price.
    const answerer = await createKnowledgeAnswerer({
      env: {
        ...process.env,
        LLM_CHAIN: 'openai,secondary,template',
        OPENAI_API_KEY: 'sk-data-plane-test',
        OPENAI_BASE_URL: `http://127.0.0.1:${await freePort()}/v1`,
        LLM_SECONDARY_BASE_URL: await secondary.start(),
        LLM_SECONDARY_MODEL: 'mixtral-8x7b',
      },
      log: () => {},
    });
    workers = await startCallAndPostCallWorkers(env, {
      events: bus,
      answerer,
      taskQueue: TASK_QUEUE,
    });
  });

  after(async () => {
    await workers?.stop();
    await bus?.close();
    await broker?.close();
    await env?.teardown();
    await secondary.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Kafka killed mid-call and restarted: the call goes on, nothing is lost or doubled in the warehouse', async () => {
    const db = await resetDb();
    const call = await dial('+15550100002', ["what's my balance"]);
    // The first turn's lines reached the broker; then it dies (SIGKILL: no clean shutdown).
    const lines = `${PREFIX}${TOPICS['transcript.line']}`;
    while ((await messagesOn(broker.brokers, lines).catch(() => 0)) === 0) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await broker.kill();

    // The rest of the call, a payment included, is answered with no broker.
    const asked = await call.bridge.utterance('I want to pay my bill');
    assert.equal(asked.intent?.name, 'pay_bill');
    const paid = await call.bridge.utterance('yes');
    assert.match(paid.text, /paid|payment/i);
    await call.bridge.utterance('goodbye');
    assert.ok(!broker.isUp(), 'the broker came back on its own');
    // Hung up, the call waits for its events to reach the broker: still open.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal((await call.handle.describe()).status.name, 'RUNNING');

    await broker.start();
    const { result, transcript } = await finished(call);
    assert.equal(result.disposition, 'resolved');
    assert.ok(
      notices.some((n) => /retrying|succeeded after|unavailable/i.test(n)),
      `the outage was not noticed:\n${notices.join('\n')}`,
    );

    await report();
    const rows = await warehouseRows(
      `SELECT type, count(*) AS n, count(DISTINCT seq) AS seqs, list(seq ORDER BY seq) AS seq_list
       FROM events WHERE call_id = ? GROUP BY type ORDER BY type`,
      [call.callSid],
    );
    const byType = Object.fromEntries(rows.map((r) => [String(r.type), r]));
    // Every transcript line once: the workflow's own transcript is the reference.
    assert.deepEqual(
      (byType['transcript.line']?.seq_list as unknown[]).map(Number),
      transcript.map((e) => e.seq),
    );
    assert.equal(Number(byType['turn.metrics']?.n), result.turns, 'one metrics event per turn');
    assert.equal(Number(byType['call.ended']?.n), 1);
    assert.equal(Number(byType['call.analyzed']?.n), 1);
    for (const r of rows) assert.equal(Number(r.n), Number(r.seqs), `${String(r.type)} doubled`);
    // And the side effects of the outage's turns happened once.
    const payments = await db.query('SELECT count(*)::int AS n FROM payments');
    assert.equal(payments.rows[0].n, 1);
    const logs = await db.query('SELECT count(*)::int AS n FROM call_logs WHERE call_sid = $1', [
      call.callSid,
    ]);
    assert.equal(logs.rows[0].n, 1);
  });

  it("the day's report counts the calls placed: calls, turns, dispositions, intents, QA flags, fallbacks, latency", async () => {
    assert.ok(placed.length > 0, 'runs after the outage test, whose call it counts too');
    await resetDb();
    const calls = [
      await dial('+15550100001', ["what's my balance", 'goodbye']),
      // openai refuses the connection: the secondary answers, a fallback to count.
      await dial('+15550100001', ['what is the late fee', 'goodbye']),
      await dial('+15550100004', ['uh', 'can I talk to a real person']),
      // A turn the recognizer was unsure of, then a declined payment.
      await dial('+15550100002', [
        ['I want to pay my bill', 0.3],
        'I want to pay my bill',
        'no',
        'goodbye',
      ]),
    ];
    // …and one who hangs up after the first answer.
    const hungUp = await dial('+15550100003', ["what's my balance"]);
    await hungUp.handle.signal(callStatusSignal, 'completed');
    for (const c of [...calls, hungUp]) await finished(c);
    const results = placed.map((p) => p.result);
    const { report: r, chartPath } = await report();

    assert.equal(r.calls, placed.length);
    assert.equal(
      r.turns,
      results.reduce((n, c) => n + c.turns, 0),
    );
    const minutes = results.reduce((n, c) => n + c.durationMs, 0) / 60_000;
    assert.ok(Math.abs(r.callMinutes - minutes) < 1e-9, `${r.callMinutes} min vs ${minutes}`);
    assert.deepEqual(
      r.dispositions.map((d) => [d.disposition, d.calls]).sort(),
      countBy(results.map((c) => c.disposition)),
    );
    assert.ok(new Set(results.map((c) => c.disposition)).size >= 3, 'the calls end differently');
    assert.deepEqual(
      r.intents.map((i) => [i.intent, i.count]).sort(),
      countBy(results.flatMap((c) => c.intentPath)),
    );
    assert.deepEqual(
      r.qaFlags.map((f) => [f.flag, f.calls]).sort(),
      countBy(placed.flatMap((p) => [...new Set(p.analysis.qaFlags)])),
    );
    const answers = placed.flatMap((p) => p.transcript.filter((e) => e.answer));
    assert.ok(answers.length > 0, 'no knowledge answer was given');
    assert.deepEqual(
      r.fallbacks.map((f) => [f.stage, f.failed, f.servedBy, f.count]).sort(),
      countBy(
        answers.flatMap((e) =>
          e.answer!.fallbacks.map((failed) => `${failed}>${e.answer!.servedBy}`),
        ),
      ).map(([k, n]) => ['llm', ...k.split('>'), n]),
    );
    assert.ok(r.fallbacks.some((f) => f.failed === 'openai' && f.servedBy === 'secondary'));

    // Cost: the secondary's tokens as its usage chunk reported them, at the table's price.
    const served = answers.filter((e) => e.answer!.servedBy === 'secondary').length;
    const { usage } = loadOpenAiFixture('stream').response.events!.at(-1) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const rate = loadPriceTable(defaultPricesPath()).llm_per_1k_tokens.secondary!;
    const llmCost = r.costs.find((c) => c.stage === 'llm' && c.provider === 'secondary');
    assert.ok(served > 0 && llmCost, JSON.stringify(r.costs));
    assert.equal(llmCost.quantity, served * (usage.prompt_tokens + usage.completion_tokens));
    const expected =
      (served * (usage.prompt_tokens * rate.input + usage.completion_tokens * rate.output)) / 1000;
    assert.ok(Math.abs(llmCost.cost - expected) < 1e-12, `${llmCost.cost} vs ${expected}`);
    // Text calls synthesize no speech: no TTS line (an audio call's comes from the edge).
    assert.equal(r.costs.filter((c) => c.stage === 'tts').length, 0);

    // Latency: the percentiles of the turn metrics as they are on Kafka, read apart from
    // the warehouse by a group of its own.
    const onKafka = new Collector();
    const sub = await bus.subscribe({
      groupId: `${PREFIX}latency-check`,
      handlers: { 'turn.metrics': onKafka.handle },
    });
    const distinct = () => new Set(onKafka.ids()).size;
    try {
      await onKafka.until(`${r.turns} turn metrics on Kafka`, () => distinct() >= r.turns);
    } finally {
      await sub.close();
    }
    const metrics = new Map(
      onKafka.received.map(({ event: e }) => [
        e.id,
        (e.type === 'turn.metrics' ? e.data.latency_ms : {}) as Record<string, number>,
      ]),
    );
    for (const stage of ['end_to_end', 'retrieval', 'llm'] as const) {
      const xs = [...metrics.values()].map((m) => m[stage]).filter((x) => x !== undefined);
      const line = r.latency.find((l) => l.stage === stage);
      assert.ok(line, `no ${stage} latency in the report`);
      assert.equal(line.turns, xs.length, stage);
      assert.ok(Math.abs(line.p50 - percentile(xs, 0.5)) < 1e-6, `${stage} p50`);
      assert.ok(Math.abs(line.p95 - percentile(xs, 0.95)) < 1e-6, `${stage} p95`);
    }
    assert.equal(r.latency.find((l) => l.stage === 'end_to_end')?.turns, r.turns);
    assert.equal(r.latency.find((l) => l.stage === 'llm')?.turns, answers.length);
    assert.ok(fs.statSync(chartPath).size > 1000, 'the latency chart was written');

    // Reported again with nothing new on Kafka: the same figures.
    const again = await report();
    assert.deepEqual(again.report, r);
  });
});
