// `switchboard bench --faults [name]`: whole calls under each provider fault. Every scenario
// starts the media-edge and the call and post-call workers (bench/fault-calls.ts) on the local
// Temporal dev server, PostgreSQL, Redis, object store and Kafka, with the production breaker
// policy (PROVIDER_HEALTH_* or its defaults), and places calls before, during (≥ 10) and after
// a real fault: Toxiproxy refusing or black-holing the connection, or the engine's binary
// gone. Per fault: calls completed by Temporal's account, turns without a reply, the turn's
// p50 once the breaker is open against the healthy p50 of the same run, time to detect
// (fault → breaker open) and to recover (fault lifted → closed), and the call logs (CRM rows),
// `call.ended` events (Kafka) and payments (charges per key) each call left: lost or doubled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import type { Answerer } from '../conversation/answers/answerer';
import { createKnowledgeAnswerer } from '../conversation/answers/knowledge-answerer';
import { databaseUrl, infraUp, objectStoreConfig, redisUrl } from '../infra';
import { repoRoot } from '../infra/paths';
import { healthPolicyFromEnv } from '../providers/health/policy';
import { ProviderHealth } from '../providers/health/provider-health';
import { startHealthChecks } from '../providers/health/health-checker';
import { DeepgramSpeechToText } from '../providers/stt/deepgram';
import { FallbackSpeechToText } from '../providers/stt/fallback';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import { FallbackTextToSpeech } from '../providers/tts/fallback';
import { LocalTts } from '../providers/tts/local';
import { PiecewiseSpeech } from '../providers/tts/piecewise';
import { PrerecordedTts } from '../providers/tts/prerecorded';
import type { CallerScriptItem } from '../simulator/caller-script';
import { DeepgramReplayServer } from '../testing/deepgram-replay';
import { CALLERS_WITH_A_BILL, saying } from '../testing/edge-stack';
import {
  type FaultProxies,
  type FaultProxy,
  hostPort,
  startFaultProxy,
  stopFaultProxy,
  throughProxy,
} from '../testing/faults';
import { OpenAiReplayServer } from '../testing/openai-replay';
import { answererBehindQdrant, QdrantMemoryServer } from '../testing/qdrant-memory';
import { resetDb, teardownPlatform, testDb } from '../testing/platform';
import { installCompactLogging } from '../workers/logging';
import { FaultStack, leftovers, type FaultStackOptions, type PlacedCall } from './fault-calls';
import { pct } from './percentile';

type Phase = 'before' | 'during' | 'after';

/** A fault the outside world causes: switched on, then off again. */
interface Fault {
  inject(): Promise<void>;
  lift(): Promise<void>;
}

interface Scenario {
  fault: string;
  /** audio: simulated callers through the edge; text: utterances through the workflow. */
  path: 'audio' | 'text';
  /** What one call says. */
  script: CallerScriptItem[];
  stack: Omit<FaultStackOptions, 'health'>;
  /** The breaker that should open (family:provider), or how the outage shows otherwise. */
  breaker: string;
  faultOf(): Fault;
  /** Overrides the breaker for a fault that has none (the recording spool). */
  detected?: () => boolean;
  recovered?: () => boolean;
  close(): Promise<void>;
}

type Build = (faults: FaultProxies, health: ProviderHealth) => Promise<Scenario>;

