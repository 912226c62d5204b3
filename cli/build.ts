// `npm run build` (`./switchboard build`): the compiled processes in dist/ — tsc with
// tsconfig.build.json, the workflow bundle built ahead of time (dist/workflow-bundle.js, which
// the workers load instead of bundling at start-up), the prerecorded prompts copied. A stamp
// (a hash of the build's inputs) tells `start` whether dist/ is up to date.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { withFileLock } from '../infra/file-lock';
import { defaultLog, paths, repoRoot, type Log } from '../infra/paths';
import { quietBundleLogger } from '../workers/logging';
import { WORKFLOW_BUNDLE_FILE } from '../workers/workflow-code';

export const distDir = path.join(repoRoot, 'dist');
const STAMP = path.join(distDir, '.build-stamp');
/** Folders compiled (tsconfig.build.json) or copied, and the files that change the output. */
const INPUT_DIRS = [
  'contracts',
  'audio',
  'workflows',
  'providers',
  'conversation',
  'analytics',
  'activities',
  'workers',
  'media-edge',
  'infra',
  'cli',
  'simulator',
  'bench',
  'testing',
  'assets',
];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
/** Copied as they are: read at run time next to the compiled code. */
const ASSETS = ['assets/prompts', 'assets/pieces', 'providers/stt/whisper/worker.py'];

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'results' ? [] : listFiles(p); // bench results
    return e.isFile() ? [p] : [];
  });
}

/** A hash of every input's path and content. */
export function buildInputsHash(root = repoRoot): string {
  const files = [
    ...INPUT_DIRS.flatMap((d) => listFiles(path.join(root, d))),
    ...INPUT_FILES.map((f) => path.join(root, f)).filter((f) => fs.existsSync(f)),
  ].sort();
  const hash = createHash('sha256');
  for (const f of files)
    hash.update(path.relative(root, f)).update('\0').update(fs.readFileSync(f));
  return hash.digest('hex');
}

export function isBuildCurrent(): boolean {
  return fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8').trim() === buildInputsHash();
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} exited with ${code}`)),
    );
  });
}

/** Builds dist/ from scratch; returns the seconds it took. */
export async function build(log: Log = defaultLog): Promise<number> {
  const t0 = performance.now();
  const hash = buildInputsHash();
  fs.rmSync(distDir, { recursive: true, force: true });
  log('build: compiling (tsc -p tsconfig.build.json) …');
  await run(path.join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json']);
  log(`build: bundling the workflows into dist/${WORKFLOW_BUNDLE_FILE} …`);
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(repoRoot, 'workflows'),
    logger: quietBundleLogger,
  });
  fs.writeFileSync(path.join(distDir, WORKFLOW_BUNDLE_FILE), code);
  for (const a of ASSETS)
    fs.cpSync(path.join(repoRoot, a), path.join(distDir, a), { recursive: true });
  fs.writeFileSync(STAMP, `${hash}\n`);
  const s = (performance.now() - t0) / 1000;
  log(`build: dist/ is up to date (${s.toFixed(1)} s)`);
  return s;
}

/** Builds dist/ unless it is up to date; one builder at a time. */
export async function ensureBuilt(log: Log = defaultLog): Promise<void> {
  if (isBuildCurrent()) return;
  await withFileLock(
    path.join(paths().run, 'build-lock'),
    { what: 'the build of dist/', waitMs: 10 * 60_000, staleMs: 60_000, log },
    async () => {
      if (isBuildCurrent()) return; // another process built it while we waited
      log('build: dist/ is missing or older than the source');
      await build(log);
    },
  );
}
