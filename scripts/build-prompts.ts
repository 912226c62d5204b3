// Regenerates assets/prompts/ and assets/pieces/, voiced by the local engine at build time and
// shipped as 8 kHz μ-law, each with index.json {text → file}:
// - prompts: every fixed message the call flow speaks, whole;
// - pieces: the words and carrier phrases personal sentences are assembled from when every
//   synthesizer is down (numbers, money, ordinals, months, weekdays, the prompts' words).
//   npx tsx scripts/build-prompts.ts [--check]
// --check writes nothing and exits 1 when the shipped audio is out of date.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LOCAL_TTS_DEFAULTS, LocalTts } from '../providers/tts/local';
import { PIECES_DIR, PIECES_INDEX, pieceKey, type PieceIndex } from '../providers/tts/piecewise';
import {
  APOLOGY,
  HOLD_LINE,
  PROMPTS_DIR,
  PROMPTS_INDEX,
  STILL_HOLDING,
  UNSAYABLE_APOLOGY,
  type PromptIndex,
} from '../providers/tts/prerecorded';
import {
  MAX_ORDINAL,
  MONTHS,
  WEEKDAYS,
  isPause,
  numberWords,
  ordinalWords,
  spokenWords,
} from '../providers/tts/spoken-words';
import { COMMITMENT_REFUSAL } from '../conversation/safety/commitments';
import { NOT_CONFIDENT } from '../conversation/safety/grounding';
import { PRIVACY_REFUSAL } from '../conversation/safety/privacy';
import { CALM_REPLY } from '../conversation/safety/tone';
import { PROMPTS, initialCallState, step } from '../workflows/call-state';

/** Prompt name → text. The greeting comes from the state machine, so it cannot drift. */
export function fixedPrompts(): Record<string, string> {
  const greeting = step(initialCallState(), { kind: 'identified' }).say;
  if (!greeting) throw new Error('the state machine no longer greets an unknown caller');
  // The answer path's refusals are fixed too: they must play when every TTS provider is down.
  return {
    greeting,
    apology: APOLOGY,
    unsayable: UNSAYABLE_APOLOGY,
    holdLine: HOLD_LINE,
    stillHolding: STILL_HOLDING,
    ...PROMPTS,
    notConfident: NOT_CONFIDENT,
    commitmentRefusal: COMMITMENT_REFUSAL,
    privacyRefusal: PRIVACY_REFUSAL,
    calmReply: CALM_REPLY,
  };
}

/**
 * Words of the personal sentences the state machine says around amounts and dates, said as
 * one piece each so they sound like speech rather than a word list. Every word of them is
 * a piece on its own too, so another wording still has a voice.
 */
export const CARRIER_PHRASES = [
  'your balance is',
  'your next bill is due on',
  'your bill of',
  'is due on',
  'your payment of',
  'is complete',
  'please say yes to pay',
  'or no to cancel',
  'are you still there',
  'thanks for calling',
];

/** Piece key → the text the engine voices for it. */
export function pieceTexts(): Map<string, string> {
  const texts = new Map<string, string>();
  const add = (words: string[]) => texts.set(pieceKey(words), words.join(' '));
  for (let n = 0; n < 20; n++) add(numberWords(n));
  for (let n = 20; n < 100; n += 10) add(numberWords(n));
  for (const w of ['hundred', 'thousand', 'million', 'point']) add([w]);
  for (const w of ['dollar', 'dollars', 'cent', 'cents', 'and', 'hello']) add([w]);
  // Ordinals of the days as one piece each: "twenty first" said as one word sounds right.
  for (let d = 1; d <= MAX_ORDINAL; d++) add(ordinalWords(d));
  for (const w of [...MONTHS, ...WEEKDAYS]) add([w]);
  for (const phrase of CARRIER_PHRASES) add(phrase.split(' '));
  for (const text of [...Object.values(fixedPrompts()), ...CARRIER_PHRASES]) {
    for (const w of spokenWords(text)) if (!isPause(w)) add([w]);
  }
  return texts;
}

const fileName = (name: string) => `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.ulaw`;
const pieceFile = (key: string) => `${key.replace(/'/g, '_').replace(/ /g, '-')}.ulaw`;

/** Voices every text and writes the changed files and the index; false when --check finds drift. */
async function buildDir(
  dir: string,
  indexFile: string,
  entries: [file: string, text: string][],
  index: (files: Record<string, string>) => PromptIndex | PieceIndex,
  tts: LocalTts,
  check: boolean,
): Promise<boolean> {
  const files = new Map<string, Buffer>();
  const listed: Record<string, string> = {};
  for (const [file, text] of entries) {
    const audio = await tts.synthesize(text);
    files.set(file, audio.mulaw);
    console.log(`${file.padEnd(28)} ${String(audio.durationMs).padStart(6)} ms  ${text}`);
  }
  for (const [file, text] of entries) listed[text] = file;
  files.set(indexFile, Buffer.from(`${JSON.stringify(index(listed), null, 2)}\n`));

  const existing = new Set(await readdir(dir).catch(() => [] as string[]));
  const stale = [...existing].filter((f) => !files.has(f));
  const changed: string[] = [];
  for (const [file, bytes] of files) {
    const old = await readFile(path.join(dir, file)).catch(() => undefined);
    if (!old || digest(old) !== digest(bytes)) changed.push(file);
  }
  if (check) {
    for (const f of [...changed, ...stale]) console.error(`out of date: ${path.join(dir, f)}`);
    return changed.length + stale.length === 0;
  }
  await mkdir(dir, { recursive: true });
  for (const file of changed) await writeFile(path.join(dir, file), files.get(file)!);
  for (const file of stale) await rm(path.join(dir, file));
  const bytes = [...files.values()].reduce((n, b) => n + b.length, 0);
  console.log(
    `${dir}: ${files.size - 1} files, ${(bytes / 1024).toFixed(0)} KiB; ` +
      `${changed.length} written, ${stale.length} removed`,
  );
  return true;
}

async function build(check: boolean): Promise<boolean> {
  const tts = new LocalTts(LOCAL_TTS_DEFAULTS);
  // Pieces keep less silence around them (the gaps between them are set when they are
  // joined), and are spoken faster: a word said alone gets a sentence end's slow ending.
  const pieceTts = new LocalTts({
    ...LOCAL_TTS_DEFAULTS,
    leadInMs: 10,
    tailMs: 20,
    durationStretch: 0.8,
  });
  const header = { voice: tts.voice, sampleRate: 8000, encoding: 'mulaw' } as const;
  const prompts = await buildDir(
    PROMPTS_DIR,
    PROMPTS_INDEX,
    Object.entries(fixedPrompts()).map(([name, text]) => [fileName(name), text]),
    (files) => ({ ...header, prompts: files }),
    tts,
    check,
  );
  const pieces = await buildDir(
    PIECES_DIR,
    PIECES_INDEX,
    [...pieceTexts()].map(([key, text]) => [pieceFile(key), text]),
    // Keyed by the piece's words (what PiecewiseSpeech looks up), not by the voiced text.
    (files) => ({ ...header, pieces: files }),
    pieceTts,
    check,
  );
  return prompts && pieces;
}

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

if (require.main === module) {
  build(process.argv.includes('--check')).then(
    (ok) => process.exit(ok ? 0 : 1),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