export interface FaultResult {
  fault: string;
  /** When the scenario ended (a single fault may be re-run on its own). */
  at: string;
  path: 'audio' | 'text';
  call: string;
  calls: Record<Phase, number>;
  completed: number;
  failed: number;
  /** Turns without reply audio (or an empty text reply). */
  silentTurns: number;
  /** p50 ms of a caller turn: healthy (before), and during the outage once the breaker is open. */
  healthyP50Ms: number;
  openP50Ms: number;
  ratioP50: number;
  detectMs?: number;
  /** Why the breaker opened ("3 timeouts in a row"). */
  openedBy?: string;
  recoverMs?: number;
  callLogs: { lost: number; doubled: number };
  events: { lost: number; doubled: number };
  payments: { lost: number; doubled: number; charged: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 10) / 10;

/** Callers speak at once in pairs: detection is paced by traffic, as in a call center. */
const CONCURRENCY = 2;
const BALANCE = saying(["what's my balance"]);

const proxied = (p: FaultProxy): Fault => ({ inject: () => p.down(), lift: () => p.clear() });

async function runScenario(
  s: Scenario,
  health: ProviderHealth,
  n: { before: number; during: number; after: number },
): Promise<FaultResult> {
  const stack = await FaultStack.start({ ...s.stack, health });
  const open = s.detected ?? (() => health.state(s.breaker).state.state === 'open');
  const closed = s.recovered ?? (() => health.state(s.breaker).state.state === 'closed');
  const calls: Record<Phase, PlacedCall[]> = { before: [], during: [], after: [] };
  const turns: Record<Phase, number[]> = { before: [], during: [], after: [] };
  let next = 0;
  let detectedAt: number | undefined;
  const place = async (phase: Phase): Promise<void> => {
    const from = CALLERS_WITH_A_BILL[next++ % CALLERS_WITH_A_BILL.length]!;
    const openAtStart = detectedAt !== undefined;
    try {
      const c =
        s.path === 'audio'
          ? await stack.audioCall(from, s.script)
          : await stack.textCall(from, s.script);
      calls[phase].push(c);
      if (phase !== 'during' || openAtStart) turns[phase].push(...c.turnMs);
    } catch (err) {
      console.log(`  ${s.fault}: a ${phase} call could not be placed: ${(err as Error).message}`);
    }
  };
  const wave = (phase: Phase) =>
    Promise.all(Array.from({ length: CONCURRENCY }, () => place(phase)));

  try {
    while (calls.before.length < n.before) await wave('before');
    const fault = s.faultOf();
    let openedBy: string | undefined;
    const watch = setInterval(() => {
      if (detectedAt !== undefined || !open()) return;
      detectedAt = performance.now();
      openedBy = s.detected ? undefined : health.state(s.breaker).state.reason;
    }, 20);
    const injected = performance.now();
    await fault.inject();
    // At least n.during calls, and on until calls are placed with the breaker open.
    while (
      (calls.during.length < n.during || turns.during.length === 0) &&
      calls.during.length < n.during + 20
    ) {
      await wave('during');
    }
    clearInterval(watch);

    const lifted = performance.now();
    await fault.lift();
    let recoveredAt: number | undefined;
    const recovery = setInterval(() => {
      if (recoveredAt === undefined && closed()) recoveredAt = performance.now();
    }, 20);
    // Calls go on while it recovers (without active checks the half-open probe needs traffic).
    while (recoveredAt === undefined && performance.now() - lifted < 90_000) await wave('after');
    clearInterval(recovery);
    const afterCount = calls.after.length;
    while (calls.after.length < afterCount + n.after) await wave('after');

    const all = [...calls.before, ...calls.during, ...calls.after];
    const outcomes = await Promise.all(all.map((c) => c.outcome));
    await stack.postCallsSettled(all, Date.now() + 60_000);
    // The consumer sees the last call.ended a moment after the workflow closed.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && all.some((c) => !stack.ended.has(c.workflowId))) {
      await sleep(250);
    }
    const left = await leftovers(await testDb(), stack, all);
    const healthy = pct(turns.before, 50);
    const openP50 = pct(turns.during, 50);
    return {
      fault: s.fault,
      at: new Date().toISOString(),
      path: s.path,
      call: s.script
        .map((i) => (i.kind === 'say' ? i.text : `keys ${'digits' in i ? i.digits : ''}`))
        .join(' / '),
      calls: {
        before: calls.before.length,
        during: calls.during.length,
        after: calls.after.length,
      },
      completed: outcomes.filter((o) => o === 'completed').length,
      failed: outcomes.filter((o) => o === 'failed').length,
      silentTurns: all.reduce((sum, c) => sum + c.silentTurns, 0),
      healthyP50Ms: round(healthy),
      openP50Ms: round(openP50),
      ratioP50: Math.round((openP50 / healthy) * 100) / 100,
      ...(detectedAt !== undefined && { detectMs: Math.round(detectedAt - injected) }),
      ...(openedBy && { openedBy }),
      ...(recoveredAt !== undefined && { recoverMs: Math.round(recoveredAt - lifted) }),
      ...left,
    };
  } finally {
    await stack.stop();
  }
}

/** Grounded answers from OpenAI (its wire protocol replayed), black-holed; the template serves. */
const llmBlackhole: Build = async (faults, health) => {
  const replay = new OpenAiReplayServer();
  const url = await replay.start();
  const proxy = await faults.proxy('bench-llm', hostPort(url));
  const answerer = await createKnowledgeAnswerer({
    env: {
      ...process.env,
      LLM_CHAIN: 'openai,template',
      OPENAI_API_KEY: 'sk-bench-switchboard-0123456789',
      OPENAI_BASE_URL: throughProxy(url, proxy),
    },
    health,
  });
  return {
    fault: 'llm-blackhole',
    path: 'audio',
    script: saying(['what is the late fee', 'what happens if I pay late']),
    stack: { pool: await testDb(), answerer },
    breaker: 'llm:openai',
    faultOf: () => ({ inject: () => proxy.blackhole(), lift: () => proxy.clear() }),
    close: async () => {
      await faults.remove(proxy.name);
      await replay.close();
    },
  };
};

