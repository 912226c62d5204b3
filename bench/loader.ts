// `switchboard bench --loader`: the warehouse loader on the real broker and a DuckDB file —
// in batches (the loader) against one event per transaction and offset commit (the
// baseline: what it did before), in the same run:
//   backlog: N events waiting on Kafka, loaded → events/s;
//   live: events published at a steady rate above the baseline's ceiling → how stale the
//   warehouse gets (publish → stored, p50/p95/p99).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { startEventLoader } from '../analytics/load-events';
import { EVENT_TYPES } from '../providers/events/catalog';
import type { AnyBusEvent, EventDraft } from '../contracts/events';
import type { EventHandlers } from '../providers/events/port';
import type { Warehouse } from '../providers/warehouse/port';
import { KafkaEventBus } from '../providers/events/kafka';
import { DuckDbWarehouse } from '../providers/warehouse/duckdb';
import { infraUp, kafkaBrokers } from '../infra';
import { repoRoot } from '../infra/paths';
import { callEvents } from '../testing/event-fixtures';
import { deleteTopicsWithPrefix } from '../testing/kafka-admin';
import { pct } from './percentile';

type Mode = 'per-event' | 'batched';

/** Calls' events: `calls` × (≈ 4 per turn × 3 turns + 4). */
function backlog(prefix: string, calls: number): EventDraft[] {
  return Array.from({ length: calls }, (_, i) => callEvents(`CA${prefix}${i}`, 3)).flat();
}

/** The warehouse, noting when each event was stored. */
class TimedWarehouse implements Warehouse {
  readonly name = 'timed';
  readonly storedAt = new Map<string, number>();
  readonly loads: { events: number; ms: number }[] = [];
  constructor(private readonly inner: DuckDbWarehouse) {}
  async load(events: AnyBusEvent[]) {
    const t0 = performance.now();
    const r = await this.inner.load(events);
    const now = performance.now();
    this.loads.push({ events: events.length, ms: now - t0 });
    for (const e of events) if (!this.storedAt.has(e.id)) this.storedAt.set(e.id, now);
    return r;
  }
  count = (type?: AnyBusEvent['type']) => this.inner.count(type);
  close = () => this.inner.close();
}

async function startLoader(mode: Mode, bus: KafkaEventBus, wh: Warehouse, groupId: string) {
  if (mode === 'batched') return startEventLoader({ bus, warehouse: wh, groupId });
  const one = async (e: AnyBusEvent) => void (await wh.load([e]));
  const handlers = Object.fromEntries(EVENT_TYPES.map((t) => [t, one])) as EventHandlers;
  return bus.subscribe({ groupId, handlers, fromBeginning: true });
}

async function until(cond: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function runMode(mode: Mode, bus: KafkaEventBus, dir: string, run: string, n: number) {
  // Backlog: everything waits on Kafka before the loader starts.
  const drafts = backlog(`${run}${mode === 'batched' ? 'b' : 'e'}`, n);
  await bus.publish(drafts);
  const wh = new TimedWarehouse(new DuckDbWarehouse({ path: path.join(dir, `${mode}.duckdb`) }));
  const t0 = performance.now();
  const loader = await startLoader(mode, bus, wh, `${run}-${mode}`);
  await until(() => wh.storedAt.size >= drafts.length, `${mode} backlog`);
  const backlogS = (performance.now() - t0) / 1000;
  const perLoad = wh.loads.map((l) => l.ms);
  const eventsPerLoad = drafts.length / wh.loads.length;

  // Live: a steady stream at `rate` events/s; the lag of each from its publish.
  const rate = 200;
  const live = backlog(`${run}${mode === 'batched' ? 'B' : 'E'}`, Math.ceil((rate * 10) / 16));
  const publishedAt = new Map<string, number>();
  const start = performance.now();
  for (let i = 0; i < live.length; i += 10) {
    const due = start + (i / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sent = await bus.publish(live.slice(i, i + 10));
    const at = performance.now();
    for (const e of sent) publishedAt.set(e.id, at);
  }
  await until(() => [...publishedAt.keys()].every((id) => wh.storedAt.has(id)), `${mode} live`);
  const lag = [...publishedAt].map(([id, at]) => wh.storedAt.get(id)! - at);
  await loader.close();
  await wh.close();
  return {
    mode,
    backlog: {
      events: drafts.length,
      seconds: Number(backlogS.toFixed(2)),
      eventsPerSecond: Math.round(drafts.length / backlogS),
      loadMs: { p50: pct(perLoad, 50), p95: pct(perLoad, 95), p99: pct(perLoad, 99) },
      eventsPerLoad: Number(eventsPerLoad.toFixed(1)),
    },
    live: {
      events: live.length,
      ratePerSecond: rate,
      lagMs: { p50: pct(lag, 50), p95: pct(lag, 95), p99: pct(lag, 99) },
    },
  };
}

export async function runLoaderBench(opts: { calls?: number } = {}): Promise<void> {
  await infraUp({ quiet: true });
  const run = randomBytes(3).toString('hex');
  const prefix = `bench-loader-${run}.`;
  const bus = new KafkaEventBus({ brokers: kafkaBrokers(), topicPrefix: prefix, log: () => {} });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-loader-bench-'));
  const calls = opts.calls ?? 200;
  const results = [];
  try {
    await bus.ensureTopics();
    for (const mode of ['per-event', 'batched'] as const) {
      console.log(`[bench] loader, ${mode}: a backlog of ${calls} calls' events, then 200 events/s for 10 s …`); // prettier-ignore
      const r = await runMode(mode, bus, dir, run, calls);
      results.push(r);
      const f = (x: number) => x.toFixed(0);
      console.log(
        `[bench] ${mode.padEnd(9)} backlog ${r.backlog.events} events in ${r.backlog.seconds} s = ${r.backlog.eventsPerSecond} events/s ` +
          `(${r.backlog.eventsPerLoad} per transaction; transaction p50 ${f(r.backlog.loadMs.p50)} / p95 ${f(r.backlog.loadMs.p95)} / p99 ${f(r.backlog.loadMs.p99)} ms) | ` +
          `live at ${r.live.ratePerSecond}/s: publish → stored p50 ${f(r.live.lagMs.p50)} / p95 ${f(r.live.lagMs.p95)} / p99 ${f(r.live.lagMs.p99)} ms`,
      );
    }
  } finally {
    await bus.close();
    await deleteTopicsWithPrefix(kafkaBrokers(), prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const [base, batched] = results as [(typeof results)[0], (typeof results)[0]];
  console.log(
    `[bench] batched vs per-event: backlog ×${(batched.backlog.eventsPerSecond / base.backlog.eventsPerSecond).toFixed(1)} events/s; ` +
      `live lag p95 ×${(batched.live.lagMs.p95 / base.live.lagMs.p95).toFixed(3)}, p99 ×${(batched.live.lagMs.p99 / base.live.lagMs.p99).toFixed(3)}`,
  );
  const out = path.join(repoRoot, 'bench', 'results', 'loader');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, 'latest.json'),
    JSON.stringify({ benchmark: 'loader', startedAt: new Date().toISOString(), results }, null, 2) +
      '\n',
  );
  console.log('results: bench/results/loader/latest.json');
}

if (require.main === module) {
  runLoaderBench({ calls: Number(process.argv[2] ?? 200) }).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
