// The labelled utterances under data/intents/: one TSV per split (`intent<TAB>text`, a
// header line), written for spoken English as a recognizer hands it over.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../infra/paths';
import type { IntentName } from '../../contracts/call';
import { isIntentName } from './labels';

export const INTENT_DATA_DIR = path.join(repoRoot, 'data', 'intents');
/**
 * `train-heard` / `eval-heard`: the splits as Moonshine heard them through the phone line
 * (bench/hear-intents.ts), training in voices the scenario bench never uses, evaluation in
 * the bench's unseen voices; `eval-heard-pocketsphinx`: the evaluation split as the grammar
 * recognizer heard it there.
 */
export const SPLITS = ['train', 'eval', 'train-heard', 'eval-heard', 'eval-heard-pocketsphinx'] as const; // prettier-ignore
export type Split = (typeof SPLITS)[number];
export const isSplit = (s: string): s is Split => (SPLITS as readonly string[]).includes(s);

export interface Example {
  text: string;
  intent: IntentName;
}

export function parseExamples(tsv: string, source = 'dataset'): Example[] {
  const lines = tsv.split('\n');
  if (lines[0]?.trim() !== 'intent\ttext')
    throw new Error(`${source}: the first line must be the header "intent<TAB>text"`);
  const out: Example[] = [];
  lines.slice(1).forEach((line, i) => {
    if (!line.trim()) return;
    const [intent, text, extra] = line.split('\t');
    if (extra !== undefined || !text?.trim())
      throw new Error(
        `${source}:${i + 2}: expected "intent<TAB>text", got ${JSON.stringify(line)}`,
      );
    if (!intent || !isIntentName(intent))
      throw new Error(`${source}:${i + 2}: unknown intent ${JSON.stringify(intent)}`);
    out.push({ intent, text: text.trim() });
  });
  return out;
}

export function loadSplit(split: Split, dir = INTENT_DATA_DIR): Example[] {
  const file = path.join(dir, `${split}.tsv`);
  return parseExamples(fs.readFileSync(file, 'utf8'), path.relative(repoRoot, file));
}

/** What the model is fitted on: the training split, then the heard training lines. */
export function trainingData(dir = INTENT_DATA_DIR): { examples: Example[]; heard: Example[] } {
  return { examples: loadSplit('train', dir), heard: loadSplit('train-heard', dir) };
}

/** Identifies the training data a model file was fitted on (stale-model check). */
export function datasetHash(examples: Example[]): string {
  const h = createHash('sha256');
  for (const e of examples) h.update(`${e.intent}\t${e.text}\n`);
  return h.digest('hex');
}