/** The local answerer: the template over the local index (no LLM server in the way). */
const templateAnswerer = (health: ProviderHealth) =>
  createKnowledgeAnswerer({ env: { ...process.env, LLM_CHAIN: 'template' }, health });

/** Deepgram (its live protocol replayed) refusing connections; pocketsphinx recognizes. */
const asrDown: Build = async (faults, health) => {
  const server = await DeepgramReplayServer.start();
  const proxy = await faults.proxy('bench-asr', hostPort(server.url));
  const local = new PocketsphinxSpeechToText();
  local.warm();
  const stt = new FallbackSpeechToText(
    new DeepgramSpeechToText({ apiKey: 'dg-bench-key', baseUrl: throughProxy(server.url, proxy) }),
    local,
    { gate: health.forFamily('stt') },
  );
  return {
    fault: 'asr-down',
    path: 'audio',
    script: BALANCE,
    stack: { pool: await testDb(), answerer: await templateAnswerer(health), stt },
    breaker: 'stt:deepgram',
    faultOf: () => proxied(proxy),
    close: async () => {
      await faults.remove(proxy.name);
      await server.close();
    },
  };
};

/** The TTS cache's Redis refusing connections: the edge's memory tier, then synthesis. */
const redisDown: Build = async (faults, health) => {
  const proxy = await faults.proxy('bench-redis', hostPort(redisUrl()));
  return {
    fault: 'redis-down',
    path: 'audio',
    script: BALANCE,
    stack: {
      pool: await testDb(),
      answerer: await templateAnswerer(health),
      edgeEnv: { REDIS_URL: throughProxy(redisUrl(), proxy) },
    },
    breaker: 'cache:redis',
    faultOf: () => proxied(proxy),
    close: () => faults.remove(proxy.name),
  };
};

/** Every synthesizer down: the local engine's binary gone; prerecorded prompts and pieces speak. */
const ttsDown: Build = async (_faults, health) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tts-'));
  const engine = path.join(dir, 'flite');
  const install = () => fs.symlinkSync('/usr/bin/flite', engine);
  install();
  const chain = new FallbackTextToSpeech(
    [
      { provider: 'local', port: new LocalTts({ command: engine }), timeoutMs: 4_000 },
      { provider: 'prerecorded', port: new PrerecordedTts(), timeoutMs: 500 },
      { provider: 'pieces', port: new PiecewiseSpeech(), timeoutMs: 500 },
    ],
    health.forFamily('tts'),
  );
  return {
    fault: 'tts-down',
    path: 'audio',
    script: saying(["what's my balance", 'what is the late fee']),
    stack: { pool: await testDb(), answerer: await templateAnswerer(health), chain },
    breaker: 'tts:local',
    faultOf: () => ({
      inject: async () => fs.rmSync(engine),
      lift: async () => install(),
    }),
    close: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
};

/** The object store refusing connections: recordings spooled on the edge, uploaded after. */
const objectStoreDown: Build = async (faults, health) => {
  const cfg = objectStoreConfig('recordings');
  const proxy = await faults.proxy('bench-object-store', hostPort(cfg.endpoint));
  const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-spool-'));
  const onDisk = () => fs.readdirSync(spool).filter((f) => f.endsWith('.json')).length;
  let spooled = false;
  return {
    fault: 'object-store-down',
    path: 'audio',
    script: BALANCE,
    stack: {
      pool: await testDb(),
      answerer: await templateAnswerer(health),
      edgeEnv: {
        S3_ENDPOINT: throughProxy(cfg.endpoint, proxy),
        RECORDING_SPOOL_DIR: spool,
        RECORDING_RETRY_MAX_MS: '2000',
      },
    },
    breaker: 'spool',
    faultOf: () => proxied(proxy),
    detected: () => (spooled ||= onDisk() > 0),
    recovered: () => spooled && onDisk() === 0,
    close: async () => {
      await faults.remove(proxy.name);
      fs.rmSync(spool, { recursive: true, force: true });
    },
  };
};

/** The CRM, billing and payments database refusing connections; text calls that pay. */
const crmDown: Build = async (faults, health) => {
  const url = new URL(databaseUrl('switchboard_test'));
  const proxy = await faults.proxy('bench-crm', `${url.hostname}:${url.port}`);
  const through = new URL(throughProxy(`http://${url.host}`, proxy));
  url.port = through.port;
  const pool = new Pool({ connectionString: url.toString(), max: 10 });
  pool.on('error', () => undefined); // an idle client dropped by the fault
  return {
    fault: 'crm-down',
    path: 'text',
    script: [...saying(['pay my bill']), { kind: 'dtmf', digits: '1' }],
    stack: { pool, answerer: await templateAnswerer(health) },
    breaker: 'crm:postgres',
    faultOf: () => proxied(proxy),
    close: async () => {
      await faults.remove(proxy.name);
      await pool.end();
    },
  };
};

