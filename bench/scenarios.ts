// Task success on unseen voices: the scripted scenarios (testing/scenarios.ts) placed as real
// audio calls through the edge, spoken in synthetic voices that neither the agent (flite rms)
// nor the default simulated caller (flite kal) uses, with the edge's local recognizer as it
// ships (pocketsphinx, grammar from the dialogue's hints) and with LOCAL_STT=moonshine, in the
// same run. Each call is judged on what happened (workflow result and transcript, payments
// rows, history), never on the wording; the voice-to-voice times of its turns are a side figure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKnowledgeAnswerer } from '../conversation/answers/knowledge-answerer';
import { infraUp } from '../infra';
import { repoRoot } from '../infra/paths';
import { speechToTextFromEnv } from '../media-edge/edge-runtime';
import { loadEdgeSpeechConfig } from '../media-edge/speech-config';
import { describeItem } from '../simulator/caller-script';
import { voicesById, type Voice } from '../testing/asr-corpus';
import { CALLERS_WITH_A_BILL, startEdgeStack, type EdgeStack } from '../testing/edge-stack';
import { resetDb, teardownPlatform } from '../testing/platform';
import { callerVoice, runScenario, type ScenarioRun } from '../testing/scenario-run';
import { pickScenarios, type Scenario } from '../testing/scenarios';
import { installCompactLogging } from '../workers/logging';
import { pct } from './percentile';

/** How the edges end turns: TURN_DETECTOR from the environment, the shipped default without. */
const TURNS = loadEdgeSpeechConfig(process.env).TURN_DETECTOR;

export const STT_CONFIGS = ['pocketsphinx', 'moonshine', 'auto'] as const;
export type SttConfig = (typeof STT_CONFIGS)[number];
/** Run unless asked: today's default and Moonshine (`auto` is the two routed by the question). */
export const DEFAULT_STT_CONFIGS: SttConfig[] = ['pocketsphinx', 'moonshine'];
/** Voices none of the stack's parts speak in: not the agent's rms, not the caller's kal. */
export const UNSEEN_VOICES = ['flite-awb', 'flite-slt', 'espeak-en-us+f3'];
/** Calls placed at once; each pair starts on freshly seeded bills. */
const CONCURRENCY = 2;
/** Audio time per wall time of the simulated callers (as in `bench --faults`). */
const PACE = 2;
const TARGET = { successPct: 95, p50Ms: 300, p95Ms: 500 };

export interface CallRow {
  stt: SttConfig;
  voice: string;
  scenario: string;
  category: string;
  ok: boolean;
  failed: string[];
  /** What the caller said or keyed, and what the workflow heard from the edge. */
  said: string[];
  heard: string[];
  intents: string[];
  disposition?: string;
  agent: string[];
  payments: number;
  /** Caller-side voice-to-voice of each spoken turn (last word → first reply audio), wall ms. */
  voiceToVoiceMs: number[];
}

const rowOf = (stt: SttConfig, voice: string, r: ScenarioRun): CallRow => ({
  stt,
  voice,
  scenario: r.scenario.name,
  category: r.scenario.category,
  ok: r.verdict.ok,
  failed: r.verdict.failed,
  said: r.scenario.script.map(describeItem),
  heard: r.outcome.transcript.filter((e) => e.speaker === 'caller').map((e) => e.text),
  intents: r.outcome.result?.intentPath ?? [],
  ...(r.outcome.result && { disposition: r.outcome.result.disposition }),
  agent: r.outcome.transcript.filter((e) => e.speaker === 'agent').map((e) => e.text),
  payments: r.outcome.payments.payments,
  voiceToVoiceMs: r.outcome.report.turns.flatMap((t) =>
    t.item && t.voiceToVoiceMs !== undefined ? [t.voiceToVoiceMs] : [],
  ),
});

