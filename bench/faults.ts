// `switchboard bench --faults`: each degraded mode under a real fault (Toxiproxy in front of
// the real server or the vendor's stand-in), driven the way a call drives that component,
// with the production breaker policy (PROVIDER_HEALTH_* or its defaults). Per fault: calls
// before, during (≥ 10) and after the outage; calls that completed, that were silent (nothing
// to say or play) or failed; the per-call latency once the breaker is open against the
// healthy figure of the same run; time to detect (breaker open) and to recover (closed again
// after the upstream returned); and, where the fault touches what a call leaves behind
// (recordings), how many were lost or written twice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { infraUp, objectStoreConfig, redisUrl } from '../infra';
import { repoRoot, silentLog } from '../infra/paths';
import { RecordingSpool } from '../media-edge/call/recording-spool';
import { healthPolicyFromEnv } from '../providers/health/policy';
import { ProviderHealth } from '../providers/health/provider-health';
import { languageModelFromEnv } from '../providers/llm/config';
import { DeepgramSpeechToText } from '../providers/stt/deepgram';
import { FallbackSpeechToText } from '../providers/stt/fallback';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import { S3ObjectStore } from '../providers/object-store/s3';
import { LocalTts } from '../providers/tts/local';
import { HINTS, phoneLine } from '../testing/asr-corpus';
import { DeepgramReplayServer } from '../testing/deepgram-replay';
import {
  type FaultProxy,
  hostPort,
  startFaultProxy,
  stopFaultProxy,
  throughProxy,
} from '../testing/faults';
import { OpenAiReplayServer } from '../testing/openai-replay';
import { LATE_FEE_PROMPT as PROMPT, ttsCacheOn } from '../testing/degraded';
import { speak } from '../testing/speech-audio';
import { pct } from './percentile';

type Phase = 'before' | 'during' | 'after';

interface CallOutcome {
  ok: boolean;
  /** Nothing to say or play came out of it. */
  silent: boolean;
}

interface Scenario {
  fault: string;
  /** What one call does here. */
  call: string;
  proxy: FaultProxy;
  inject(p: FaultProxy): Promise<void>;
  place(i: number, phase: Phase): Promise<CallOutcome>;
  /** The outage noticed: the breaker open (or the recording kept on disk). */
  detected(): boolean;
  /** Back to normal: the breaker closed (or the spool empty). */
  recovered(): boolean;
  leftovers?(): Promise<{ lost: number; doubled: number }>;
  close(): Promise<void>;
}

export interface FaultResult {
  fault: string;
  call: string;
  calls: Record<Phase, number>;
  completed: number;
  silent: number;
  failed: number;
  /** p50 ms of a call: healthy (before), and during the outage once detected. */
  healthyP50Ms: number;
  openP50Ms: number;
  ratioP50: number;
  detectMs?: number;
  recoverMs?: number;
  lost?: number;
  doubled?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 10) / 10;

async function runScenario(s: Scenario, n: { before: number; during: number; after: number }) {
  const times: Record<Phase, number[]> = { before: [], during: [], after: [] };
  const counts: Record<Phase, number> = { before: 0, during: 0, after: 0 };
  let completed = 0;
  let silent = 0;
  let failed = 0;
  let i = 0;
  let detectedAt: number | undefined;
  const place = async (phase: Phase, openOnly = false) => {
    const open = s.detected();
    const t0 = performance.now();
    try {
      const r = await s.place(i++, phase);
      if (r.ok) completed++;
      if (r.silent) silent++;
    } catch (err) {
      failed++;
      console.log(`  ${s.fault}: a ${phase} call failed: ${(err as Error).message}`);
    }
    counts[phase]++;
    if (!openOnly || open) times[phase].push(performance.now() - t0);
    // A call served without I/O never lets the watch's timer run: look after each call too.
    if (phase === 'during' && detectedAt === undefined && s.detected()) {
      detectedAt = performance.now();
    }
  };
  for (let k = 0; k < n.before; k++) await place('before');

  const injected = performance.now();
  const watch = setInterval(() => {
    if (detectedAt === undefined && s.detected()) detectedAt = performance.now();
  }, 20);
  await s.inject(s.proxy);
  for (let k = 0; k < n.during || detectedAt === undefined; k++) {
    if (k >= n.during + 100) break; // never detected: say so below
    await place('during', true);
  }
  clearInterval(watch);

  const restored = performance.now();
  await s.proxy.clear();
  let recoveredAt: number | undefined;
  const deadline = restored + 90_000;
  // Calls go on while it recovers (a probe needs traffic); then the after-calls proper.
  while (recoveredAt === undefined && performance.now() < deadline) {
    await place('after');
    if (s.recovered()) recoveredAt = performance.now();
    else await sleep(250);
  }
  for (let k = 0; k < n.after; k++) await place('after');
  const left = await s.leftovers?.();
  const healthy = pct(times.before, 50);
  const open = pct(times.during, 50);
  const result: FaultResult = {
    fault: s.fault,
    call: s.call,
    calls: counts,
    completed,
    silent,
    failed,
    healthyP50Ms: round(healthy),
    openP50Ms: round(open),
    ratioP50: Math.round((open / healthy) * 100) / 100,
    ...(detectedAt !== undefined && { detectMs: Math.round(detectedAt - injected) }),
    ...(recoveredAt !== undefined && { recoverMs: Math.round(recoveredAt - restored) }),
    ...left,
  };
  return result;
}

