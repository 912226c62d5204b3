// The warehouse loader on the real local broker (`switchboard infra up`) into a real DuckDB
// file: a call's events arrive complete, in order, once; repeated publishes stay once; a
// loader that stops (or fails between its write and its commit) resumes from the committed
// offsets without doubling anything; the day report's figures equal those computed here
// from the published events. Each run has its own topic prefix and consumer group.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kafkaBacklog } from '../../analytics/kafka-backlog';
import { drainEvents, startEventLoader } from '../../analytics/load-events';
import { EVENT_TYPES } from '../../providers/events';
import type { AnyBusEvent, EventDraft } from '../../contracts/events';
import type { Warehouse } from '../../providers/warehouse/port';
import { KafkaEventBus } from '../../providers/events/kafka';
import { DuckDbWarehouse } from '../../providers/warehouse/duckdb';
import { runReport } from '../../cli/report';
import { infraUp, kafkaBrokers } from '../../infra';
import { callEvents } from '../../testing/event-fixtures';
import { deleteTopicsWithPrefix } from '../../testing/kafka-admin';
import { percentile } from '../helpers/percentile';

const run = `wl-${process.pid}-${Date.now().toString(36)}`;
const prefix = `${run}.`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'warehouse-loader-'));
const quiet = () => {};

/** Passes loads through and remembers the order of the ids it was given. */
class RecordingWarehouse implements Warehouse {
  readonly name = 'recording';
  readonly order: AnyBusEvent[] = [];
  readonly batches: AnyBusEvent[][] = [];
  /** Throws once after the first write (a crash between the write and the commit). */
  failFirstCommit = false;
  /** Loads after the first `holdAfter` wait until `release()` (to stop the loader mid-stream). */
  holdAfter = Infinity;
  private released = false;
  private wakeUp = () => {};
  private readonly gate = new Promise<void>((resolve) => (this.wakeUp = resolve));
  constructor(readonly inner: DuckDbWarehouse) {}
  release(): void {
    this.released = true;
    this.wakeUp();
  }
  async load(events: AnyBusEvent[]) {
    this.order.push(...events);
    this.batches.push(events);
    if (this.order.length > this.holdAfter && !this.released) await this.gate;
    const result = await this.inner.load(events);
    if (this.failFirstCommit) {
      this.failFirstCommit = false;
      throw new Error('simulated crash after the write, before the commit');
    }
    return result;
  }
  count = (type?: AnyBusEvent['type']) => this.inner.count(type);
  close = () => this.inner.close();
}

