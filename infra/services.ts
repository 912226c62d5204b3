// Starting, stopping and probing the local services. Each runs detached (it outlives the CLI)
// and is tracked by a pidfile; a pidfile counts only if its process is alive and is ours.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { boundedClientConfig, pgBoundsFromEnv } from './postgres-pool';
import { kafkaEndpoint, kafkaInfo } from './kafka';
import { devServerFlags, loadTemporalConfig, type TemporalConfig } from './temporal-config';
import { envPort, type Log, paths, type ServiceName, shortPath } from './paths';
import type { ServiceInfo, ServiceSpec } from './service-spec';

export const APP_DATABASES = ['switchboard', 'switchboard_test'] as const;
export type AppDatabase = (typeof APP_DATABASES)[number];
const APP_ROLE = 'switchboard';

export function endpoints() {
  const { devServer } = loadTemporalConfig();
  return {
    temporal: {
      host: devServer.ip,
      port: envPort('TEMPORAL_PORT', devServer.port),
      uiPort: envPort('TEMPORAL_UI_PORT', devServer.uiPort),
      codecPort: envPort('HISTORY_CODEC_PORT', devServer.uiCodecPort),
    },
    postgres: { host: '127.0.0.1', port: envPort('PGPORT_SWITCHBOARD', 5433) },
    redis: { host: '127.0.0.1', port: envPort('REDIS_PORT', 6380) },
    objectStore: objectStorePorts(envPort('OBJECT_STORE_PORT', 9100)),
    kafka: kafkaEndpoint(),
  };
}

/**
 * SeaweedFS runs master, volume server, filer and S3 gateway in one process; each listens
 * on HTTP + gRPC. All are laid out from OBJECT_STORE_PORT (S3 itself) so one variable moves
 * them together. Its admin component dials gRPC at admin port + 10000 whatever the flags say.
 */
export function objectStorePorts(s3: number) {
  if (s3 + 10_008 > 65_535) {
    throw new Error(`OBJECT_STORE_PORT=${s3} leaves no room for its ports (up to +10008)`);
  }
  return {
    host: '127.0.0.1',
    port: s3,
    s3Grpc: s3 + 1,
    master: s3 + 2,
    masterGrpc: s3 + 3,
    volume: s3 + 4,
    volumeGrpc: s3 + 5,
    filer: s3 + 6,
    filerGrpc: s3 + 7,
    admin: s3 + 8,
    adminGrpc: s3 + 10_008,
  };
}

export function serviceInfo(name: ServiceName): ServiceInfo {
  const ep = endpoints();
  const p = paths();
  switch (name) {
    case 'temporal':
      return {
        name,
        marker: p.temporalDb,
        stopSignal: 'SIGTERM',
        probe: () => temporalHealthy(ep.temporal.host, ep.temporal.port),
      };
    case 'postgres':
      return {
        name,
        marker: p.pgData,
        stopSignal: 'SIGINT', // "fast" shutdown: disconnects clients, then exits cleanly
        probe: () => postgresHealthy(ep.postgres.port),
      };
    case 'redis':
      return {
        name,
        marker: 'redis-server', // redis rewrites its cmdline to "redis-server host:port"
        stopSignal: 'SIGTERM',
        probe: () => redisHealthy(ep.redis.host, ep.redis.port),
      };
    case 'object-store':
      return {
        name,
        marker: p.objectStoreData,
        stopSignal: 'SIGTERM',
        probe: () => objectStoreHealthy(ep.objectStore),
        afterStop: () => removeSeaweedSockets(ep.objectStore),
      };
    case 'kafka':
      return kafkaInfo();
  }
}

export function temporalSpec(temporalExe: string, cfg: TemporalConfig): ServiceSpec {
  const { host, port, uiPort, codecPort } = endpoints().temporal;
  return {
    ...serviceInfo('temporal'),
    command: temporalExe,
    args: [
      ...['server', 'start-dev', '--ip', host, '--port', String(port)],
      ...['--ui-port', String(uiPort), '--ui-disable-news-fetch'],
      ...['--ui-codec-endpoint', `http://${host}:${codecPort}`],
      ...['--db-filename', paths().temporalDb, '--log-level', 'warn'],
      ...devServerFlags(cfg),
    ],
    ports: [
      { host, port, env: 'TEMPORAL_PORT', what: 'Temporal gRPC' },
      { host, port: uiPort, env: 'TEMPORAL_UI_PORT', what: 'Temporal Web UI' },
    ],
    startTimeoutMs: 60_000,
  };
}

