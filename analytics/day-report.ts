// The day's figures from the DuckDB warehouse's projections: calls, intents, dispositions,
// QA flags, provider fallbacks, latency percentiles per stage and the cost of the cloud
// providers. A day is a UTC calendar day of the events' `occurred_at`. Percentiles are
// linearly interpolated between the nearest ranks (DuckDB quantile_cont, numpy's default).
import type { DuckDbWarehouse, Row } from '../providers/warehouse/duckdb';
import type { PriceTable } from './prices';

export const LATENCY_STAGES = [
  'asr',
  'intent',
  'retrieval',
  'llm',
  'tts',
  'end_to_end',
  'greeting',
] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

export interface StageLatency {
  stage: LatencyStage;
  turns: number;
  p50: number;
  p95: number;
}

export interface CostLine {
  stage: 'asr' | 'tts' | 'llm';
  provider: string;
  /** Billable quantity in the unit the price table uses. */
  quantity: number;
  unit: string;
  cost: number;
  /** The provider is not in the price table (counted at 0). */
  unpriced: boolean;
}

export interface DayReport {
  day: string;
  calls: number;
  turns: number;
  callMinutes: number;
  intents: { intent: string; count: number }[];
  dispositions: { disposition: string; calls: number }[];
  qaFlags: { flag: string; calls: number }[];
  fallbacks: { stage: string; failed: string; servedBy: string; count: number }[];
  latency: StageLatency[];
  costs: CostLine[];
  totalCost: number;
  currency: string;
}

/** Checks the shape (YYYY-MM-DD) and that it is a real date. */
export function parseDay(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
    throw new Error(`--day must be a date as YYYY-MM-DD, not ${JSON.stringify(day)}`);
  }
  if (new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new Error(`${day} is not a calendar date`);
  }
  return day;
}

const ON_DAY = `occurred_at >= CAST(? AS TIMESTAMP) AND occurred_at < CAST(? AS TIMESTAMP) + INTERVAL 1 DAY`;

export async function dayReport(
  wh: DuckDbWarehouse,
  day: string,
  prices: PriceTable,
): Promise<DayReport> {
  parseDay(day);
  const p = [day, day];
  const num = (r: Row | undefined, k: string) => Number(r?.[k] ?? 0);
  const [calls] = await wh.all(
    `SELECT count(*) AS calls, coalesce(sum(turns), 0) AS turns,
            coalesce(sum(duration_ms), 0) / 60000.0 AS minutes FROM calls WHERE ${ON_DAY}`,
    p,
  );
  const intents = await wh.all(
    `SELECT intent, count(*) AS n FROM (SELECT unnest(intents) AS intent FROM calls WHERE ${ON_DAY})
     GROUP BY intent ORDER BY n DESC, intent`,
    p,
  );
  const dispositions = await wh.all(
    `SELECT disposition, count(*) AS n FROM calls WHERE ${ON_DAY}
     GROUP BY disposition ORDER BY n DESC, disposition`,
    p,
  );
  const flags = await wh.all(
    `SELECT flag, count(DISTINCT call_id) AS n FROM
       (SELECT call_id, unnest(qa_flags) AS flag FROM call_analytics WHERE ${ON_DAY})
     GROUP BY flag ORDER BY n DESC, flag`,
    p,
  );
  const fallbacks = await wh.all(
    `SELECT stage, failed_provider, coalesce(served_by, '(none)') AS served_by, count(*) AS n
     FROM provider_fallbacks WHERE ${ON_DAY}
     GROUP BY ALL ORDER BY n DESC, stage, failed_provider, served_by`,
    p,
  );
  const latency: StageLatency[] = [];
  for (const stage of LATENCY_STAGES) {
    // Turn 0 is the greeting: its end to end is the time to greet (stream up → first audio).
    const [col, turns] =
      stage === 'greeting' ? ['end_to_end_ms', 'turn_id = 0'] : [`${stage}_ms`, 'turn_id > 0'];
    const [r] = await wh.all(
      `SELECT count(${col}) AS n, quantile_cont(${col}, 0.5) AS p50,
              quantile_cont(${col}, 0.95) AS p95 FROM turn_metrics WHERE ${ON_DAY} AND ${turns}`,
      p,
    );
    if (num(r, 'n') > 0) {
      latency.push({ stage, turns: num(r, 'n'), p50: num(r, 'p50'), p95: num(r, 'p95') });
    }
  }
  const usage = await wh.all(
    `SELECT 'asr' AS stage, asr_provider AS provider, sum(asr_audio_ms) / 60000.0 AS q1, 0 AS q2
       FROM turn_metrics WHERE ${ON_DAY} AND asr_audio_ms > 0 GROUP BY ALL
     UNION ALL
     SELECT 'tts', tts_provider, sum(tts_characters) / 1e6, 0
       FROM turn_metrics WHERE ${ON_DAY} AND tts_characters > 0 GROUP BY ALL
     UNION ALL
     SELECT 'llm', llm_provider, coalesce(sum(llm_input_tokens), 0) / 1000.0,
            coalesce(sum(llm_output_tokens), 0) / 1000.0
       FROM turn_metrics WHERE ${ON_DAY}
         AND (llm_input_tokens > 0 OR llm_output_tokens > 0) GROUP BY ALL
     ORDER BY 1, 2`,
    [...p, ...p, ...p],
  );
  const costs = usage.map((u) => priceLine(u, prices));
  return {
    day,
    calls: num(calls, 'calls'),
    turns: num(calls, 'turns'),
    callMinutes: num(calls, 'minutes'),
    intents: intents.map((r) => ({ intent: String(r.intent), count: num(r, 'n') })),
    dispositions: dispositions.map((r) => ({
      disposition: String(r.disposition),
      calls: num(r, 'n'),
    })),
    qaFlags: flags.map((r) => ({ flag: String(r.flag), calls: num(r, 'n') })),
    fallbacks: fallbacks.map((r) => ({
      stage: String(r.stage),
      failed: String(r.failed_provider),
      servedBy: String(r.served_by),
      count: num(r, 'n'),
    })),
    latency,
    costs,
    totalCost: costs.reduce((s, c) => s + c.cost, 0),
    currency: prices.currency,
  };
}

function priceLine(u: Row, prices: PriceTable): CostLine {
  const stage = u.stage as CostLine['stage'];
  const provider = u.provider === null ? '(unknown)' : (u.provider as string);
  const q1 = Number(u.q1);
  const q2 = Number(u.q2);
  if (stage === 'asr') {
    const rate = prices.asr_per_audio_minute[provider];
    return { stage, provider, quantity: q1, unit: 'audio min', cost: q1 * (rate ?? 0), unpriced: rate === undefined }; // prettier-ignore
  }
  if (stage === 'tts') {
    const rate = prices.tts_per_million_characters[provider];
    return { stage, provider, quantity: q1 * 1e6, unit: 'characters', cost: q1 * (rate ?? 0), unpriced: rate === undefined }; // prettier-ignore
  }
  const rate = prices.llm_per_1k_tokens[provider];
  return {
    stage,
    provider,
    quantity: (q1 + q2) * 1000,
    unit: 'tokens',
    cost: rate ? q1 * rate.input + q2 * rate.output : 0,
    unpriced: rate === undefined,
  };
}
