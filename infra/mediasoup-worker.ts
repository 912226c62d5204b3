// The mediasoup worker (the C++ media server the edge's router runs in), built from the npm
// package's own sources without network access. mediasoup's install would download a
// prebuilt binary from a website and its meson build downloads the sources of its
// libraries; here the libraries are Debian's -dev packages, reached through the stand-in
// meson subprojects in infra/mediasoup-worker/subprojects (plus a header giving Debian's
// libsrtp 2 the libsrtp 3 signatures mediasoup calls). The binary lands where the launcher's
// MEDIASOUP_WORKER_BIN points, which mediasoup reads at run time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireFileLock } from './file-lock';
import { ensureDebianPackages, InstallError, pipInstall, pipInstalled, run } from './install';
import { defaultLog, type Log, paths, repoRoot, shortPath } from './paths';

/** Debian packages the worker is compiled against (and the compiler cache). */
export const MEDIASOUP_BUILD_PACKAGES = [
  'g++',
  'pkg-config',
  'ccache',
  'libuv1-dev',
  'libsrtp2-dev',
  'libusrsctp-dev',
  'libabsl-dev',
  'libflatbuffers-dev',
  'flatbuffers-compiler',
  'libssl-dev',
] as const;
// The meson and ninja mediasoup's own build pins (worker/tasks.py), from PyPI.
export const MESON_VERSION = '1.5.0';
export const NINJA_VERSION = '1.10.2.4';

const STAND_INS = path.join(repoRoot, 'infra', 'mediasoup-worker', 'subprojects');

/** The installed mediasoup package: its version and the worker sources it ships. */
export function mediasoupPackage(): { version: string; workerSources: string } {
  const dir = path.resolve(path.dirname(require.resolve('mediasoup')), '..', '..');
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { version, workerSources: path.join(dir, 'worker') };
}

/**
 * Where the worker binary is: MEDIASOUP_WORKER_BIN (the launcher sets it), else
 * <tools>/mediasoup-worker/<version>/mediasoup-worker, the launcher's default.
 */
/**
 * Our changes to the package's worker sources, each found exactly or the build stops (a new
 * mediasoup version must be looked at, not patched blindly).
 */
const SOURCE_FIXES = [
  {
    file: 'src/RTC/DtlsTransport.cpp',
    // The memory BIO's callback answers 1 to every control query on its way back, so OpenSSL
    // 3 built with kernel TLS (Debian's) takes BIO_get_ktls_send() as true, never allocates
    // its write buffer and crashes the worker in the first DTLS handshake with a browser.
    // Only a BIO_CB_RETURN call may pass the result through, whatever other bits it carries.
    from: '(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1',
    to: '(operationType & BIO_CB_RETURN) ? static_cast<long>(ret) : 1',
  },
];

/** Names the binaries built with SOURCE_FIXES apart from older ones; the launcher says it too. */
const BUILD_REVISION = 'r1';

export function mediasoupWorkerBin(env: NodeJS.ProcessEnv = process.env): string {
  const dir = `${mediasoupPackage().version}-${BUILD_REVISION}`;
  return (
    env.MEDIASOUP_WORKER_BIN ||
    path.join(paths().tools, 'mediasoup-worker', dir, 'mediasoup-worker')
  );
}

function applySourceFixes(src: string): void {
  for (const fix of SOURCE_FIXES) {
    const file = path.join(src, fix.file);
    const text = fs.readFileSync(file, 'utf8');
    if (text.split(fix.from).length !== 2)
      throw new Error(`mediasoup worker build: ${fix.file} no longer has \`${fix.from}\` once`);
    fs.writeFileSync(file, text.replace(fix.from, fix.to));
  }
}

const isExecutable = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/**
 * Builds the worker once (≈ 13 min on 2 cores cold, far less from ccache's cache) and returns
 * its path; fast when it is there. One build at a time across processes (a lock); the binary
 * is moved into place whole, so a reader never sees half of one.
 */
export async function ensureMediasoupWorker(log: Log = defaultLog): Promise<string> {
  const bin = mediasoupWorkerBin();
  if (isExecutable(bin)) return bin;
  const release = await acquireFileLock(`${bin}.build-lock`, {
    what: 'the mediasoup worker build',
    waitMs: 45 * 60_000,
    staleMs: 60_000,
    log,
  });
  try {
    if (!isExecutable(bin)) await buildWorker(bin, log);
  } finally {
    await release().catch(() => undefined);
  }
  return bin;
}

async function buildWorker(bin: string, log: Log): Promise<void> {
  const { version, workerSources } = mediasoupPackage();
  const started = Date.now();
  await ensureDebianPackages(MEDIASOUP_BUILD_PACKAGES, log, 'the mediasoup worker build tools');
  if (!pipInstalled('meson', MESON_VERSION)) await pipInstall('meson', MESON_VERSION, log);
  if (!pipInstalled('ninja', NINJA_VERSION)) await pipInstall('ninja', NINJA_VERSION, log);
  const venvBin = path.join(paths().venv, 'bin');
  // A scratch copy of the package's worker sources: the subprojects are swapped for ours.
  const scratch = `${path.dirname(bin)}.build-${process.pid}`;
  const src = path.join(scratch, 'worker');
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  log(
    `building the mediasoup ${version} worker into ${shortPath(bin)} ` +
      `(≈ 13 min on 2 cores the first time; from the compiler cache after that) …`,
  );
  try {
    fs.cpSync(workerSources, src, {
      recursive: true,
      filter: (from) => !/[/\\](out|BUILD)$/.test(from),
    });
    const subprojects = path.join(src, 'subprojects');
    for (const wrap of fs.readdirSync(subprojects).filter((f) => f.endsWith('.wrap')))
      fs.rmSync(path.join(subprojects, wrap));
    fs.cpSync(STAND_INS, subprojects, { recursive: true });
    applySourceFixes(src);
    const env = {
      ...process.env,
      PATH: `${venvBin}${path.delimiter}${process.env.PATH ?? ''}`,
      // Paths under the scratch dir are hashed relative to it, so another checkout (or the
      // next build) on this machine compiles from ccache's cache.
      CCACHE_BASEDIR: src,
    };
    const meson = path.join(venvBin, 'meson');
    const step = async (label: string, args: string[]) => {
      const r = await run(meson, args, { env, cwd: src, log, progress: true, label });
      if (r.code !== 0)
        throw new InstallError(`cannot build the mediasoup worker: ${label} failed:\n${r.tail}`);
    };
    await step('configuring the mediasoup worker', [
      'setup',
      '--wrap-mode=nodownload',
      '--buildtype',
      'release',
      '-Db_ndebug=true',
      '-Dms_disable_liburing=true',
      'BUILD',
    ]);
    // The FlatBuffers headers first: the worker's sources include them, and meson's order
    // alone does not generate them in time.
    await step('generating the FlatBuffers headers', [
      'compile',
      '-C',
      'BUILD',
      'flatbuffers-generator',
    ]);
    const jobs = String(Math.max(1, os.availableParallelism()));
    await step('compiling the mediasoup worker', [
      'compile',
      '-C',
      'BUILD',
      '-j',
      jobs,
      'mediasoup-worker',
    ]);
    const built = path.join(src, 'BUILD', 'mediasoup-worker');
    if (!isExecutable(built)) throw new InstallError('the mediasoup worker build made no binary');
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    const next = `${bin}.tmp-${process.pid}`;
    fs.copyFileSync(built, next);
    fs.chmodSync(next, 0o755);
    fs.renameSync(next, bin);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  log(`built the mediasoup ${version} worker (${seconds(started)})`);
}
