// Whether the caller's sound over the agent was meant to stop it. A person talking over a
// speaker says "uh-huh" or "okay" to show they are listening, coughs, or the line crackles:
// none of that is a turn, and the agent should go on from where it paused. Anything with
// other words in it is an interruption, and so is a short "yes"/"okay" once the reply has
// asked a question: then it is the answer.

/**
 * Listening noises and acknowledgements, as the recognizer spells them (hyphens are spaces).
 * They are also added to the recognizer's hints while the agent speaks, so a grammar built
 * from the dialogue's phrases can hear them. "mhm" is there for pocketsphinx: with "uh huh"
 * alone its grammar finds no path for a synthetic "uh-huh" and the wider vocabulary turns it
 * into "been" or "talk"; cmudict's "mhm" (AH M HH AH M) is what it matches.
 */
export const BACKCHANNELS = [
  'uh huh',
  'mhm',
  'mm hmm',
  'hmm',
  'okay',
  'ok',
  'yeah',
  'yep',
  'right',
  'sure',
  'i see',
  'got it',
  'all right',
  'alright',
] as const;

const PHRASES = BACKCHANNELS.map((p) => p.split(' '));

function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z' ]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** The text is only backchannel phrases, one or repeated ("okay okay", "yeah right"). */
export function isBackchannel(text: string): boolean {
  const ws = words(text);
  if (!ws.length) return false;
  // Covers the words left to right with whole phrases (the longest that fits first).
  const coverable = (at: number): boolean =>
    at === ws.length ||
    PHRASES.some((p) => p.every((w, i) => ws[at + i] === w) && coverable(at + p.length));
  return coverable(0);
}

/** A text asks a question when it ends with a question mark (closing quotes aside). */
export function asksQuestion(text: string): boolean {
  return /\?["')\]\s]*$/.test(text);
}

/**
 * noise: hardly any voice in the sound (a cough, a breath, line noise), whatever a recognizer
 * made of it, or nothing recognized, or too unsure to be words;
 * backchannel: only listening words; interruption: anything else, a short answer once the
 * reply has asked a question, or a sound no recognizer could serve.
 */
export type Verdict = 'noise' | 'backchannel' | 'interruption';

export interface HeardOverAgent {
  text: string;
  confidence: number;
  /**
   * A recognizer served the utterance. When none could (every one down), nothing can be told
   * about the sound: it goes to the workflow as before, which counts the miss.
   */
  served: boolean;
  /** A sentence of the paused reply that ends with "?" had started playing. */
  questionAsked: boolean;
  /** How much of the sound had a voice (listener.ts). */
  voicedMs: number;
}

export function judgeInterruption(
  heard: HeardOverAgent,
  opts: { minConfidence: number; minVoicedMs: number },
): Verdict {
  if (heard.voicedMs < opts.minVoicedMs) return 'noise';
  if (!heard.served) return 'interruption';
  if (!words(heard.text).length || heard.confidence < opts.minConfidence) return 'noise';
  if (isBackchannel(heard.text)) return heard.questionAsked ? 'interruption' : 'backchannel';
  return 'interruption';
}

export interface FalseInterruptionOptions {
  /** Caller speech this long commits the barge-in without waiting for recognition (ms). */
  maxSpeechMs: number;
  /** A paused reply waits this long for the verdict, then the barge-in is committed (ms). */
  waitMs: number;
  /** A recognition less sure than this counts as noise. */
  minConfidence: number;
  /** A sound with less voiced audio than this is noise (ms; 0: the recognizer decides). */
  minVoicedMs: number;
}
