// How much of a sound is a voice. Voiced speech (every vowel, "mm", "uh-huh") repeats at the
// speaker's pitch; a cough, a breath, a rustle or a crackle on the line does not. The VAD
// passes all of them as speech and a grammar recognizer forces them onto its nearest words
// ("that", "nope"), so the edge weighs the voice itself: a sound over the agent with almost
// none is a noise, and an answer with much more voice than its recognized words' syllables
// can make lost words on the way. Measured on 8 kHz μ-law: short words and listening noises
// in six synthetic voices have 200 ms of voiced frames or more, cough-like bursts at most 40.
import { FRAME_MS } from '../../audio/frames';

/** Pitch lags at 8 kHz: 400 Hz (a high voice) down to 60 Hz (a low one). */
const MIN_LAG = 20;
const MAX_LAG = 133;
/** Normalized autocorrelation at the pitch lag at or above which a frame is voiced. */
const PERIODIC = 0.5;
/** Frames quieter than this (RMS, 16-bit) are not judged: line noise, not a sound. */
const QUIET_RMS = 100;

/** prev + cur and its running sums of squares, reused: this runs for every loud frame of every call. */
let window = new Int16Array(0);
let squares = new Float64Array(0);

/**
 * Whether the frame `cur` is voiced: the best normalized autocorrelation of `prev` + `cur`
 * (40 ms at 8 kHz: two periods of the lowest pitch) over the pitch lags reaches PERIODIC.
 */
export function isVoiced(prev: Int16Array, cur: Int16Array): boolean {
  let energy = 0;
  for (let i = 0; i < cur.length; i++) energy += cur[i]! * cur[i]!;
  if (Math.sqrt(energy / cur.length) < QUIET_RMS) return false;
  const n = prev.length + cur.length;
  if (window.length !== n) {
    window = new Int16Array(n);
    squares = new Float64Array(n + 1);
  }
  window.set(prev);
  window.set(cur, prev.length);
  // squares[k] = Σ window[i]² for i < k: each lag's two energies in O(1), exactly (integers).
  for (let i = 0; i < n; i++) squares[i + 1] = squares[i]! + window[i]! * window[i]!;
  for (let lag = MIN_LAG; lag <= MAX_LAG && lag < n; lag++) {
    let xy = 0;
    for (let i = 0; i + lag < n; i++) xy += window[i]! * window[i + lag]!;
    const xx = squares[n - lag]!;
    const yy = squares[n]! - squares[lag]!;
    if (xx > 0 && yy > 0 && xy / Math.sqrt(xx * yy) >= PERIODIC) return true;
  }
  return false;
}

/** Voiced milliseconds of consecutive 20 ms frames (the first only as the second's past). */
export function voicedMs(frames: readonly Int16Array[]): number {
  let voiced = 0;
  for (let i = 1; i < frames.length; i++) if (isVoiced(frames[i - 1]!, frames[i]!)) voiced++;
  return voiced * FRAME_MS;
}

/** Syllables of a text, one per vowel group of each word (a final silent "e" aside; ≥ 1 a word). */
export function syllables(text: string): number {
  let n = 0;
  for (const word of text.toLowerCase().match(/[a-z']+|\d/g) ?? [])
    n += Math.max(1, word.replace(/e$/, '').match(/[aeiouy]+/g)?.length ?? 0);
  return n;
}

/**
 * How far the recognized words explain the voice heard: 1 when their syllables could have
 * made all of its voiced audio, less when much more was voiced than they account for. A
 * grammar recognizer keeps the phrase it scores best and drops what does not fit ("I am not
 * sure" heard as "sure"); what it dropped is still in the voiced audio.
 */
export function voiceExplained(text: string, voiced: number, perSyllableMs: number): number {
  if (voiced <= 0) return 1;
  return Math.min(1, (syllables(text) * perSyllableMs) / voiced);
}
