// What a payment's confirmation question does with what callers answer: yes in several
// phrasings, no, and not-answers ("hold on", "I'm not sure", "maybe later") that a grammar
// would otherwise force onto the nearest answer ("that's not right" onto "that's right" unless
// both are among the hints). Each is synthesized in the eight voices of the ASR corpus, sent
// through the phone line (μ-law), recognized by the edge's local recognizer (pocketsphinx
// grammar on the question's hints), classified by the worker's intent model, and decided by
// the call's own state machine (`step`): paid at once, asked again (a doubted yes), or not
// paid. Compared: the plain answers, and the shipped hints (worded answers, not-answers), at
// several payment confidences (CALL_PAYMENT_CONFIRM_CONFIDENCE), and without and with the
// worker's mixed-answer guard (a reading with both a yes and a no in it is asked again).
// Then the shipped local stack (LOCAL_STT=auto: the grammar first, Moonshine's second opinion)
// at the shipped settings, with and without closed answers corroborated by the other engine
// (a doubted yes, a goodbye), and with Whisper rereading what the two left unclear.
//
//   npx tsx bench/confirm-eval.ts
//
// Writes bench/results/confirm-eval.json and .md and prints the table.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PAYMENT_CONFIRM_THRESHOLD, type Intent } from '../contracts/call';
import { createEmbeddingIntentClassifier } from '../providers/intent/embedding';
import { doubtMixedAnswer } from '../providers/intent/mixed-answer';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import type { SpeechToText } from '../providers/stt/port';
import { localSpeechToText } from '../media-edge/edge-runtime';
import { splitFrames } from '../audio/frames';
import { SYLLABLE_MS, voicedMs, voiceExplained } from '../audio/voicing';
import { phoneLine, VOICES } from '../testing/asr-corpus';
import { speak } from '../testing/speech-audio';
import { expectedPhrases, initialCallState, step, type CallState } from '../workflows/call-state';

type Kind = 'yes' | 'no' | 'not-answer';
const ANSWERS: Array<[string, Kind]> = [
  ['yes', 'yes'],
  ['yes please', 'yes'],
  ['yeah go ahead', 'yes'],
  ['sure', 'yes'],
  ['correct', 'yes'],
  ['yes that is correct', 'yes'],
  ["that's right", 'yes'],
  ['yes pay it now', 'yes'],
  ['okay', 'yes'],
  ['no', 'no'],
  ['not now', 'no'],
  ["no don't do that", 'no'],
  ['cancel', 'no'],
  ['nope', 'no'],
  ['no thanks', 'no'],
  ["that's not right", 'no'],
  ['maybe later', 'no'],
  ['wait', 'not-answer'],
  ['hold on', 'not-answer'],
  ['how much is it again', 'not-answer'],
  ['i am not sure', 'not-answer'],
  ['what', 'not-answer'],
  ['let me think', 'not-answer'],
  // A caller who changes their mind mid-answer.
  ['yes no wait', 'not-answer'],
  ['yeah actually no', 'no'],
];
const THRESHOLDS = [0.5, 0.7, 0.8, 0.9];
/** The call's ordinary threshold (CALL_CONFIDENCE_THRESHOLD's default). */
const ORDINARY = 0.5;

/** Which recognizer heard it: the grammar alone, or the shipped stack with or without corroboration and Whisper. */
const STACKS = ['auto', 'auto, corroborated', 'auto, corroborated, Whisper'] as const;
type Stack = 'pocketsphinx' | (typeof STACKS)[number];

interface Heard {
  stack: Stack;
  text: string;
  kind: Kind;
  voice: string;
  notAnswers: boolean;
  transcript: string;
  confidence: number;
  intent: Intent;
  /** The intent after the mixed-answer guard. */
  guarded: Intent;
  /** Voiced audio of the answer (media-edge/audio/voicing.ts). */
  voicedMs: number;
}

type Outcome = 'paid' | 'asked again' | 'not paid';

const confirming: CallState = {
  ...initialCallState(),
  phase: 'confirm_payment',
  pendingPayment: { invoiceId: 'inv_1', amountCents: 4250, dueDate: '2026-12-05' },
};

/** Voiced audio one syllable may account for, tried for the edge's voice check (ms). */
const PER_SYLLABLE = [450, 400, 350, 300];

/**
 * What the call does with one answer, by its own state machine; with `perSyllableMs`, the
 * edge's voice check scales the confidence first.
 */