export function postgresSpec(binDir: string): ServiceSpec {
  const { host, port } = endpoints().postgres;
  return {
    ...serviceInfo('postgres'),
    command: `${binDir}/postgres`,
    // No unix socket: the system's default socket dir may be absent or used by another cluster.
    args: [
      ...['-D', paths().pgData, '-p', String(port)],
      ...['-c', `listen_addresses=${host}`, '-c', 'unix_socket_directories='],
    ],
    ports: [{ host, port, env: 'PGPORT_SWITCHBOARD', what: 'PostgreSQL' }],
    runAs: postgresUser(),
    startTimeoutMs: 60_000,
  };
}

export function redisSpec(redisExe: string): ServiceSpec {
  const { host, port } = endpoints().redis;
  return {
    ...serviceInfo('redis'),
    command: redisExe,
    args: [
      ...['--bind', host, '--port', String(port), '--dir', paths().redisData],
      ...['--daemonize', 'no', '--protected-mode', 'yes'],
    ],
    ports: [{ host, port, env: 'REDIS_PORT', what: 'Redis' }],
    startTimeoutMs: 20_000,
  };
}

export function objectStoreSpec(weedExe: string): ServiceSpec {
  const o = endpoints().objectStore;
  const p = paths();
  const flag = (name: string, value: string | number | boolean) => `-${name}=${value}`;
  const port = (port: number, what: string) => ({
    host: o.host,
    port,
    env: 'OBJECT_STORE_PORT',
    what: `object store ${what}`,
  });
  return {
    ...serviceInfo('object-store'),
    command: weedExe,
    // `weed mini`: the all-in-one dev setup (one volume per bucket, 1 s start, 4 s stop).
    args: [
      'mini',
      ...[flag('dir', p.objectStoreData), flag('ip', o.host), flag('ip.bind', o.host)],
      ...[flag('s3.port', o.port), flag('s3.port.grpc', o.s3Grpc)],
      ...[flag('s3.config', p.objectStoreIdentities)],
      ...[flag('master.port', o.master), flag('master.port.grpc', o.masterGrpc)],
      ...[flag('volume.port', o.volume), flag('volume.port.grpc', o.volumeGrpc)],
      ...[flag('filer.port', o.filer), flag('filer.port.grpc', o.filerGrpc)],
      ...[flag('admin.ui', false), flag('admin.port', o.admin)],
      // Off: the WebDAV gateway and the table catalogs (their defaults would take 7333/8181/9101).
      ...[flag('webdav', false), flag('s3.port.iceberg', 0), flag('s3.port.lance', 0)],
    ],
    ports: [
      port(o.port, 'S3'),
      port(o.s3Grpc, 'S3 gRPC'),
      port(o.master, 'master'),
      port(o.masterGrpc, 'master gRPC'),
      port(o.volume, 'volume server'),
      port(o.volumeGrpc, 'volume gRPC'),
      port(o.filer, 'filer'),
      port(o.filerGrpc, 'filer gRPC'),
      port(o.admin, 'admin'),
      port(o.adminGrpc, 'admin gRPC'),
    ],
    startTimeoutMs: 30_000,
    // `weed mini` saves its flags to <dir>/mini.options and reloads them on start; every
    // flag is passed each time, so a saved file from another port layout must not linger.
    beforeStart: () => fs.rmSync(`${p.objectStoreData}/mini.options`, { force: true }),
  };
}

// SeaweedFS opens unix sockets /tmp/seaweedfs-<component>-<port>.sock beside its TCP ports
// (the gRPC ones at fixed paths) and leaves some behind on exit: remove those of our ports.
function removeSeaweedSockets(o: ReturnType<typeof objectStorePorts>): void {
  const ours = new Set(Object.values(o).filter((v): v is number => typeof v === 'number'));
  let names: string[] = [];
  try {
    names = fs.readdirSync('/tmp');
  } catch {
    return;
  }
  for (const name of names) {
    const port = /^seaweedfs-[a-z0-9-]+-(\d+)\.sock$/.exec(name)?.[1];
    if (!port || !ours.has(Number(port))) continue;
    try {
      if (fs.lstatSync(`/tmp/${name}`).isSocket()) fs.rmSync(`/tmp/${name}`);
    } catch {
      // gone meanwhile
    }
  }
}

// --- processes -------------------------------------------------------------------------

