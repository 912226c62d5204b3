// Runs the call worker and the media-edge as child processes with prefixed output, and
// stops them together: each is asked to stop (SIGTERM) and given time to finish what it
// promised — the edge's drain above all — before anything is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../infra/paths';
import { EDGE_DRAIN_MS } from '../media-edge/call/edge-calls';
import { distDir } from './build';

/** The longest drain (the edge's) plus time for workers to finish their in-flight tasks. */
export const STOP_BOUND_MS = EDGE_DRAIN_MS + 15_000;

export interface AppProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export function startApp(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  quiet = false,
  opts: { built?: boolean } = {},
): AppProcess {
  // Node itself (not a launcher): signals reach the app directly and a killed launcher cannot
  // leave an orphan behind. Built: the compiled entry in dist/; else tsx's loader on the source.
  const args = opts.built
    ? ['--enable-source-maps', path.join(distDir, entry.replace(/\.ts$/, '.js'))]
    : ['--import', 'tsx', path.join(repoRoot, entry)];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const relay = (chunk: Buffer) => {
    if (quiet) return;
    for (const line of chunk.toString().split('\n').filter(Boolean))
      console.log(`[${name}] ${line}`);
  };
  child.stdout?.on('data', relay);
  child.stderr?.on('data', (c: Buffer) => (quiet ? undefined : relay(c)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, exited };
}

/** Resolves once `ready` answers true; rejects if the process exits first or time runs out. */
export async function waitReady(
  p: AppProcess,
  ready: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  let exited = false;
  void p.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${p.name} exited during start-up (see its output above)`);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${p.name} was not ready within ${timeoutMs / 1000} s`);
}

/**
 * Asks every process to stop and waits up to `boundMs` for all of them, saying what it waits
 * for every 5 s; a process still running then is killed, and that is said too.
 */
export async function stopApps(
  apps: AppProcess[],
  opts: { boundMs?: number; say?: (line: string) => void } = {},
): Promise<void> {
  const boundMs = opts.boundMs ?? STOP_BOUND_MS;
  const say = opts.say ?? ((line: string) => console.log(`[switchboard] ${line}`));
  const running = () =>
    apps.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  if (!running().length) return;
  for (const p of running()) p.child.kill('SIGTERM');
  say(
    `stopping ${running()
      .map((p) => p.name)
      .join(', ')}: each finishes what it started ` +
      `(the edge stores recordings and sends its last signals, up to ${EDGE_DRAIN_MS / 1000} s; ` +
      `at most ${boundMs / 1000} s in all) …`,
  );
  const deadline = Date.now() + boundMs;
  const all = Promise.all(apps.map((p) => p.exited));
  while (running().length && Date.now() < deadline) {
    await Promise.race([
      all,
      new Promise((r) => setTimeout(r, Math.min(5_000, deadline - Date.now()))),
    ]);
    const left = running();
    if (left.length && Date.now() < deadline)
      say(`still waiting for ${left.map((p) => p.name).join(', ')} …`);
  }
  const stuck = running();
  if (stuck.length) {
    say(`${stuck.map((p) => p.name).join(', ')} did not stop within ${boundMs / 1000} s: killing`);
    for (const p of stuck) p.child.kill('SIGKILL');
    await Promise.all(stuck.map((p) => p.exited));
  }
}
