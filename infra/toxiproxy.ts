// Toxiproxy, the fault-injection proxy: not part of `infra up` (no app process needs it);
// the fault tests and `bench --faults` start it on demand on TOXIPROXY_PORT and put a proxy
// per upstream in front of the real servers (testing/faults.ts drives its HTTP API).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { withFileLock } from './file-lock';
import { ensureToxiproxy, TOXIPROXY_VERSION } from './install';
import { defaultLog, envPort, type Log, paths } from './paths';

export function toxiproxyUrl(): string {
  return `http://127.0.0.1:${envPort('TOXIPROXY_PORT', 8474)}`;
}

export interface ToxiproxyServer {
  /** Its HTTP API, e.g. http://127.0.0.1:8474. */
  url: string;
  /** Undefined when a server already answered on the port (not ours to stop). */
  pid?: number;
  /** Stops the server if this call started it; resolves once it exited. */
  stop(): Promise<void>;
}

/** Builds Toxiproxy once (one builder at a time across processes). */
export function ensureToxiproxyBinary(log: Log = defaultLog): Promise<string> {
  const dir = path.join(paths().tools, 'toxiproxy');
  fs.mkdirSync(dir, { recursive: true });
  const lock = { what: 'the Toxiproxy build', waitMs: 10 * 60_000, log };
  return withFileLock(path.join(dir, `build-${TOXIPROXY_VERSION}.lock`), lock, () =>
    ensureToxiproxy(log),
  );
}

/** Starts Toxiproxy on TOXIPROXY_PORT, or reuses the one that already answers there. */
export async function startToxiproxy(log: Log = defaultLog): Promise<ToxiproxyServer> {
  const url = toxiproxyUrl();
  if (await answers(url)) return { url, stop: async () => {} };
  const exe = await ensureToxiproxyBinary(log);
  const { port } = new URL(url);
  const child = spawn(exe, ['-host', '127.0.0.1', '-port', port], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  child.stderr.on('data', (buf: Buffer) => {
    tail.push(...buf.toString().split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 20));
  });
  // A run that exits without stop() must not leave the proxy (and its listeners) behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let dead = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      dead = true;
      process.removeListener('exit', killOnExit);
      resolve();
    }),
  );
  const stop = async () => {
    if (dead) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (dead) throw new Error(`Toxiproxy exited during start (port ${port}):\n${tail.join('\n')}`);
    if (await answers(url)) {
      log(`Toxiproxy ${TOXIPROXY_VERSION} at ${url}, pid ${child.pid}`);
      return { url, pid: child.pid, stop };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`Toxiproxy did not answer ${url}/version within 15 s:\n${tail.join('\n')}`);
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/version`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