async function llmBlackhole(faults: Awaited<ReturnType<typeof startFaultProxy>>) {
  const replay = new OpenAiReplayServer();
  const url = await replay.start();
  const proxy = await faults.proxy('bench-llm', hostPort(url));
  const health = new ProviderHealth({ policy: healthPolicyFromEnv() });
  const env = {
    LLM_CHAIN: 'openai,template',
    OPENAI_API_KEY: 'sk-bench-switchboard-0123456789',
    OPENAI_BASE_URL: throughProxy(url, proxy),
  };
  return {
    fault: 'llm-blackhole',
    call: 'two grounded answers (OpenAI stand-in, then the template)',
    proxy,
    inject: (p) => p.blackhole(),
    async place() {
      let silent = false;
      for (let t = 0; t < 2; t++) {
        const a = languageModelFromEnv(env, silentLog, health.forFamily('llm')).answer(PROMPT);
        let text = '';
        for await (const piece of a) text += piece;
        if (!text.trim()) silent = true;
      }
      return { ok: !silent, silent };
    },
    detected: () => health.state('llm:openai').state.state === 'open',
    recovered: () => health.state('llm:openai').state.state === 'closed',
    close: async () => {
      await health.close();
      await replay.close();
    },
  } satisfies Scenario;
}

async function asrDown(faults: Awaited<ReturnType<typeof startFaultProxy>>) {
  const server = await DeepgramReplayServer.start();
  const proxy = await faults.proxy('bench-asr', hostPort(server.url));
  const health = new ProviderHealth({ policy: healthPolicyFromEnv() });
  const sphinx = new PocketsphinxSpeechToText({ poolSize: 1 });
  sphinx.warm();
  const stt = new FallbackSpeechToText(
    new DeepgramSpeechToText({
      apiKey: 'dg-bench-key',
      baseUrl: throughProxy(server.url, proxy),
      finalizeTimeoutMs: 500,
    }),
    sphinx,
    { gate: health.forFamily('stt') },
  );
  const { samples } = phoneLine(
    await speak('what is my balance', { engine: 'flite', voice: 'slt' }),
  );
  return {
    fault: 'asr-down',
    call: 'one utterance recognized (Deepgram stand-in, then pocketsphinx)',
    proxy,
    inject: (p) => p.down(),
    async place() {
      server.reset();
      const stream = stt.start({ sampleRate: 8000, hints: HINTS.open });
      for (let k = 0; k < samples.length; k += 160) stream.write(samples.subarray(k, k + 160));
      const t = await stream.finish();
      return { ok: t.text.trim() !== '', silent: t.text.trim() === '' };
    },
    detected: () => health.state('stt:deepgram').state.state === 'open',
    recovered: () => health.state('stt:deepgram').state.state === 'closed',
    close: async () => {
      await health.close();
      await server.close();
      sphinx.dispose();
    },
  } satisfies Scenario;
}

const LINES = [
  'Thanks for calling Northwind Power and Telecom.',
  'Is there anything else I can help you with?',
  'Your payment is complete.',
];