function decide(h: Heard, c: Config): Outcome {
  const { perSyllableMs } = c;
  const explained = perSyllableMs ? voiceExplained(h.transcript, h.voicedMs, perSyllableMs) : 1;
  const next = step(confirming, {
    kind: 'turn',
    intent: c.guard ? h.guarded : h.intent,
    asrConfidence: h.confidence * explained,
    threshold: ORDINARY,
    paymentYesThreshold: c.threshold,
  });
  if (next.effect?.kind === 'pay') return 'paid';
  return next.state.phase === 'confirm_payment' ? 'asked again' : 'not paid';
}

interface Config {
  notAnswers: boolean;
  threshold: number;
  perSyllableMs?: number;
  guard: boolean;
}

interface Row {
  hints: string;
  threshold: number;
  guard: boolean;
  /** The voice check's ms per syllable; none without it. */
  perSyllableMs?: number;
  yes: Record<Outcome, number>;
  others: Record<Outcome, number>;
  wrongPayments: string[];
}

function rows(heard: Heard[]): Row[] {
  const configs: Config[] = [false, true].flatMap((guard) => [
    ...[false, true].flatMap((notAnswers) =>
      THRESHOLDS.map((threshold) => ({ notAnswers, threshold, guard })),
    ),
    ...PER_SYLLABLE.map((perSyllableMs) => ({
      notAnswers: true,
      threshold: DEFAULT_PAYMENT_CONFIRM_THRESHOLD,
      perSyllableMs,
      guard,
    })),
  ]);
  const out: Row[] = [];
  for (const c of configs) {
    const { notAnswers, threshold, perSyllableMs, guard } = c;
    const decided = heard
      .filter((h) => h.stack === 'pocketsphinx' && h.notAnswers === notAnswers)
      .map((h) => ({ h, outcome: decide(h, c) }));
    out.push({
      hints: notAnswers ? 'answers + worded answers + not-answers' : 'answers only',
      threshold,
      guard,
      ...(perSyllableMs && { perSyllableMs }),
      ...outcomes(decided),
    });
  }
  return out;
}

type Outcomes = Pick<Row, 'yes' | 'others' | 'wrongPayments'>;

function outcomes(decided: Array<{ h: Heard; outcome: Outcome }>): Outcomes {
  const tally = (ds: typeof decided) => {
    const t: Record<Outcome, number> = { paid: 0, 'asked again': 0, 'not paid': 0 };
    for (const d of ds) t[d.outcome]++;
    return t;
  };
  const others = decided.filter((d) => d.h.kind !== 'yes');
  return {
    yes: tally(decided.filter((d) => d.h.kind === 'yes')),
    others: tally(others),
    wrongPayments: others
      .filter((d) => d.outcome === 'paid')
      .map(
        ({ h }) =>
          `"${h.text}" (${h.voice}) heard "${h.transcript}" at ${h.confidence}, ${h.voicedMs} ms voiced`,
      ),
  };
}

/** The shipped settings: not-answers among the hints, the guard, the voice check, 0.9. */
const SHIPPED: Config = {
  notAnswers: true,
  threshold: DEFAULT_PAYMENT_CONFIRM_THRESHOLD,
  perSyllableMs: SYLLABLE_MS,
  guard: true,
};

function stackRows(heard: Heard[]): Array<Outcomes & { stack: Stack }> {
  return STACKS.map((stack) => ({
    stack,
    ...outcomes(
      heard.filter((h) => h.stack === stack).map((h) => ({ h, outcome: decide(h, SHIPPED) })),
    ),
  }));
}