export function readPid(name: ServiceName): number | undefined {
  try {
    const pid = Number(fs.readFileSync(paths().pidFile(name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    // A zombie still answers kill(0) but is gone: field 3 of /proc/<pid>/stat is its state.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return false;
  }
}

function isOurs(pid: number, marker: string): boolean {
  try {
    return isAlive(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false;
  }
}

/** Pid of our running process for `info`, or undefined; removes a stale pidfile. */
export function livePid(info: ServiceInfo, log?: Log): number | undefined {
  const pid = readPid(info.name);
  if (pid === undefined) return undefined;
  if (isOurs(pid, info.marker)) return pid;
  fs.rmSync(paths().pidFile(info.name), { force: true });
  log?.(`removed stale pidfile of ${info.name} (pid ${pid} is gone)`);
  return undefined;
}

export function tcpOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** "pid 123 (redis-server)" for the process listening on a TCP port, when /proc tells. */
export function portOwner(port: number): string | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let rows: string[] = [];
    try {
      rows = fs.readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const row of rows) {
      const f = row.trim().split(/\s+/);
      if (f[1]?.endsWith(hexPort) && f[3] === '0A' && f[9]) inodes.add(`socket:[${f[9]}]`);
    }
  }
  if (inodes.size === 0) return undefined;
  const tryRead = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch {
      return undefined; // gone meanwhile, or not ours to inspect
    }
  };
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    // Per fd: a busy process closes some between the listing and the readlink.
    for (const fd of tryRead(() => fs.readdirSync(`/proc/${pid}/fd`)) ?? []) {
      if (inodes.has(tryRead(() => fs.readlinkSync(`/proc/${pid}/fd/${fd}`)) ?? '')) {
        const comm = tryRead(() => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
        return `pid ${pid} (${comm ?? '?'})`;
      }
    }
  }
  return undefined;
}

function logTail(name: ServiceName, lines = 15): string {
  try {
    const text = fs.readFileSync(paths().logFile(name), 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the service unless our instance already runs; resolves once it answers its probe. */
export async function startService(
  spec: ServiceSpec,
  log: Log,
): Promise<{ pid: number; started: boolean }> {
  const existing = livePid(spec, log);
  if (existing !== undefined) {
    warnIfArgsChanged(spec, existing, log);
    await waitHealthy(spec, existing, spec.startTimeoutMs);
    return { pid: existing, started: false };
  }
  for (const { host, port, env, what } of spec.ports) {
    const deadline = Date.now() + 2_000;
    while (await tcpOpen(host, port)) {
      const owner = portOwner(port);
      // Owned by no process: one that has just exited is still releasing it (seen with weed).
      if (owner || Date.now() > deadline) {
        throw new Error(
          `cannot start ${spec.name}: ${host}:${port} (${what}) is already in use by ` +
            `${owner ?? 'another process'}; stop it or set ${env} to a free port`,
        );
      }
      await sleep(100);
    }
  }
  spec.beforeStart?.();
  const { logFile, pidFile } = paths();
  const fd = fs.openSync(logFile(spec.name), 'a');
  fs.writeSync(fd, `\n--- ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
  const child = spawn(spec.command, spec.args, {
    detached: true, // own process group: survives the CLI and its Ctrl-C
    stdio: ['ignore', fd, fd],
    cwd: paths().home,
    ...spec.runAs,
  });
  fs.closeSync(fd);
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', (err) => reject(new Error(`cannot start ${spec.name}: ${err.message}`)));
  });
  child.unref();
  fs.writeFileSync(pidFile(spec.name), `${pid}\n`);
  log(`started ${spec.name} (pid ${pid}), log ${shortPath(logFile(spec.name))}`);
  try {
    await waitHealthy(spec, pid, spec.startTimeoutMs);
  } catch (err) {
    await stopService(spec, () => {}); // don't leave a half-started process behind
    throw err;
  }
  return { pid, started: true };
}

// A running service keeps the flags it started with (e.g. Temporal dynamic config): say so
// rather than restart it under someone's feet. Redis rewrites its argv, so it is skipped.
function warnIfArgsChanged(spec: ServiceSpec, pid: number, log: Log): void {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
    if (argv[0] !== spec.command || argv.length < 2) return;
    if (argv.slice(1).join('\0') !== spec.args.join('\0')) {
      log(
        `${spec.name} (pid ${pid}) runs with other settings; \`infra down\` + \`infra up\` applies them`,
      );
    }
  } catch {
    // gone meanwhile: the health wait reports it
  }
}

async function waitHealthy(info: ServiceInfo, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await info.probe())) {
    if (!isAlive(pid)) {
      throw new Error(`${info.name} exited during start; end of its log:\n${logTail(info.name)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${info.name} (pid ${pid}) is not healthy after ${timeoutMs / 1000} s; ` +
          `end of its log:\n${logTail(info.name)}`,
      );
    }
    await sleep(250);
  }
}

/** SIGTERM (or the service's own stop signal), wait, then SIGKILL. False if it was not running. */
export async function stopService(
  info: ServiceInfo,
  log: Log,
  timeoutMs = 20_000,
): Promise<boolean> {
  const pid = livePid(info, log);
  if (pid === undefined) return false;
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  kill(info.stopSignal);
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    log(
      `${info.name} (pid ${pid}) ignored ${info.stopSignal} for ${timeoutMs / 1000} s; killing it`,
    );
    kill('SIGKILL');
    while (isAlive(pid)) await sleep(100);
  }
  fs.rmSync(paths().pidFile(info.name), { force: true });
  info.afterStop?.();
  log(`stopped ${info.name} (pid ${pid})`);
  return true;
}

