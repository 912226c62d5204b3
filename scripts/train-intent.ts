// Trains the intent model on data/intents/train.tsv (and train-heard.tsv, the same lines as
// the recognizer heard them: bench/hear-intents.ts) and writes data/intents/model.json.
//   npx tsx scripts/train-intent.ts [--embedder minilm|use-lite] [--out file]
// Deterministic: the same dataset and embedder give the same file.
import { trainingData } from '../providers/intent/dataset';
import { DEFAULT_MODEL_FILE, writeModelFile } from '../providers/intent/model-file';
import { trainIntentModel } from '../providers/intent/train';
import { createEmbedder } from '../providers/embeddings/select';

async function main(): Promise<void> {
  const arg = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const embedder = createEmbedder(arg('--embedder') ?? 'minilm');
  const out = arg('--out') ?? DEFAULT_MODEL_FILE;
  const log = (line: string) => console.log(`[train-intent] ${line}`);
  const { examples, heard } = trainingData();
  const model = await trainIntentModel(embedder, examples, { heard, log });
  writeModelFile(model, out);
  const cv = model.training.crossValidation;
  log(
    `wrote ${out}: ${model.training.examples} examples, temperature ${model.temperature}, ` +
      `cross-validated accuracy ${(cv.accuracy * 100).toFixed(1)} %, ECE ${cv.ece.toFixed(3)} (uncalibrated ${cv.eceUncalibrated.toFixed(3)})`,
  );
}

main().catch((err: unknown) => {
  console.error(`[train-intent] error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
