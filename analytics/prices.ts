// The report's price table (config/prices.yaml): per ASR audio minute, per million TTS
// characters, per thousand LLM input/output tokens, by provider name.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { repoRoot } from '../infra/paths';

const price = z.number().nonnegative();
const PriceTableSchema = z.object({
  currency: z.string().default('USD'),
  asr_per_audio_minute: z.record(z.string(), price).default({}),
  tts_per_million_characters: z.record(z.string(), price).default({}),
  llm_per_1k_tokens: z.record(z.string(), z.object({ input: price, output: price })).default({}),
});

export type PriceTable = z.infer<typeof PriceTableSchema>;

export const defaultPricesPath = (env = process.env): string =>
  env.SWITCHBOARD_PRICES || path.join(repoRoot, 'config', 'prices.yaml');

/** Reads a YAML (or JSON, which is YAML) price table; a clear error says what is wrong. */
export function loadPriceTable(file = defaultPricesPath()): PriceTable {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the price table ${file}: ${(err as Error).message}`);
  }
  const parsed = PriceTableSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid price table ${file}: ${problems.join('; ')}`);
  }
  return parsed.data;
}