describe('Warehouse loader (real Kafka broker, DuckDB file)', function () {
  this.timeout(300_000);
  let bus: KafkaEventBus;
  let groupN = 0;
  const group = () => `${run}-group-${++groupN}`;

  const drain = async (wh: Warehouse, groupId: string, maxBatch?: number) => {
    const backlog = await kafkaBacklog(bus, groupId, EVENT_TYPES);
    try {
      const opts = { bus, warehouse: wh, backlog, groupId, maxBatch, stallTimeoutMs: 60_000 };
      return await drainEvents(opts);
    } finally {
      await backlog.close();
    }
  };

  // Each test has its own topics (`<run>.<n>.…`), so no test reads another's events.
  let topicPrefix = '';
  beforeEach(async () => {
    await infraUp({ quiet: true });
    await bus?.close();
    topicPrefix = `${prefix}${groupN}.`;
    bus = new KafkaEventBus({ brokers: kafkaBrokers(), topicPrefix, log: quiet });
    await bus.ensureTopics();
  });

  after(async () => {
    await bus?.close();
    await deleteTopicsWithPrefix(kafkaBrokers(), prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads a call's events complete, in order, once; repeats of them stay once", async () => {
    const wh = new RecordingWarehouse(new DuckDbWarehouse({ path: path.join(dir, 'a.duckdb') }));
    const groupId = group();
    try {
      const drafts = [...callEvents('CAload1', 4), ...callEvents('CAload2', 2)];
      const published = await bus.publish(drafts);
      const first = await drain(wh, groupId);
      assert.equal(first.handled, published.length);
      assert.equal(first.inserted, published.length);
      assert.equal(first.duplicates, 0);
      assert.deepEqual([...wh.order.map((e) => e.id)].sort(), published.map((e) => e.id).sort());
      // In order: per call and type, the loader saw the events in publish order.
      for (const e of published) {
        const stream = (x: AnyBusEvent) => x.call_id === e.call_id && x.type === e.type;
        const expected = published.filter(stream).map((x) => x.seq);
        assert.deepEqual(wh.order.filter(stream).map((x) => x.seq), expected, `${e.call_id} ${e.type}`); // prettier-ignore
      }
      assert.equal(await wh.count(), published.length);
      const lines = await wh.inner.all(
        "SELECT seq FROM transcript_lines WHERE call_id = 'CAload1' ORDER BY seq",
      );
      assert.deepEqual(lines.map((r) => Number(r.seq)), [...Array(9).keys()]); // prettier-ignore

      // A retried publish repeats the same ids: loaded again, stored once.
      await bus.publish(drafts);
      await bus.publish(drafts.slice(0, 5));
      const again = await drain(wh, groupId);
      assert.equal(again.handled, published.length + 5);
      assert.equal(again.inserted, 0);
      assert.equal(again.duplicates, published.length + 5);
      assert.equal(await wh.count(), published.length);
      const [dupes] = await wh.inner.all(
        'SELECT count(*) - count(DISTINCT event_id) AS n FROM transcript_lines',
      );
      assert.equal(Number(dupes!.n), 0);
      console.log(
        `      drained ${first.handled} events: loaded and committed in ${first.loadMs.toFixed(0)} ms, ` +
          `${first.ms.toFixed(0)} ms with leaving the group`,
      );
    } finally {
      await wh.close();
    }
  });

  it('a restarted loader resumes from its committed offsets; a crash before a commit repeats nothing', async () => {
    const wh = new RecordingWarehouse(new DuckDbWarehouse({ path: path.join(dir, 'b.duckdb') }));
    const groupId = group();
    try {
      const drafts = Array.from({ length: 6 }, (_, i) => callEvents(`CAresume${i}`, 3)).flat();
      const published = await bus.publish(drafts);
      wh.failFirstCommit = true;
      wh.holdAfter = 20;
      // First life, in batches of 4: stopped part-way through, while it loads its 21st event.
      const batch = 4;
      const loader = await startEventLoader({ bus, warehouse: wh, groupId, maxBatch: batch });
      while (wh.order.length <= 20) await sleep(20);
      const closing = loader.close();
      wh.release();
      await closing;
      const firstLife = loader.stats.handled;
      assert.ok(firstLife < published.length, 'the first life must stop part-way');
      const crashed = wh.batches[0]!.map((e) => e.id);
      assert.ok(wh.batches.every((b) => b.length <= batch));

      // Second life: a new consumer in the same group picks up where the first stopped.
      const second = await drain(wh, groupId, batch);
      assert.equal(await wh.count(), published.length);
      // (The crashed batch's writes are not in the stats: its handler threw.)
      assert.equal(loader.stats.inserted + second.inserted, published.length - crashed.length);
      // Every repeated delivery found its event stored. Repeats are only the batch whose
      // commit failed (at least once more: the bus retries it) and at most the one in
      // flight when the first life stopped; committed batches were not delivered again.
      const deliveries = new Map<string, number>();
      for (const e of wh.order) deliveries.set(e.id, (deliveries.get(e.id) ?? 0) + 1);
      const repeated = [...deliveries].filter(([, n]) => n > 1).map(([id]) => id);
      const missed = crashed.filter((id) => !repeated.includes(id));
      assert.deepEqual(missed, [], 'the batch whose commit failed is delivered again');
      assert.ok(repeated.length <= crashed.length + batch, `repeated: ${repeated.join(', ')}`);
      const handled = loader.stats.handled + second.handled;
      assert.equal(
        loader.stats.duplicates + second.duplicates,
        handled - (published.length - crashed.length),
      );
      assert.ok(second.handled <= published.length - firstLife + batch, 'resumed, not restarted');
    } finally {
      await wh.close();
    }
  });

  it("the day report's figures equal those computed from the published events", async () => {
    const day = '2031-03-04';
    const calls = reportCalls(day, 12);
    const strays = reportCalls('2031-03-03', 2, 'CAyesterday'); // the day before: not counted
    await bus.publish([...calls.flatMap((c) => c.drafts), ...strays.flatMap((c) => c.drafts)]);
    const prices = path.join(dir, 'prices.yaml');
    writeFileSync(
      prices,
      [
        'currency: USD',
        'asr_per_audio_minute: { deepgram: 0.01, pocketsphinx: 0 }',
        'tts_per_million_characters: { polly: 20 }',
        'llm_per_1k_tokens: { openai: { input: 0.005, output: 0.015 }, local: { input: 0, output: 0 } }',
      ].join('\n'),
    );
    const chart = path.join(dir, 'latency.png');
    const env = {
      WAREHOUSE_PATH: path.join(dir, 'report.duckdb'),
      KAFKA_BROKERS: kafkaBrokers().join(','),
      EVENTS_TOPIC_PREFIX: topicPrefix,
      WAREHOUSE_GROUP: group(),
    };
    const { report, chartPath, text, ms } = await runReport({
      day,
      prices,
      chart,
      env,
      log: quiet,
    });
    console.log(`      report of ${calls.length} calls in ${ms.toFixed(0)} ms (load included)`);

    const ended = calls.map((c) => c.ended);
    assert.equal(report.calls, calls.length);
    assert.equal(report.turns, sum(ended.map((e) => e.turns)));
    assert.deepEqual(sortBy(report.dispositions, 'disposition'), tally(ended.map((e) => e.disposition), 'disposition', 'calls')); // prettier-ignore
    assert.deepEqual(sortBy(report.intents, 'intent'), tally(ended.flatMap((e) => e.intents), 'intent', 'count')); // prettier-ignore
    const flags = calls.flatMap((c) => [...new Set(c.qaFlags)]);
    assert.deepEqual(sortBy(report.qaFlags, 'flag'), tally(flags, 'flag', 'calls'));
    const fb = calls.flatMap((c) => c.fallbacks);
    assert.equal(sum(report.fallbacks.map((f) => f.count)), fb.length);
    for (const f of report.fallbacks) {
      const n = fb.filter(
        (x) =>
          x.stage === f.stage && x.failed === f.failed && (x.servedBy ?? '(none)') === f.servedBy,
      ).length;
      assert.equal(f.count, n, `fallbacks ${f.stage} ${f.failed} → ${f.servedBy}`);
    }
    const turns = calls.flatMap((c) => c.turns);
    for (const stage of ['asr', 'llm', 'tts', 'end_to_end'] as const) {
      const xs = turns.flatMap((t) => (t.latency[stage] === undefined ? [] : [t.latency[stage]]));
      const got = report.latency.find((l) => l.stage === stage);
      assert.ok(got, `latency of ${stage}`);
      assert.equal(got.turns, xs.length);
      close(got.p50, percentile(xs, 0.5), `${stage} p50`);
      close(got.p95, percentile(xs, 0.95), `${stage} p95`);
    }
    // The greetings: their own row (time to greet), in no other stage's figures.
    const greet = calls.map((c) => c.greeting.latency.end_to_end!);
    const got = report.latency.find((l) => l.stage === 'greeting');
    assert.equal(got?.turns, calls.length);
    close(got.p50, percentile(greet, 0.5), 'greeting p50');
    close(got.p95, percentile(greet, 0.95), 'greeting p95');
    let cost = 0;
    for (const t of [...turns, ...calls.map((c) => c.greeting)]) {
      if (t.providers.asr === 'deepgram') cost += ((t.usage.asr_audio_ms ?? 0) / 60_000) * 0.01;
      if (t.providers.tts === 'polly') cost += ((t.usage.tts_characters ?? 0) / 1e6) * 20;
      if (t.providers.llm === 'openai') {
        cost += ((t.usage.llm_input_tokens ?? 0) / 1000) * 0.005;
        cost += ((t.usage.llm_output_tokens ?? 0) / 1000) * 0.015;
      }
    }
    close(report.totalCost, cost, 'total cost');
    assert.ok(report.costs.some((c) => c.provider === 'local' && c.stage === 'tts' && c.unpriced));
    assert.match(text, /Latency per stage/);
    const png = readFileSync(chartPath);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [760, 420]);
  });
});

