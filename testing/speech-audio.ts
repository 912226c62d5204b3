// Real speech for tests: sentences synthesized offline (espeak-ng or flite from Debian),
// converted to the phone line's 8 kHz mono 16-bit with sox. Results are cached on disk by
// a hash of everything that shapes the audio, so suites stay fast on re-runs.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PcmAudio } from '../providers/stt/port';
import { stateDir } from '../infra/paths';
import { decodeWav } from '../audio/wav';

const run = promisify(execFile);

export interface SpeakOptions {
  /** 'espeak-ng' (default) or 'flite'. */
  engine?: 'espeak-ng' | 'flite';
  /** espeak-ng: a voice such as 'en-us', 'en-gb', 'en-us+f3'; flite: 'kal', 'slt', 'rms', 'awb'. */
  voice?: string;
  /** espeak-ng words per minute (default 160); ignored by flite. */
  rate?: number;
  /** Output rate (default 8000). */
  sampleRate?: number;
}

/** Bump when the pipeline below changes, so stale cached audio is not reused. */
const CACHE_VERSION = 1;

export function audioCacheDir(): string {
  return path.join(stateDir(), 'cache', 'audio');
}

let fliteVoices: Promise<string[]> | undefined;

/** flite silently falls back to its default voice for an unknown name; ask it what it has. */
async function checkFliteVoice(voice: string): Promise<void> {
  fliteVoices ??= run('flite', ['-lv']).then((r) =>
    r.stdout.replace(/^.*:/, '').trim().split(/\s+/),
  );
  const known = await fliteVoices;
  if (!known.includes(voice))
    throw new Error(`flite has no voice "${voice}" (has: ${known.join(', ')})`);
}

export async function speak(text: string, opts: SpeakOptions = {}): Promise<PcmAudio> {
  const engine = opts.engine ?? 'espeak-ng';
  const voice = opts.voice ?? (engine === 'flite' ? 'slt' : 'en-us');
  const rate = opts.rate ?? 160;
  const sampleRate = opts.sampleRate ?? 8000;
  const key = createHash('sha256')
    .update(JSON.stringify([CACHE_VERSION, engine, voice, rate, sampleRate, text]))
    .digest('hex')
    .slice(0, 32);
  const cached = path.join(audioCacheDir(), `${key}.wav`);
  const wav = await readFile(cached).catch(() => undefined);
  if (wav) return toPcm(wav);

  const work = path.join(tmpdir(), `speak-${randomBytes(6).toString('hex')}`);
  await mkdir(work, { recursive: true });
  try {
    const raw = path.join(work, 'tts.wav');
    const out = path.join(work, 'out.wav');
    if (engine === 'flite') {
      await checkFliteVoice(voice);
      await run('flite', ['-voice', voice, '-t', text, '-o', raw]);
    } else {
      await run('espeak-ng', ['-v', voice, '-s', String(rate), '-w', raw, '--', text]);
    }
    await run('sox', [
      raw,
      '-r',
      String(sampleRate),
      '-c',
      '1',
      '-b',
      '16',
      '-e',
      'signed-integer',
      out,
    ]);
    const bytes = await readFile(out);
    // Write then rename: parallel test processes never read a half-written file.
    await mkdir(audioCacheDir(), { recursive: true });
    const tmp = `${cached}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, cached);
    return toPcm(bytes);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function toPcm(wav: Buffer): PcmAudio {
  const { channels, sampleRate } = decodeWav(wav);
  return { samples: channels[0]!, sampleRate };
}

export function silence(ms: number, sampleRate = 8000): Int16Array {
  return new Int16Array(Math.round((ms * sampleRate) / 1000));
}

/** Joins PCM pieces (all at one rate) end to end. */
export function concatPcm(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deterministic white noise (xorshift), so a failing run can be reproduced. */
export function whiteNoise(samples: number, amplitude: number, seed = 1): Int16Array {
  const out = new Int16Array(samples);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < samples; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = Math.round((s / 0xffffffff - 0.5) * 2 * amplitude);
  }
  return out;
}

/** A sine tone, for resampler and codec tests. */
export function sine(freq: number, ms: number, sampleRate: number, amplitude = 10000): Int16Array {
  const n = Math.round((ms * sampleRate) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / sampleRate));
  return out;
}
