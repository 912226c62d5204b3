// The ASR evaluation corpus: call-domain utterances, each spoken by two of eight synthetic
// voices (espeak-ng and flite, different rates), passed through the phone path (8 kHz →
// G.711 μ-law → PCM) as a caller's audio reaches the edge. `state` is the dialogue state the
// utterance is answered in; its phrases are the hints a grammar or keyword search gets.
import type { PcmAudio } from '../providers/stt/port';
import { mulawToPcm, pcmToMulaw } from '../audio/mulaw';
import type { IntentName } from '../contracts/call';
import { speak, type SpeakOptions } from './speech-audio';

export type DialogueState = 'open' | 'confirm' | 'digits';

/** What the agent expects to hear in each state: the grammar/keyword hints. */
export const HINTS: Record<DialogueState, string[]> = {
  open: [
    'what is my balance',
    'check my balance',
    'how much do i owe',
    'pay my bill',
    'make a payment',
    'talk to an agent',
    'speak to a person',
    'representative',
    'operator',
    'goodbye',
    "that's all",
    'nothing else',
    'no thanks',
  ],
  confirm: [
    'yes',
    'yes please',
    'yeah',
    'sure',
    'go ahead',
    'correct',
    'no',
    'no thanks',
    'not now',
    'cancel',
    'nope',
  ],
  digits: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
};

export interface CorpusText {
  text: string;
  state: DialogueState;
  /** What RulesIntentClassifier says for the reference text (checked by the evaluation). */
  intent: IntentName;
  /** The words that must survive recognition for the turn to work. */
  key: string;
}

const t = (text: string, state: DialogueState, intent: IntentName, key: string): CorpusText => ({
  text,
  state,
  intent,
  key,
});

export const TEXTS: CorpusText[] = [
  t('what is my balance', 'open', 'check_balance', 'balance'),
  t('how much do I owe', 'open', 'check_balance', 'how much'),
  t('I would like to check my balance please', 'open', 'check_balance', 'balance'),
  t('can you tell me my account balance', 'open', 'check_balance', 'balance'),
  t('how much is my bill this month', 'open', 'check_balance', 'how much'),
  t('what is the amount due on my account', 'open', 'check_balance', 'amount due'),
  t('I want to pay my bill', 'open', 'pay_bill', 'pay my bill'),
  t('pay my bill please', 'open', 'pay_bill', 'pay my bill'),
  t('I would like to make a payment', 'open', 'pay_bill', 'make a payment'),
  t('can I pay off my balance today', 'open', 'pay_bill', 'pay off'),
  t('I need to pay the bill now', 'open', 'pay_bill', 'pay'),
  t('let me make a payment on my account', 'open', 'pay_bill', 'make a payment'),
  t('I want to talk to an agent', 'open', 'talk_to_agent', 'agent'),
  t('can I speak to a real person', 'open', 'talk_to_agent', 'person'),
  t('connect me to a representative please', 'open', 'talk_to_agent', 'representative'),
  t('let me talk to a human', 'open', 'talk_to_agent', 'human'),
  t('operator', 'open', 'talk_to_agent', 'operator'),
  t('I need to speak with someone', 'open', 'talk_to_agent', 'speak with someone'),
  t('goodbye', 'open', 'goodbye', 'goodbye'),
  t("that's all thank you goodbye", 'open', 'goodbye', 'goodbye'),
  t("no that's it thanks bye", 'open', 'goodbye', 'bye'),
  t('nothing else thank you', 'open', 'goodbye', 'nothing else'),
  t('bye bye', 'open', 'goodbye', 'bye'),
  t('yes', 'confirm', 'confirm_yes', 'yes'),
  t('yes please', 'confirm', 'confirm_yes', 'yes'),
  t('yeah go ahead', 'confirm', 'confirm_yes', 'yeah'),
  t('sure', 'confirm', 'confirm_yes', 'sure'),
  t('correct', 'confirm', 'confirm_yes', 'correct'),
  t('yes pay it now', 'confirm', 'confirm_yes', 'yes'),
  t('no', 'confirm', 'confirm_no', 'no'),
  t('not now', 'confirm', 'confirm_no', 'not now'),
  t("no don't do that", 'confirm', 'confirm_no', 'no'),
  t('cancel', 'confirm', 'confirm_no', 'cancel'),
  t('nope', 'confirm', 'confirm_no', 'nope'),
  t('one two three four', 'digits', 'out_of_scope', 'one two three four'),
  t(
    'five five five zero one zero zero',
    'digits',
    'out_of_scope',
    'five five five zero one zero zero',
  ),
  t('my account number is four seven nine two', 'digits', 'out_of_scope', 'four seven nine two'),
  t('nine eight seven six five', 'digits', 'out_of_scope', 'nine eight seven six five'),
  t('the amount is forty two dollars', 'open', 'out_of_scope', 'forty two dollars'),
  t('it is twenty five dollars and fifty cents', 'open', 'out_of_scope', 'twenty five dollars'),
  t('what is the weather like tomorrow', 'open', 'out_of_scope', ''),
  t('do you sell phones in your store', 'open', 'out_of_scope', ''),
  t('I lost my dog yesterday', 'open', 'out_of_scope', ''),
  t('can you recommend a good restaurant', 'open', 'out_of_scope', ''),
  t('what time does the store open', 'open', 'out_of_scope', ''),
  t('tell me a joke', 'open', 'out_of_scope', ''),
  t('where is my package', 'open', 'out_of_scope', ''),
  t('I moved and need to update my address', 'open', 'out_of_scope', ''),
];