/**
 * Qdrant (a stand-in holding the knowledge base, searched for real) refusing connections; the
 * published local index answers. Retrieval runs where the answer is made: the edge, for these
 * spoken questions.
 */
const vectorDown: Build = async (faults, health) => {
  const qdrant = new QdrantMemoryServer();
  const url = await qdrant.start();
  const proxy = await faults.proxy('bench-vectors', hostPort(url));
  const searches = () => qdrant.served.get('POST /collections/{name}/points/query') ?? 0;
  const knowledge = await answererBehindQdrant(url, throughProxy(url, proxy), health);
  // What the answers were grounded on: documents (from either index) or none.
  const answers = { grounded: 0, noRetrieval: 0, other: 0 };
  const answerer: Answerer = {
    answer: async (input, o) => {
      const r = await knowledge.answer(input, o);
      if (r.documentIds.length) answers.grounded++;
      else if (r.refused === 'no_retrieval' || r.degraded === 'no_retrieval') answers.noRetrieval++;
      else answers.other++;
      return r;
    },
  };
  return {
    fault: 'vector-down',
    path: 'audio',
    script: saying(['what is the late fee', 'what happens if I pay late']),
    stack: { pool: await testDb(), answerer },
    breaker: 'vectors:qdrant',
    faultOf: () => proxied(proxy),
    close: async () => {
      console.log(
        `  vector-down: answers ${JSON.stringify(answers)}; Qdrant's stand-in answered ${searches()} searches`,
      );
      await faults.remove(proxy.name);
      await qdrant.close();
    },
  };
};

const SCENARIOS: Record<string, Build> = {
  'llm-blackhole': llmBlackhole,
  'asr-down': asrDown,
  'redis-down': redisDown,
  'tts-down': ttsDown,
  'object-store-down': objectStoreDown,
  'crm-down': crmDown,
  'vector-down': vectorDown,
};

export const FAULT_NAMES = Object.keys(SCENARIOS);

export async function runFaultBench(
  opts: { only?: string; before?: number; during?: number; after?: number } = {},
): Promise<FaultResult[]> {
  const names = opts.only ? [opts.only] : FAULT_NAMES;
  for (const name of names) {
    if (!SCENARIOS[name]) throw new Error(`no fault "${name}"; one of ${FAULT_NAMES.join(', ')}`);
  }
  const n = {
    before: opts.before ?? 4,
    during: Math.max(10, opts.during ?? 10),
    after: opts.after ?? 2,
  };
  try {
    installCompactLogging('WARN');
  } catch {
    // A runtime is already installed (the CLI's): keep it.
  }
  await infraUp({ quiet: true });
  const faults = await startFaultProxy();
  const startedAt = new Date().toISOString();
  const policy = healthPolicyFromEnv();
  console.log(
    `[bench] faults (whole calls, ${CONCURRENCY} at a time): ${n.before} before, ≥ ${n.during} ` +
      `during, ${n.after} after each; breaker: ${policy.consecutiveFailures} failures or ` +
      `${policy.consecutiveTimeouts} timeouts in a row, open ${policy.openMs} ms`,
  );
  const results: FaultResult[] = [];
  try {
    for (const name of names) {
      await resetDb(); // the demo customers' bills open again
      const health = new ProviderHealth({ policy });
      const s = await SCENARIOS[name]!(faults, health);
      // Active checks as in production (PROVIDER_HEALTH_CHECK_MS, 0: detection by traffic alone).
      const checks = startHealthChecks(health);
      try {
        const r = await runScenario(s, health, n);
        results.push(r);
        console.log(`  ${JSON.stringify(r)}`);
      } finally {
        await checks?.close();
        await s.close();
        await health.close();
      }
    }
  } finally {
    await stopFaultProxy();
    await teardownPlatform();
  }
  const out = path.join(repoRoot, 'bench', 'results', 'faults');
  fs.mkdirSync(out, { recursive: true });
  const doc = {
    node: process.version,
    cpus: os.cpus().length,
    startedAt,
    calls: n,
    concurrency: CONCURRENCY,
    policy,
    results,
  };
  const file = path.join(out, 'latest.json');
  // One fault re-run replaces its row in the last full run's results.
  if (opts.only && fs.existsSync(file)) {
    const last = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof doc;
    const kept = (last.results ?? []).filter((r) => r.fault !== opts.only);
    doc.results = FAULT_NAMES.flatMap(
      (name) => [...kept, ...results].find((r) => r.fault === name) ?? [],
    );
  }
  fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  console.log('results: bench/results/faults/latest.json');
  return results;
}
