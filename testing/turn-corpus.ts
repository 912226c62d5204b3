// Turns for end-of-turn evaluation, on the phone line (8 kHz, μ-law round trip): complete
// ones (the ASR corpus's sentences, then silence) and incomplete ones (a caller who stops
// mid-sentence, between digit groups, or after "um", then goes on). The first part of an
// incomplete turn is synthesized with a trailing comma, so the voice keeps a continuing
// intonation instead of a sentence end. `speechEndMs` is where the caller's last sound ends
// (by energy: the synthetic audio is clean), `pause` where the mid-turn pause lies.
import { FRAME_MS } from '../audio/frames';
import { phoneLine, TEXTS, VOICES, type Voice } from './asr-corpus';
import { concatPcm, silence, speak } from './speech-audio';

export interface Turn {
  id: string;
  kind: 'complete' | 'mid-sentence' | 'digits' | 'filler';
  voice: string;
  pcm: Int16Array;
  /** End of the caller's last sound. */
  speechEndMs: number;
  /** Incomplete turns: the caller is silent in [startMs, endMs) but not done. */
  pause?: { startMs: number; endMs: number };
}

const LEAD_MS = 300;
const TAIL_MS = 2000;

/** Per 20 ms frame: does it hold the caller's sound (energy reference for clean audio)? */
export function energyReference(pcm: Int16Array, thresholdDb = -45): boolean[] {
  const n = FRAME_MS * 8;
  const out: boolean[] = [];
  for (let i = 0; i + n <= pcm.length; i += n) {
    let e = 0;
    for (let j = i; j < i + n; j++) e += pcm[j]! * pcm[j]!;
    const db = 10 * Math.log10(e / n / (32768 * 32768) + 1e-12);
    out.push(db > thresholdDb);
  }
  return out;
}

function lastSoundMs(pcm: Int16Array): number {
  const ref = energyReference(pcm);
  const last = ref.lastIndexOf(true);
  return (last + 1) * FRAME_MS;
}

async function voiced(text: string, v: Voice): Promise<Int16Array> {
  return phoneLine(await speak(text, v)).samples;
}

/** Splits of incomplete turns: [said first, said after the pause]. */
const DIGIT_SPLITS: [string, string, Turn['kind']][] = [
  ['my card number is four one two seven,', 'three three eight one', 'digits'],
  ['the account number is five five,', 'one two three four', 'digits'],
  ['my zip code is nine four,', 'one zero seven', 'digits'],
  ['one two three,', 'four five six', 'digits'],
  ['um,', 'I want to pay my bill', 'filler'],
  ['I want to uh,', 'talk to an agent', 'filler'],
  ['can you um,', 'tell me my balance', 'filler'],
  ['so I was wondering,', 'how much I owe', 'filler'],
];

function midSentenceSplits(): [string, string, Turn['kind']][] {
  return TEXTS.filter((t) => t.text.split(' ').length >= 5).map((t) => {
    const w = t.text.split(' ');
    const at = Math.floor(w.length / 2);
    return [`${w.slice(0, at).join(' ')},`, w.slice(at).join(' '), 'mid-sentence'];
  });
}

/**
 * Every complete text in two voices, every incomplete split in two voices, the pauses of
 * incomplete turns alternating between the two lengths given.
 */
export async function buildTurnCorpus(pausesMs: [number, number] = [700, 1200]): Promise<Turn[]> {
  const out: Turn[] = [];
  const voicesOf = (i: number) => [VOICES[i % VOICES.length]!, VOICES[(i + 3) % VOICES.length]!];
  for (const [i, t] of TEXTS.entries()) {
    for (const v of voicesOf(i)) {
      const speech = await voiced(t.text, v);
      const pcm = concatPcm(silence(LEAD_MS), speech, silence(TAIL_MS));
      out.push({
        id: `c${i}-${v.id}`,
        kind: 'complete',
        voice: v.id,
        pcm,
        speechEndMs: lastSoundMs(pcm),
      });
    }
  }
  for (const [i, [a, b, kind]] of [...DIGIT_SPLITS, ...midSentenceSplits()].entries()) {
    for (const [k, v] of voicesOf(i).entries()) {
      const first = concatPcm(silence(LEAD_MS), await voiced(a, v));
      const startMs = lastSoundMs(first);
      const pause = pausesMs[(i + k) % 2]!;
      // The pause is measured from the last sound, wherever the synthesizer's own silence ends.
      const head = first.subarray(0, (startMs * 8000) / 1000);
      const rest = await voiced(b, v);
      const restStartMs = energyReference(rest).indexOf(true) * FRAME_MS;
      const pcm = concatPcm(head, silence(pause), rest, silence(TAIL_MS));
      out.push({
        id: `i${i}-${v.id}`,
        kind,
        voice: v.id,
        pcm,
        speechEndMs: lastSoundMs(pcm),
        pause: { startMs, endMs: startMs + pause + restStartMs },
      });
    }
  }
  return out;
}
