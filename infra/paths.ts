// Where the local platform keeps its state. Everything is derived from env at call time
// (not at import time) so tests and the CLI can point SWITCHBOARD_HOME elsewhere, and keep
// the installed tools (SWITCHBOARD_TOOLS, default <home>/tools) apart from the data.
import fs from 'node:fs';
import path from 'node:path';

/** The checkout: the nearest folder with package.json above this file (so also from dist/). */
export const repoRoot = ((): string => {
  let dir = path.resolve(__dirname, '..');
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir)
    dir = path.dirname(dir);
  return dir;
})();
export const temporalYamlPath = path.join(repoRoot, 'temporal.yaml');

export type ServiceName = 'temporal' | 'postgres' | 'redis' | 'object-store' | 'kafka';

export function stateDir(): string {
  return path.resolve(process.env.SWITCHBOARD_HOME || path.join(repoRoot, '.switchboard'));
}

export function paths() {
  const home = stateDir();
  const tools = path.resolve(process.env.SWITCHBOARD_TOOLS || path.join(home, 'tools'));
  return {
    home,
    tools,
    venv: path.join(tools, 'venv'),
    goBin: path.join(tools, 'bin'),
    data: path.join(home, 'data'),
    temporalDb: path.join(home, 'data', 'temporal.db'),
    pgData: path.join(home, 'data', 'pg'),
    redisData: path.join(home, 'data', 'redis'),
    objectStoreData: path.join(home, 'data', 'object-store'),
    /** Kafka's log dirs (KRaft metadata + topics) and its generated config files. */
    kafkaData: path.join(home, 'data', 'kafka'),
    /** Broker jars from Maven Central, one directory per Kafka version. */
    kafkaLibs: (version: string) => path.join(tools, 'kafka', version, 'libs'),
    /** Generated credentials, mode 0600: never in the repo. */
    secrets: path.join(home, 'secrets'),
    objectStoreCredentials: path.join(home, 'secrets', 'object-store.json'),
    /** The same credentials in SeaweedFS's identities format (its -s3.config). */
    objectStoreIdentities: path.join(home, 'secrets', 'object-store-identities.json'),
    run: path.join(home, 'run'),
    logs: path.join(home, 'logs'),
    pidFile: (svc: ServiceName) => path.join(home, 'run', `${svc}.pid`),
    logFile: (svc: ServiceName) => path.join(home, 'logs', `${svc}.log`),
    /** A directory while an infra command runs (file-lock.ts). */
    lockFile: path.join(home, 'run', 'infra-lock'),
  };
}

/** Shortens a path under the repo for progress lines (`.switchboard/tools/venv`). */
export function shortPath(p: string): string {
  const rel = path.relative(repoRoot, p);
  return rel && !rel.startsWith('..') ? rel : p;
}

export function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name}=${raw} is not a valid TCP port`);
  }
  return port;
}

export type Log = (line: string) => void;
export const defaultLog: Log = (line) => console.log(`[infra] ${line}`);
export const silentLog: Log = () => {};
