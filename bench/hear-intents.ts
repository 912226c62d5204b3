// Hears a split of the intent dataset as a caller's phone line delivers it: every line
// synthesized in the given voices, sent through 8 kHz μ-law, recognized by Moonshine tiny-en
// (the local recognizer for open speech; `--stt pocketsphinx`: the grammar recognizer on the
// open question's phrases), and written with its label: for training, each distinct line the
// recognizer heard otherwise than written but close to it (`teaches`); for evaluation, every
// line heard (nothing only when it heard nothing). The training split heard in voices the scenario
// bench never uses teaches the intent model the recognizer's mistakes; the evaluation split
// heard in the scenario bench's unseen voices measures it (`./switchboard intent eval
// --split eval-heard`).
//   npx tsx bench/hear-intents.ts --split train --voices espeak-en-us,espeak-en-gb,espeak-en+m7,flite-kal,flite-rms --out data/intents/train-heard.tsv
//   npx tsx bench/hear-intents.ts --split eval --voices flite-awb,flite-slt,espeak-en-us+f3 --out data/intents/eval-heard.tsv
//   npx tsx bench/hear-intents.ts --split eval --stt pocketsphinx --voices flite-awb,flite-slt,espeak-en-us+f3 --out data/intents/eval-heard-pocketsphinx.tsv
// Lines are written in order; pocketsphinx's words and confidences can differ a little
// between runs (docs/benchmarks.md), so a rerun is not byte-identical.
import { writeFileSync } from 'node:fs';
import { ensureMoonshine } from '../infra/install';
import { loadSplit } from '../providers/intent/dataset';
import { MoonshineSpeechToText } from '../providers/stt/moonshine';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import type { SpeechToText } from '../providers/stt/port';
import { expectedPhrases } from '../workflows/call-state';
import { phoneLine, voicesById, wordErrors } from '../testing/asr-corpus';
import { speak } from '../testing/speech-audio';

const plain = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * A heard line worth training on: heard otherwise than written, still close to it (a line
 * heard as something else entirely teaches noise: fragments like "and the" came out as
 * goodbyes), and three words or more.
 */
const MIN_SIMILARITY = 0.6;
function teaches(heard: string, written: string): boolean {
  if (heard === written || heard.split(' ').length < 3) return false;
  return (
    1 - wordErrors([...written], [...heard]) / Math.max(heard.length, written.length) >=
    MIN_SIMILARITY
  );
}

async function main(): Promise<void> {
  const arg = (flag: string) => {
    const i = process.argv.indexOf(flag);
    const v = i > 0 ? process.argv[i + 1] : undefined;
    if (!v) throw new Error(`${flag} is required`);
    return v;
  };
  const split = arg('--split');
  if (split !== 'train' && split !== 'eval')
    throw new Error(`--split: train or eval, not ${split}`);
  const voices = voicesById(arg('--voices').split(','));
  const out = arg('--out');
  const log = (line: string) => process.stderr.write(`[hear-intents] ${line}\n`);
  const engine = process.argv.includes('--stt') ? arg('--stt') : 'moonshine';
  let stt: SpeechToText & { dispose(): void };
  if (engine === 'moonshine') {
    stt = new MoonshineSpeechToText({ dir: await ensureMoonshine(log), poolSize: 1 });
  } else if (engine === 'pocketsphinx') {
    stt = new PocketsphinxSpeechToText();
  } else throw new Error(`--stt: moonshine or pocketsphinx, not ${engine}`);
  // pocketsphinx hears on the grammar of the open question ("How can I help you today?").
  const hints = engine === 'pocketsphinx' ? expectedPhrases('idle') : undefined;
  const examples = loadSplit(split);
  const lines = ['intent\ttext'];
  const seen = new Set<string>();
  let n = 0;
  for (const e of examples) {
    for (const v of voices) {
      const audio = phoneLine(await speak(e.text, v));
      const heard = plain((await stt.transcribe(audio, hints && { hints })).text);
      const key = `${e.intent}\t${heard}`;
      const keep = split === 'eval' || (teaches(heard, plain(e.text)) && !seen.has(key));
      if (heard && keep) {
        seen.add(key);
        lines.push(key);
      }
      if (++n % 100 === 0) log(`${n} of ${examples.length * voices.length} heard`);
    }
  }
  stt.dispose();
  writeFileSync(out, `${lines.join('\n')}\n`);
  log(`wrote ${out}: ${lines.length - 1} lines`);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`[hear-intents] error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