// --- a day of calls with known figures ---------------------------------------------------

interface TurnFacts {
  latency: Partial<Record<'asr' | 'intent' | 'llm' | 'tts' | 'end_to_end', number>>;
  providers: { asr: string; tts: string; llm?: string };
  usage: {
    asr_audio_ms?: number;
    tts_characters?: number;
    llm_input_tokens?: number;
    llm_output_tokens?: number;
  };
}

interface CallFacts {
  drafts: EventDraft[];
  ended: { disposition: string; intents: string[]; turns: number };
  turns: TurnFacts[];
  /** Turn 0: the greeting's time to greet and speech. */
  greeting: TurnFacts;
  fallbacks: { stage: string; failed: string; servedBy?: string }[];
  qaFlags: string[];
}

/** Seeded PRNG (mulberry32): the same calls on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function reportCalls(day: string, n: number, idPrefix = 'CAday'): CallFacts[] {
  const rnd = prng(day.length * 7919 + n);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const t0 = Date.parse(`${day}T00:00:00.000Z`) + (idPrefix === 'CAyesterday' ? 86_000_000 : 3_600_000); // prettier-ignore
  return Array.from({ length: n }, (_, i) => {
    const callId = `${idPrefix}${i}-${run}`.replace(/[^A-Za-z0-9_.:-]/g, '');
    const base = { call_id: callId, workflow_id: `call-${callId}` };
    const at = (ms: number) => new Date(t0 + i * 60_000 + ms).toISOString();
    const drafts: EventDraft[] = [];
    const turns: TurnFacts[] = [];
    const greetingTts = pick(['polly', 'local']);
    const greeting: TurnFacts = {
      latency: { tts: int(20, 300), end_to_end: int(150, 1200) },
      providers: { asr: '', tts: greetingTts },
      usage: { tts_characters: int(20, 60) },
    };
    drafts.push({
      ...base,
      type: 'turn.metrics',
      seq: 0,
      occurred_at: at(1_000),
      data: { turn_id: 0, latency_ms: greeting.latency as { end_to_end: number }, providers: { tts: greetingTts }, usage: greeting.usage }, // prettier-ignore
    });
    const nTurns = int(1, 4);
    for (let turn = 1; turn <= nTurns; turn++) {
      const grounded = rnd() < 0.5;
      const asr = pick(['deepgram', 'pocketsphinx']);
      const tts = pick(['polly', 'local']);
      const facts: TurnFacts = {
        latency: {
          asr: int(80, 400),
          intent: int(2, 15),
          ...(grounded && { llm: int(200, 1500) }),
          tts: int(30, 300),
          end_to_end: int(400, 2500),
        },
        providers: { asr, tts, ...(grounded && { llm: pick(['openai', 'local']) }) },
        usage: {
          asr_audio_ms: int(800, 6000),
          tts_characters: int(10, 200),
          ...(grounded && { llm_input_tokens: int(100, 900), llm_output_tokens: int(10, 120) }),
        },
      };
      turns.push(facts);
      drafts.push({
        ...base,
        type: 'turn.metrics',
        seq: turn,
        occurred_at: at(turn * 5_000),
        data: { turn_id: turn, latency_ms: facts.latency as { end_to_end: number }, providers: facts.providers, usage: facts.usage }, // prettier-ignore
      });
    }
    const fallbacks: CallFacts['fallbacks'] = [];
    for (let k = 0; k < int(0, 2); k++) {
      const f = pick([
        { stage: 'tts', failed: 'polly', servedBy: 'local' },
        { stage: 'asr', failed: 'deepgram', servedBy: 'pocketsphinx' },
        { stage: 'llm', failed: 'openai' },
      ] as const);
      fallbacks.push(f);
      drafts.push({
        ...base,
        type: 'provider.fallback',
        seq: k,
        occurred_at: at(k * 1_000),
        data: {
          stage: f.stage,
          failed_provider: f.failed,
          reason: 'timeout',
          ...('servedBy' in f && { served_by: f.servedBy }),
        },
      });
    }
    const ended = {
      disposition: pick(['resolved', 'resolved', 'transferred', 'caller_hung_up']),
      intents: Array.from({ length: int(1, 3) }, () => pick(['check_balance', 'pay_bill', 'ask_plans', 'goodbye'])), // prettier-ignore
      turns: nTurns,
    };
    drafts.push({
      ...base,
      type: 'call.ended',
      seq: 0,
      occurred_at: at(50_000),
      data: { ...ended, duration_ms: 50_000, fallbacks_used: [] },
    });
    const qaFlags = fallbacks.length ? ['fallback_used'] : [];
    if (ended.disposition === 'transferred') qaFlags.push('escalated');
    drafts.push({
      type: 'call.analyzed',
      call_id: callId,
      workflow_id: `post-call-${callId}`,
      seq: 0,
      occurred_at: at(55_000),
      data: {
        summary: 'The caller asked about their account.',
        disposition: ended.disposition,
        qa_flags: qaFlags,
        summary_provider: 'template',
        transcription_provider: 'pocketsphinx',
        transcript_words: int(20, 200),
      },
    });
    return { drafts, ended, turns, greeting, fallbacks, qaFlags };
  });
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function close(got: number, want: number, what: string): void {
  assert.ok(
    Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)),
    `${what}: ${got} ≠ ${want}`,
  );
}

function tally<K extends string, V extends string>(xs: string[], k: K, v: V) {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts]
    .map(([key, n]) => ({ [k]: key, [v]: n }) as Record<K, string> & Record<V, number>)
    .sort((a, b) => String(a[k]).localeCompare(String(b[k])));
}

function sortBy<T>(xs: T[], k: keyof T): T[] {
  return [...xs].sort((a, b) => String(a[k]).localeCompare(String(b[k])));
}
