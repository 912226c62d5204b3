// How much of a sound is a voice. Voiced speech (every vowel, "mm", "uh-huh") repeats at the
// speaker's pitch; a cough, a breath, a rustle or a crackle on the line does not. The VAD
// passes all of them as speech and a grammar recognizer forces them onto its nearest words
// ("that", "nope"), so the edge weighs the voice itself: a sound over the agent with almost
// none is a noise, and an answer with much more voice than its recognized words' syllables
// can make lost words on the way. Measured on 8 kHz μ-law: short words and listening noises
// in six synthetic voices have 200 ms of voiced frames or more, cough-like bursts at most 40.
import { FRAME_MS } from './frames';
import { rms } from './level';

/** Pitch lags at 8 kHz: 400 Hz (a high voice) down to 60 Hz (a low one). */
const MIN_LAG = 20;
const MAX_LAG = 133;
/** Where a search with no pitch to go on starts: 160 Hz, between men's and women's voices. */
const TYPICAL_LAG = 50;
/** Normalized autocorrelation at the pitch lag at or above which a frame is voiced. */
const PERIODIC = 0.5;
/** Frames quieter than this (RMS, 16-bit) are not judged: line noise, not a sound. */
const QUIET_RMS = 100;

/**
 * Judges frames voiced or not: whether the best normalized autocorrelation of `prev` + `cur`
 * (40 ms at 8 kHz: two periods of the lowest pitch) over the pitch lags reaches PERIODIC.
 * One meter per caller: it remembers the last pitch found, since the verdict does not depend
 * on the order the lags are tried and a voice's pitch moves little from frame to frame.
 */
export class VoicingMeter {
  /** prev + cur as doubles (integer products and sums stay exact) and its running sums of squares. */
  private window = new Float64Array(0);
  private squares = new Float64Array(0);
  private lastLag = 0;

  isVoiced(prev: Int16Array, cur: Int16Array): boolean {
    if (rms(cur) < QUIET_RMS) return false;
    const n = prev.length + cur.length;
    if (this.window.length !== n) {
      this.window = new Float64Array(n);
      this.squares = new Float64Array(n + 1);
    }
    const w = this.window;
    const sq = this.squares;
    w.set(prev);
    w.set(cur, prev.length);
    // sq[k] = Σ w[i]² for i < k: each lag's two energies in O(1).
    for (let i = 0; i < n; i++) sq[i + 1] = sq[i]! + w[i]! * w[i]!;
    const top = Math.min(MAX_LAG, n - 1);
    if (top < MIN_LAG) return false;
    // Outward from the last pitch found (or a typical one), each lag once.
    const from = Math.min(top, Math.max(MIN_LAG, this.lastLag || TYPICAL_LAG));
    for (let d = 0; from - d >= MIN_LAG || from + d <= top; d++) {
      if (from - d >= MIN_LAG && this.periodicAt(from - d, n)) return true;
      if (d > 0 && from + d <= top && this.periodicAt(from + d, n)) return true;
    }
    this.lastLag = 0;
    return false;
  }

  private periodicAt(lag: number, n: number): boolean {
    const w = this.window;
    const m = n - lag;
    // Four running sums: exact integers either way, and the loop runs twice as fast.
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    let i = 0;
    for (; i + 3 < m; i += 4) {
      a += w[i]! * w[i + lag]!;
      b += w[i + 1]! * w[i + 1 + lag]!;
      c += w[i + 2]! * w[i + 2 + lag]!;
      d += w[i + 3]! * w[i + 3 + lag]!;
    }
    for (; i < m; i++) a += w[i]! * w[i + lag]!;
    const xx = this.squares[m]!;
    const yy = this.squares[n]! - this.squares[lag]!;
    if (xx > 0 && yy > 0 && (a + b + c + d) / Math.sqrt(xx * yy) >= PERIODIC) {
      this.lastLag = lag;
      return true;
    }
    return false;
  }
}

/**
 * The voiced time of one utterance as its frames come (the first only as the second's past).
 * Judging is the costly part of a frame, so the owner catches up only while the voice will
 * be weighed; `ms()` judges whatever is left, so the count is whole either way.
 */
export class VoiceCount {
  private readonly frames: Int16Array[];
  private judged = 1;
  private voiced = 0;

  constructor(
    private readonly meter: VoicingMeter,
    first: readonly Int16Array[],
  ) {
    this.frames = [...first];
  }

  push(frame: Int16Array): void {
    this.frames.push(frame);
  }

  catchUp(): void {
    for (; this.judged < this.frames.length; this.judged++)
      if (this.meter.isVoiced(this.frames[this.judged - 1]!, this.frames[this.judged]!))
        this.voiced++;
  }

  ms(): number {
    this.catchUp();
    return this.voiced * FRAME_MS;
  }
}

/** Voiced milliseconds of consecutive 20 ms frames (the first only as the second's past). */
export function voicedMs(frames: readonly Int16Array[]): number {
  return new VoiceCount(new VoicingMeter(), frames).ms();
}

/** Syllables of a text, one per vowel group of each word (a final silent "e" aside; ≥ 1 a word). */
export function syllables(text: string): number {
  let n = 0;
  for (const word of text.toLowerCase().match(/[a-z']+|\d/g) ?? [])
    n += Math.max(1, word.replace(/e$/, '').match(/[aeiouy]+/g)?.length ?? 0);
  return n;
}

/** Voiced audio one syllable may account for, by default (ms): slow speech stays under it. */
export const SYLLABLE_MS = 450;

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
