// `switchboard report --day YYYY-MM-DD`: the day's calls, intents, dispositions, fallbacks,
// latency per stage (p50/p95) and provider cost, as tables, plus a PNG chart of the latency.
// It first loads what is waiting on Kafka into the local DuckDB warehouse, in this process
// (a DuckDB file has one writer; a running `warehouse load` lets go of it when idle).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type DayReport, dayReport, parseDay } from '../analytics/day-report';
import { latencyChartPng } from '../analytics/latency-chart';
import { loadLoaderConfig } from '../analytics/loader-config';
import { localEnv } from './dev-env';
import { defaultPricesPath, loadPriceTable } from '../analytics/prices';
import { DuckDbWarehouse } from '../providers/warehouse/duckdb';
import { paths } from '../infra/paths';
import { drainIntoWarehouse, formatLoad } from './warehouse';

export interface ReportOptions {
  day: string;
  /** Price table file; default config/prices.yaml (or SWITCHBOARD_PRICES). */
  prices?: string;
  /** Where the PNG goes; default .switchboard/reports/latency-<day>.png. */
  chart?: string;
  /** Skip loading from Kafka first (report what the warehouse holds). */
  load?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface ReportRun {
  report: DayReport;
  chartPath: string;
  text: string;
  ms: number;
}

export async function runReport(o: ReportOptions): Promise<ReportRun> {
  const started = performance.now();
  const day = parseDay(o.day);
  const log = o.log ?? ((line: string) => console.log(`[report] ${line}`));
  // The local platform's addresses (its ports may be moved), the caller's variables winning.
  const env = o.env ?? localEnv();
  const config = loadLoaderConfig(env);
  if (config.WAREHOUSE !== 'duckdb') {
    throw new Error('the report reads the local DuckDB warehouse (WAREHOUSE=duckdb)');
  }
  const prices = loadPriceTable(o.prices ?? defaultPricesPath(env));
  const warehouse = new DuckDbWarehouse({
    ...(config.WAREHOUSE_PATH && { path: config.WAREHOUSE_PATH }),
    lockWaitMs: 30_000,
  });
  try {
    if (o.load !== false) {
      try {
        log(`loaded from Kafka first: ${formatLoad(await drainIntoWarehouse(config, warehouse))}`);
      } catch (err) {
        log(`warning: could not load new events (${(err as Error).message}); reporting what the warehouse holds`); // prettier-ignore
      }
    }
    const report = await dayReport(warehouse, day, prices);
    const chartPath = o.chart ?? path.join(paths().home, 'reports', `latency-${day}.png`);
    mkdirSync(path.dirname(chartPath), { recursive: true });
    writeFileSync(chartPath, latencyChartPng(day, report.latency));
    return { report, chartPath, text: formatReport(report), ms: performance.now() - started };
  } finally {
    await warehouse.close();
  }
}

/** Columns: numbers right-aligned, text left-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '  (none)';
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const numeric = headers.map((_, i) => rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) =>
    '  ' + r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(cells[0]!), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n'); // prettier-ignore
}

const ms = (v: number) => Math.round(v * 10) / 10;
const money = (v: number) => Number(v.toFixed(4));

export function formatReport(r: DayReport): string {
  const out = [
    `Switchboard report for ${r.day} (UTC)`,
    '',
    `Calls: ${r.calls}   turns: ${r.turns}   call minutes: ${r.callMinutes.toFixed(1)}`,
    '',
    'Dispositions',
    table(
      ['disposition', 'calls'],
      r.dispositions.map((d) => [d.disposition, d.calls]),
    ),
    '',
    'Intents (in call intent paths)',
    table(
      ['intent', 'count'],
      r.intents.map((i) => [i.intent, i.count]),
    ),
  ];
  if (r.qaFlags.length) {
    out.push(
      '',
      'QA flags',
      table(
        ['flag', 'calls'],
        r.qaFlags.map((f) => [f.flag, f.calls]),
      ),
    );
  }
  out.push(
    '',
    'Provider fallbacks',
    table(
      ['stage', 'failed provider', 'served by', 'count'],
      r.fallbacks.map((f) => [f.stage, f.failed, f.servedBy, f.count]),
    ),
    '',
    'Latency per stage (ms)',
    table(
      ['stage', 'turns', 'p50', 'p95'],
      r.latency.map((l) => [l.stage, l.turns, ms(l.p50), ms(l.p95)]),
    ),
    '',
    `Cost (${r.currency})`,
    table(
      ['stage', 'provider', 'quantity', 'unit', 'cost'],
      r.costs.map((c) => [
        c.stage,
        c.provider + (c.unpriced ? ' (unpriced)' : ''),
        Number(c.quantity.toFixed(2)),
        c.unit,
        money(c.cost),
      ]),
    ),
    `  total: ${money(r.totalCost)} ${r.currency}`,
  );
  return out.join('\n');
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      "the day's calls, intents, dispositions, fallbacks, latency p50/p95 per stage and cost, " +
        'with a PNG latency chart (loads waiting events from Kafka first)',
    )
    .requiredOption('--day <YYYY-MM-DD>', 'the UTC day')
    .option('--prices <file>', 'price table (YAML or JSON)', defaultPricesPath())
    .option('--chart <file.png>', 'where to write the latency chart')
    .option('--no-load', 'do not load new events from Kafka first')
    .action(async (o: { day: string; prices: string; chart?: string; load: boolean }) => {
      const run = await runReport({
        day: o.day,
        prices: o.prices,
        load: o.load,
        ...(o.chart && { chart: o.chart }),
      });
      console.log(run.text);
      console.log(`\nLatency chart: ${run.chartPath}`);
      console.log(`(report took ${(run.ms / 1000).toFixed(1)} s)`);
    });
}
