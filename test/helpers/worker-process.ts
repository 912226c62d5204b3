// A worker in a child process that tests can SIGKILL: spawned with tsx, ready once it prints
// its ready line, its output kept for the failure message.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<void>;
}

/** Spawns `fixture` with `env` and resolves once its output contains `ready` (60 s at most). */
export async function spawnWorkerProcess(
  fixture: string,
  env: NodeJS.ProcessEnv,
  ready: string,
  label: string,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: path.join(__dirname, '..', '..'),
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      output.push(`spawn failed: ${err.message}\n`);
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label} not ready in 60 s:\n${output.join('')}`)),
      60_000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join('').includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${label} exited before it was ready:\n${output.join('')}`));
    });
  });
  return { child, output, exited };
}

/** SIGKILL: no shutdown hooks, no activity completion, the socket just drops. */
export async function killHard(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null)
    worker.child.kill('SIGKILL');
  await worker.exited;
}

/** Waits for the JSON marker file the worker writes at its crash point. */
export async function waitForMarker<T>(
  marker: string,
  worker: WorkerProcess,
  label: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(marker)) {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null)
      throw new Error(`${label} exited before its crash point:\n${worker.output.join('')}`);
    if (Date.now() > deadline)
      throw new Error(`no marker in ${timeoutMs} ms:\n${worker.output.join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return JSON.parse(fs.readFileSync(marker, 'utf8')) as T;
}