function render(r: {
  at: string;
  rows: Row[];
  stacks: Array<Outcomes & { stack: Stack }>;
}): string {
  const n = (t: Record<Outcome, number>) => t.paid + t['asked again'] + t['not paid'];
  const cells = (x: Outcomes) =>
    `${x.yes.paid} / ${x.yes['asked again']} / ${x.yes['not paid']} of ${n(x.yes)} | ` +
    `**${x.others.paid}** / ${x.others['asked again']} / ${x.others['not paid']} of ${n(x.others)} |`;
  return [
    `A payment's confirmation question, answered ${ANSWERS.length * VOICES.length} ways (${ANSWERS.length} answers × ${VOICES.length} voices: ${VOICES.map((v) => v.id).join(', ')}), ` +
      `8 kHz μ-law, pocketsphinx grammar on the question's hints, the worker's intent model, decided by the call's state machine. ` +
      `"Asked again" is the doubted yes (below the payment confidence) or an unclear answer; the default payment confidence is ${DEFAULT_PAYMENT_CONFIRM_THRESHOLD}. Measured ${r.at.slice(0, 10)}.`,
    '',
    '| mixed-answer guard | hints | payment confidence | voice check (ms per syllable) | yes: paid / asked again / not paid | no or not-answer: paid / asked again / not paid |',
    '|---|---|---:|---:|---|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.guard ? 'on' : 'off'} | ${x.hints} | ${x.threshold} | ${x.perSyllableMs ?? '—'} | ${cells(x)}`,
    ),
    '',
    `The shipped local stack (LOCAL_STT=auto: the grammar reads a closed answer first, Moonshine is asked when its reading is unclear) at the shipped settings (not-answers among the hints, the guard, voice check ${SHIPPED.perSyllableMs} ms per syllable, payment confidence ${SHIPPED.threshold}); "corroborated": a yes below the payment confidence, or a goodbye, is read by the other engine too; both naming it makes it 1 − (1 − a)(1 − b), and a goodbye the other does not hear gives way to its sure request or is doubted (asked again); "Whisper": what the two left unclear is read by Whisper too (LOCAL_STT_RECHECK=whisper, shipped):`,
    '',
    '| stack | yes: paid / asked again / not paid | no or not-answer: paid / asked again / not paid |',
    '|---|---|---|',
    ...r.stacks.map((x) => `| ${x.stack} | ${cells(x)}`),
    '',
    'Wrong payments (a no or a not-answer that paid):',
    '',
    ...r.rows.map(
      (x) =>
        `- guard ${x.guard ? 'on' : 'off'}, ${x.hints}, ${x.threshold}${x.perSyllableMs ? `, voice check ${x.perSyllableMs}` : ''}: ${x.wrongPayments.join('; ') || 'none'}`,
    ),
    ...r.stacks.map((x) => `- ${x.stack}: ${x.wrongPayments.join('; ') || 'none'}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const stt = new PocketsphinxSpeechToText();
  const intents = createEmbeddingIntentClassifier();
  await intents.warmUp();
  const stacks = [
    ['auto', localSpeechToText('auto', undefined, { corroborate: false, recheck: false })],
    ['auto, corroborated', localSpeechToText('auto', undefined, { recheck: false })],
    ['auto, corroborated, Whisper', localSpeechToText('auto')],
  ] as const;
  for (const [, local] of stacks) local.warm();
  await Promise.all(stacks.map(([, local]) => local.ready()));
  const heard: Heard[] = [];
  for (const [text, kind] of ANSWERS) {
    process.stderr.write(`[confirm-eval] "${text}" …\n`);
    for (const v of VOICES) {
      const audio = phoneLine(await speak(text, v));
      const voiced = voicedMs(splitFrames(audio.samples, 8000));
      /** One recognizer's reading of this answer, classified as the worker would. */
      const hear = async (stack: Stack, engine: SpeechToText, notAnswers: boolean) => {
        // The shipped hints (worded answers among them) with not-answers; the plain answers without.
        const hints = expectedPhrases('confirm_payment', { notAnswers, wordedAnswers: notAnswers });
        const t = await engine.transcribe(audio, { hints, closedQuestion: true });
        const intent = await intents.classify(t.text);
        heard.push({ stack, text, kind, voice: v.id, notAnswers, transcript: t.text, confidence: Math.round(t.confidence * 1000) / 1000, intent, guarded: doubtMixedAnswer(t.text, intent), voicedMs: voiced }); // prettier-ignore
      };
      for (const notAnswers of [false, true]) await hear('pocketsphinx', stt, notAnswers);
      for (const [stack, local] of stacks) await hear(stack, local, true);
    }
  }
  const result = {
    at: new Date().toISOString(),
    utterances: heard.length,
    rows: rows(heard),
    stacks: stackRows(heard),
    heard,
  };
  const md = render(result);
  const dir = path.join(__dirname, 'results');
  await writeFile(path.join(dir, 'confirm-eval.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(dir, 'confirm-eval.md'), `${md}\n`);
  console.log(md);
  process.exit(0); // the embedding model keeps handles open
}

main().catch((err: unknown) => {
  console.error(`[confirm-eval] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
