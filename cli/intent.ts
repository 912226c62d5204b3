// `switchboard intent "<text>"` prints the classification as JSON;
// `switchboard intent eval` scores a classifier on the evaluation split.
import type { Command } from 'commander';
import { isSplit, loadSplit, SPLITS } from '../providers/intent/dataset';
import { evaluateIntents, type IntentEvaluation } from '../providers/intent/evaluate';
import { INTENT_NAMES } from '../providers/intent/labels';
import { createIntentClassifier, INTENT_CLASSIFIERS } from '../providers/intent/select';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const ABBREV: Record<string, string> = {
  check_balance: 'bal',
  pay_bill: 'pay',
  confirm_yes: 'yes',
  confirm_no: 'no',
  talk_to_agent: 'agent',
  goodbye: 'bye',
  ask_billing: 'q-bill',
  ask_plans: 'q-plan',
  ask_outage: 'q-out',
  ask_policy: 'q-pol',
  out_of_scope: 'oos',
};

export function formatEvaluation(name: string, split: string, r: IntentEvaluation): string[] {
  const lines = [
    `[intent] ${name} on the ${split} split (${r.examples} utterances)`,
    `  in-scope accuracy   ${pct(r.inScopeAccuracy)}   (target ≥ 95 %)`,
    `  out-of-scope recall ${pct(r.outOfScopeRecall)}   (target ≥ 85 %)`,
    `  right or below the 0.5 gate ${pct(r.safeRate)}`,
    `  calibration (ECE, 10 bins) ${r.ece.toFixed(3)}`,
    `  latency per classification p50 ${r.latencyMs.p50.toFixed(1)} ms, p95 ${r.latencyMs.p95.toFixed(1)} ms, max ${r.latencyMs.max.toFixed(1)} ms (target p95 ≤ 20 ms)`,
    '',
    '  confusion (rows: expected, columns: predicted)',
  ];
  const w = 7;
  lines.push(`  ${''.padEnd(14)}${INTENT_NAMES.map((n) => ABBREV[n]!.padStart(w)).join('')}`);
  for (const expected of INTENT_NAMES) {
    const row = INTENT_NAMES.map((got) => {
      const n = r.confusion[expected][got];
      return (n ? String(n) : '.').padStart(w);
    });
    lines.push(`  ${expected.padEnd(14)}${row.join('')}`);
  }
  if (r.errors.length) {
    lines.push('', '  errors');
    for (const e of r.errors)
      lines.push(`    "${e.text}": ${e.expected} → ${e.got} (${e.confidence.toFixed(2)})`);
  }
  return lines;
}

export function registerIntentCommand(program: Command): void {
  program
    .command('intent')
    .description(
      'classify an utterance (prints {name, confidence}); `intent eval` scores the model on the evaluation split',
    )
    .argument('<text...>', 'what the caller said, or "eval"')
    .option('--classifier <name>', `one of ${INTENT_CLASSIFIERS.join(', ')}`, 'embedding')
    .option('--split <split>', `for eval: ${SPLITS.join(', ')}`, 'eval')
    .action(async (words: string[], o: { classifier: string; split: string }) => {
      const classifier = await createIntentClassifier(o.classifier);
      if (words.length === 1 && words[0] === 'eval') {
        if (!isSplit(o.split))
          throw new Error(`--split must be one of ${SPLITS.join(', ')}, not ${o.split}`);
        const r = await evaluateIntents(classifier, loadSplit(o.split));
        for (const line of formatEvaluation(classifier.name, o.split, r)) console.log(line);
        return;
      }
      console.log(JSON.stringify(await classifier.classify(words.join(' '))));
    });
}