export async function runScenarioBench(
  opts: {
    voices?: string[];
    only?: string[];
    stt?: SttConfig[];
    out?: string;
    /** Callers say a line once more when the agent asks for it again. */
    patient?: boolean;
  } = {},
): Promise<void> {
  const patient = opts.patient ?? false;
  const voices = voicesById(opts.voices ?? UNSEEN_VOICES);
  const scenarios = pickScenarios(opts.only);
  const configs = opts.stt ?? DEFAULT_STT_CONFIGS;
  const out = opts.out ?? 'latest';
  try {
    installCompactLogging('WARN');
  } catch {
    // A runtime is already installed (the CLI's): keep it.
  }
  await infraUp({ quiet: true });
  const startedAt = new Date().toISOString();
  const load = os.loadavg();
  console.log(
    `[bench] scenarios: ${scenarios.length} × ${voices.length} voices (${voices.map((v) => v.id).join(', ')}) × ` +
      `${configs.join(' and ')}, ${CONCURRENCY} calls at a time, pace ${PACE}${patient ? ', patient callers' : ''}, turns end by ${TURNS}; load ${load.map((l) => l.toFixed(1)).join(' ')}`,
  );
  // The local stack's answer (the extractive answer first, as ANSWER_EXTRACTIVE_FIRST=auto does
  // without a cloud model), with the template behind it instead of SmolLM2: no LLM server in
  // the way.
  const answerer = await createKnowledgeAnswerer({
    env: { ...process.env, LLM_CHAIN: 'template', ANSWER_EXTRACTIVE_FIRST: 'true' },
  });
  const stacks = new Map<SttConfig, EdgeStack>();
  const rows: CallRow[] = [];
  try {
    // Both edges at once, one call worker between them: each voice runs through both in turn.
    for (const [i, stt] of configs.entries()) {
      stacks.set(
        stt,
        await startEdgeStack({
          callWorker: i === 0,
          answerer,
          stt: await speechToTextFromEnv({ LOCAL_STT: stt }),
          // TURN_DETECTOR from the environment: the set measured with another way of ending turns.
          env: {
            TTS_CACHE_NAMESPACE: `bench-scenarios-${process.pid}`,
            TURN_DETECTOR: TURNS,
          },
        }),
      );
    }
    for (const voice of voices) {
      for (const stt of configs) {
        const done = await runSet(stacks.get(stt)!, scenarios, voice, patient, (r) => {
          const row = rowOf(stt, voice.id, r);
          rows.push(row);
          console.log(
            `  ${stt} ${voice.id} ${row.scenario}: ${row.ok ? 'ok' : `FAILED (${row.failed.join('; ')}) heard ${JSON.stringify(row.heard)}`}`,
          );
        });
        const ok = done.filter((r) => r.verdict.ok).length;
        console.log(`[bench] ${stt} ${voice.id}: ${ok}/${done.length}`);
        writeResults(out, { startedAt, load, voices, configs, scenarios, rows, patient });
      }
    }
  } finally {
    for (const s of [...stacks.values()].reverse()) await s.stop();
    await teardownPlatform();
  }
  console.log(
    renderMarkdown(
      summarize(
        rows,
        configs,
        voices.map((v) => v.id),
      ),
    ),
  );
  console.log(`results: bench/results/scenarios/${out}.json, ${out}.md`);
}

/** Every scenario in one voice, CONCURRENCY calls at a time, each pair on fresh bills. */
async function runSet(
  stack: EdgeStack,
  scenarios: Scenario[],
  voice: Voice,
  patient: boolean,
  onRun: (r: ScenarioRun) => void,
): Promise<ScenarioRun[]> {
  const tts = callerVoice(voice);
  const runs: ScenarioRun[] = [];
  for (let i = 0; i < scenarios.length; i += CONCURRENCY) {
    const db = await resetDb(); // the demo customers' bills open again
    const batch = scenarios.slice(i, i + CONCURRENCY);
    const done = await Promise.all(
      batch.map((s, slot) =>
        runScenario(stack, db, s, {
          from: CALLERS_WITH_A_BILL[slot]!,
          voice: tts,
          pace: PACE,
          patient,
        }),
      ),
    );
    done.forEach(onRun);
    runs.push(...done);
  }
  return runs;
}

interface Tally {
  ok: number;
  n: number;
  pct: number;
}
const tally = (rows: CallRow[]): Tally => {
  const ok = rows.filter((r) => r.ok).length;
  return { ok, n: rows.length, pct: rows.length ? Math.round((ok / rows.length) * 1000) / 10 : 0 };
};
const latency = (rows: CallRow[]) => {
  const xs = rows.flatMap((r) => r.voiceToVoiceMs);
  return { turns: xs.length, p50: Math.round(pct(xs, 50)), p95: Math.round(pct(xs, 95)) };
};

interface Summary {
  configs: SttConfig[];
  voices: string[];
  byVoice: { stt: SttConfig; voice: string; success: Tally; voiceToVoice: ReturnType<typeof latency> }[]; // prettier-ignore
  byCategory: { stt: SttConfig; category: string; voices: Record<string, Tally> }[];
  voiceToVoice: Record<string, ReturnType<typeof latency>>;
  failures: CallRow[];
}

