// Runs the call worker and the media-edge as child processes with prefixed output, and
// stops them together.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../infra/paths';

const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');

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
): AppProcess {
  const child = spawn(tsx, [path.join(repoRoot, entry)], {
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

export async function stopApps(apps: AppProcess[]): Promise<void> {
  await Promise.all(
    apps.map(async (p) => {
      if (p.child.exitCode !== null) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}