export interface Voice extends SpeakOptions {
  id: string;
}

export const VOICES: Voice[] = [
  { id: 'espeak-en-us', engine: 'espeak-ng', voice: 'en-us', rate: 160 },
  { id: 'espeak-en-gb', engine: 'espeak-ng', voice: 'en-gb', rate: 150 },
  { id: 'espeak-en-us+f3', engine: 'espeak-ng', voice: 'en-us+f3', rate: 175 },
  { id: 'espeak-en+m7', engine: 'espeak-ng', voice: 'en+m7', rate: 140 },
  { id: 'flite-kal', engine: 'flite', voice: 'kal' },
  { id: 'flite-slt', engine: 'flite', voice: 'slt' },
  { id: 'flite-rms', engine: 'flite', voice: 'rms' },
  { id: 'flite-awb', engine: 'flite', voice: 'awb' },
];

export interface Utterance extends CorpusText {
  id: string;
  voice: string;
  /** 8 kHz PCM after a μ-law round trip. */
  audio: PcmAudio;
}

/** Telephone channel: G.711 μ-law is lossy; what the edge decodes is what ASR gets. */
export function phoneLine(audio: PcmAudio): PcmAudio {
  if (audio.sampleRate !== 8000) throw new RangeError('the phone line carries 8 kHz audio');
  return { samples: mulawToPcm(pcmToMulaw(audio.samples)), sampleRate: 8000 };
}

/** Every text in two voices (i and i + 3 mod 8), so each voice speaks a quarter of the texts. */
export async function buildCorpus(texts = TEXTS, voices = VOICES): Promise<Utterance[]> {
  const out: Utterance[] = [];
  for (const [i, text] of texts.entries()) {
    for (const v of [voices[i % voices.length]!, voices[(i + 3) % voices.length]!]) {
      const audio = phoneLine(await speak(text.text, v));
      out.push({ ...text, id: `${String(i).padStart(2, '0')}-${v.id}`, voice: v.id, audio });
    }
  }
  return out;
}

/** Lower-case words without punctuation, for WER and key-phrase matching. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}

/** The voices named by id; an unknown id is an error that lists the known ones. */
export function voicesById(ids: string[]): Voice[] {
  return ids.map((id) => {
    const v = VOICES.find((x) => x.id === id);
    if (!v) throw new Error(`no voice ${id}; one of ${VOICES.map((x) => x.id).join(', ')}`);
    return v;
  });
}

/** Levenshtein distance over words (or any tokens, characters included): substitutions + deletions + insertions. */
export function wordErrors(ref: string[], hyp: string[]): number {
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const cur = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const sub = prev[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      cur.push(Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1));
    }
    prev = cur;
  }
  return prev[hyp.length]!;
}

/** Does the hypothesis contain the key phrase as a word sequence? */
export function hasKey(hyp: string, key: string): boolean {
  if (!key) return true;
  return ` ${words(hyp).join(' ')} `.includes(` ${words(key).join(' ')} `);
}