async function redisDown(faults: Awaited<ReturnType<typeof startFaultProxy>>) {
  const proxy = await faults.proxy('bench-redis', hostPort(redisUrl()));
  const url = throughProxy(redisUrl(), proxy);
  const health = new ProviderHealth({ policy: healthPolicyFromEnv() });
  const { cache, redis } = ttsCacheOn(
    url,
    health.forFamily('cache'),
    `tts-bench-faults-${Date.now()}`,
  );
  const tts = new LocalTts();
  for (const line of LINES) await cache.cachedSynthesize(tts, line); // the cache is warm
  return {
    fault: 'redis-down',
    call: 'three fixed prompts spoken (TTS cache on Redis, else synthesized)',
    proxy,
    inject: (p) => p.down(),
    async place() {
      let silent = false;
      for (const line of LINES) {
        const r = await cache.cachedSynthesize(tts, line);
        if (r.audio.mulaw.length === 0) silent = true;
      }
      return { ok: !silent, silent };
    },
    detected: () => health.state('cache:redis').state.state === 'open',
    recovered: () => health.state('cache:redis').state.state === 'closed',
    close: async () => {
      await health.close();
      redis.disconnect();
    },
  } satisfies Scenario;
}

async function objectStoreDown(faults: Awaited<ReturnType<typeof startFaultProxy>>) {
  const cfg = objectStoreConfig('recordings');
  const proxy = await faults.proxy('bench-object-store', hostPort(cfg.endpoint));
  const store = (endpoint: string) =>
    new S3ObjectStore({
      bucket: cfg.bucket,
      endpoint,
      region: cfg.region,
      credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
    });
  const direct = store(cfg.endpoint);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-spool-'));
  const told = new Map<string, number>();
  const spool = new RecordingSpool({
    dir,
    store: store(throughProxy(cfg.endpoint, proxy)),
    notify: async (sid) => void told.set(sid, (told.get(sid) ?? 0) + 1),
    log: () => undefined,
    retryMaxMs: 2_000,
  });
  const run = `CAbench${Date.now()}`;
  const wav = Buffer.alloc(160_000, 1); // 10 s of two-channel 8 kHz audio
  const placed: string[] = [];
  let spooledOnce = false;
  const onDisk = () => fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length;
  return {
    fault: 'object-store-down',
    call: 'one call ended: its 10 s recording kept (spool, upload, workflow told)',
    proxy,
    inject: (p) => p.down(),
    async place(i) {
      const sid = `${run}-${i}`;
      placed.push(sid);
      await spool.keep(sid, wav, {
        key: `recordings/${sid}.wav`,
        durationMs: 10_000,
        truncated: false,
      });
      if (onDisk() > 0) spooledOnce = true;
      return { ok: true, silent: false };
    },
    detected: () => spooledOnce,
    recovered: () => spooledOnce && onDisk() === 0,
    async leftovers() {
      let lost = 0;
      for (const sid of placed) if (!(await direct.get(`recordings/${sid}.wav`))) lost++;
      const doubled = [...told.values()].filter((n) => n > 1).length;
      // Told exactly once each: none missing either.
      lost = Math.max(lost, placed.filter((sid) => !told.has(sid)).length);
      return { lost, doubled };
    },
    close: async () => {
      spool.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  } satisfies Scenario;
}

export async function runFaultBench(
  opts: { before?: number; during?: number; after?: number } = {},
): Promise<FaultResult[]> {
  const n = {
    before: opts.before ?? 5,
    during: Math.max(10, opts.during ?? 10),
    after: opts.after ?? 5,
  };
  await infraUp({ quiet: true });
  const faults = await startFaultProxy();
  const startedAt = new Date().toISOString();
  const policy = healthPolicyFromEnv();
  console.log(
    `[bench] faults: ${n.before} calls before, ≥ ${n.during} during, ${n.after} after each; ` +
      `breaker: ${policy.consecutiveFailures} failures in a row, open ${policy.openMs} ms`,
  );
  const results: FaultResult[] = [];
  try {
    for (const build of [llmBlackhole, asrDown, redisDown, objectStoreDown]) {
      const s = await build(faults);
      try {
        const r = await runScenario(s, n);
        results.push(r);
        console.log(`  ${JSON.stringify(r)}`);
      } finally {
        await s.close();
        await faults.remove(s.proxy.name);
      }
    }
  } finally {
    await stopFaultProxy();
  }
  const out = path.join(repoRoot, 'bench', 'results', 'faults');
  fs.mkdirSync(out, { recursive: true });
  const doc = { node: process.version, startedAt, calls: n, policy, results };
  fs.writeFileSync(path.join(out, 'latest.json'), JSON.stringify(doc, null, 2) + '\n');
  console.log('results: bench/results/faults/latest.json');
  return results;
}