// --- health probes ---------------------------------------------------------------------

async function temporalHealthy(host: string, port: number): Promise<boolean> {
  if (!(await tcpOpen(host, port))) return false; // fast answer while it is down
  let conn: Connection | undefined;
  try {
    conn = await Connection.connect({ address: `${host}:${port}`, connectTimeout: '2s' });
    const res = await conn.healthService.check({});
    return Number(res.status) === 1; // SERVING
  } catch {
    return false;
  } finally {
    await conn?.close().catch(() => {});
  }
}

async function postgresHealthy(port: number): Promise<boolean> {
  const client = superuserClient(port, 'postgres');
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false; // refused, or "the database system is starting up"
  } finally {
    await client.end().catch(() => {});
  }
}

function redisHealthy(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let reply = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
  });
}

/**
 * Ready = the S3 gateway answers and the volume server has joined the master. The gateway
 * says healthy ~0.5 s before that, and a GET in between fails with "volume not found".
 */
async function objectStoreHealthy(o: { host: string; port: number; master: number }) {
  const get = async (url: string) => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return res.ok ? await res.text() : undefined;
    } catch {
      return undefined;
    }
  };
  if ((await get(`http://${o.host}:${o.port}/healthz`)) === undefined) return false;
  const topology = await get(`http://${o.host}:${o.master}/dir/status`);
  if (!topology) return false;
  try {
    type Topology = { Topology?: { DataCenters?: { Racks?: { DataNodes?: unknown[] }[] }[] } };
    const t = JSON.parse(topology) as Topology;
    const nodes = (t.Topology?.DataCenters ?? []).flatMap((dc) =>
      (dc.Racks ?? []).flatMap((r) => r.DataNodes ?? []),
    );
    return nodes.length > 0;
  } catch {
    return false;
  }
}

// --- PostgreSQL data dir, roles and databases -------------------------------------------

function superuserClient(port: number, database: string) {
  return new PgClient({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database,
    // CREATE DATABASE copies a template: a minute, not the app's per-statement bound.
    ...boundedClientConfig({ ...pgBoundsFromEnv(), queryTimeoutMs: 60_000 }),
  });
}

/** Postgres refuses to run as root; then it runs as Debian's `postgres` system user. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid) {
    throw new Error(
      'PostgreSQL refuses to run as root and there is no `postgres` system user ' +
        "(Debian's postgresql package creates it)",
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** Creates the data dir with initdb on first use (trust auth, fine on loopback for dev). */
export function initPostgres(binDir: string, log: Log): void {
  const { pgData } = paths();
  if (fs.existsSync(`${pgData}/PG_VERSION`)) return;
  const runAs = postgresUser();
  fs.rmSync(pgData, { recursive: true, force: true }); // leftovers of a failed initdb
  fs.mkdirSync(pgData, { recursive: true, mode: 0o700 });
  if (runAs) {
    fs.chownSync(pgData, runAs.uid, runAs.gid);
    if (spawnSync('test', ['-w', pgData], runAs).status !== 0) {
      throw new Error(
        `the postgres user cannot reach ${pgData}: make its parent directories ` +
          'traversable (chmod o+x) or set SWITCHBOARD_HOME to a directory it can reach',
      );
    }
  }
  log(`initialising PostgreSQL data dir ${shortPath(pgData)} …`);
  const r = spawnSync(
    `${binDir}/initdb`,
    ['-D', pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'],
    { cwd: pgData, encoding: 'utf8', ...runAs },
  );
  if (r.status !== 0) {
    fs.rmSync(pgData, { recursive: true, force: true });
    throw new Error(`initdb failed:\n${r.stderr || r.stdout || r.error?.message}`);
  }
}

/** Role `switchboard` and its databases, created if missing (a concurrent creator is fine). */
export async function ensureDatabases(log: Log): Promise<void> {
  const client = superuserClient(endpoints().postgres.port, 'postgres');
  await client.connect();
  const ignoreDuplicate = (err: Error & { code?: string }) => {
    if (err.code !== '42710' && err.code !== '42P04') throw err; // duplicate role / database
  };
  try {
    const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
    if (role.rowCount === 0) {
      await client.query(`CREATE ROLE ${APP_ROLE} LOGIN CREATEDB`).catch(ignoreDuplicate);
      log(`created PostgreSQL role ${APP_ROLE}`);
    }
    for (const db of APP_DATABASES) {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (found.rowCount === 0) {
        await client.query(`CREATE DATABASE ${db} OWNER ${APP_ROLE}`).catch(ignoreDuplicate);
        log(`created database ${db}`);
      }
    }
  } finally {
    await client.end();
  }
}