function summarize(rows: CallRow[], configs: SttConfig[], voices: string[]): Summary {
  const of = (stt: SttConfig, voice?: string) =>
    rows.filter((r) => r.stt === stt && (voice === undefined || r.voice === voice));
  const categories = [...new Set(rows.map((r) => r.category))];
  return {
    configs,
    voices,
    byVoice: configs.flatMap((stt) =>
      voices
        .filter((voice) => of(stt, voice).length > 0)
        .map((voice) => ({
          stt,
          voice,
          success: tally(of(stt, voice)),
          voiceToVoice: latency(of(stt, voice)),
        })),
    ),
    byCategory: configs.flatMap((stt) =>
      categories.map((category) => ({
        stt,
        category,
        voices: Object.fromEntries(
          voices.map((v) => [v, tally(of(stt, v).filter((r) => r.category === category))]),
        ),
      })),
    ),
    voiceToVoice: Object.fromEntries(configs.map((stt) => [stt, latency(of(stt))])),
    failures: rows.filter((r) => !r.ok),
  };
}

const cell = (t: Tally) => (t.n ? `${t.ok}/${t.n} (${t.pct} %)` : '–');

export function renderMarkdown(s: Summary): string {
  const lines = [
    `Task success per voice (target ≥ ${TARGET.successPct} % in every voice):`,
    '',
    `| recognizer | ${s.voices.join(' | ')} | voice-to-voice p50 / p95 |`,
    `|---|${s.voices.map(() => '---|').join('')}---|`,
    ...s.configs.map((stt) => {
      const v2v = s.voiceToVoice[stt]!;
      const cells = s.voices.map((v) => {
        const row = s.byVoice.find((b) => b.stt === stt && b.voice === v);
        return row ? cell(row.success) : '–';
      });
      return `| ${stt} | ${cells.join(' | ')} | ${v2v.p50} / ${v2v.p95} ms (${v2v.turns} turns) |`;
    }),
    '',
    'Per category:',
    '',
    `| category | ${s.configs.flatMap((c) => s.voices.map((v) => `${c} ${v}`)).join(' | ')} |`,
    `|---|${s.configs.flatMap(() => s.voices.map(() => '---|')).join('')}`,
    ...[...new Set(s.byCategory.map((b) => b.category))].map((category) => {
      const cells = s.configs.flatMap((stt) => {
        const row = s.byCategory.find((b) => b.stt === stt && b.category === category)!;
        return s.voices.map((v) => {
          const t = row.voices[v]!;
          return t.n ? `${t.ok}/${t.n}` : '–';
        });
      });
      return `| ${category} | ${cells.join(' | ')} |`;
    }),
    '',
    `Failures (${s.failures.length}):`,
    '',
    ...s.failures.map(
      (f) =>
        `- ${f.stt} · ${f.voice} · **${f.scenario}**: ${f.failed.join('; ')}. Said ${JSON.stringify(f.said)}; ` +
        `heard ${JSON.stringify(f.heard)}; intents ${f.intents.join(' → ') || 'none'}; ${f.disposition ?? 'no result'}`,
    ),
  ];
  return lines.join('\n') + '\n';
}

function writeResults(
  out: string,
  r: {
    startedAt: string;
    load: number[];
    voices: Voice[];
    configs: SttConfig[];
    scenarios: Scenario[];
    rows: CallRow[];
    patient: boolean;
  },
): void {
  const summary = summarize(
    r.rows,
    r.configs,
    r.voices.map((v) => v.id),
  );
  const dir = path.join(repoRoot, 'bench', 'results', 'scenarios');
  fs.mkdirSync(dir, { recursive: true });
  const doc = {
    benchmark: 'scenarios',
    startedAt: r.startedAt,
    writtenAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, loadAtStart: r.load },
    options: { concurrency: CONCURRENCY, pace: PACE, answerer: 'template', patient: r.patient, turnDetector: TURNS }, // prettier-ignore
    voiceSettings: r.voices,
    scenarios: r.scenarios.map((s) => ({ name: s.name, category: s.category })),
    target: {
      ...TARGET,
      successMet: summary.byVoice.every((b) => b.success.pct >= TARGET.successPct),
    },
    ...summary,
    calls: r.rows,
  };
  fs.writeFileSync(path.join(dir, `${out}.json`), JSON.stringify(doc, null, 2) + '\n');
  fs.writeFileSync(
    path.join(dir, `${out}.md`),
    `# Task success on unseen voices\n\nRun ${r.startedAt}, written ${doc.writtenAt}; ${os.cpus().length} CPUs, ` +
      `load at start ${r.load.map((l) => l.toFixed(1)).join(' ')}; ${CONCURRENCY} calls at a time, pace ${PACE}` +
      `${r.patient ? '; patient callers (a line asked for again is said once more)' : ''}; turns end by ${TURNS}.\n\n` +
      renderMarkdown(summary),
  );
}
