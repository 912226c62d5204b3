// Chooses how the edge decides a caller's turn is over, by measurement on telephone-band
// audio (testing/turn-corpus.ts: complete turns, and turns with a pause mid-sentence, between
// digit groups or after "um"). Each strategy runs the edge's own Endpointer frame by frame,
// with the turn model's answer arriving as many frames later as the model really took:
//   (a) the fixed 400 ms hangover (today's default);
//   (b) Smart Turn v3.2 asked after PROBE ms of silence: finished → end now, unfinished →
//       wait up to 1500 ms;
//   (c) Silero VAD v6 vs WebRTC VAD: per-frame agreement with an energy reference (clean and
//       with white noise at 15 dB SNR) and speech starts on noise alone.
// Reported: mean/p95 time from the end of speech to the end of turn (complete turns; for
// incomplete ones, from the end of their second part), premature cut rate (incomplete turns
// ended during their pause), model ms per inference p50/p95.
//
//   npx tsx bench/turn-eval.ts        → bench/results/turn-eval.json, turn-eval.md
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { FRAME_MS, splitFrames } from '../audio/frames';
import { mulawToPcm, pcmToMulaw } from '../audio/mulaw';
import { Endpointer } from '../media-edge/audio/endpointer';
import { SileroVad } from '../media-edge/audio/silero-vad';
import { SmartTurnModel } from '../media-edge/audio/smart-turn';
import { createVad, type Vad } from '../media-edge/audio/vad';
import { buildTurnCorpus, energyReference, type Turn } from '../testing/turn-corpus';
import { concatPcm, whiteNoise } from '../testing/speech-audio';
import { pct } from './percentile';

const RESULTS = path.join(__dirname, 'results');
const HANGOVER_MS = 400;
const MAX_WAIT_MS = 1500;
const THRESHOLD = 0.5;

type VadName = 'webrtc' | 'silero';

async function makeVad(name: VadName): Promise<Vad & { settled?: () => Promise<void> }> {
  return name === 'silero' ? SileroVad.create() : createVad();
}

/** Per-frame decisions of a VAD over a whole clip (Silero's answers awaited frame by frame). */
async function decisions(name: VadName, pcm: Int16Array): Promise<boolean[]> {
  const vad = await makeVad(name);
  const out: boolean[] = [];
  for (const f of splitFrames(pcm, 8000)) {
    out.push(vad.isSpeech(f));
    await vad.settled?.();
  }
  vad.close();
  return out;
}

interface Strategy {
  name: string;
  vad: VadName;
  probeMs?: number;
}

interface TurnRun {
  /** When the endpointer ended turns (ms of the stream clock, decision time). */
  ends: number[];
  modelMs: number[];
}

const model = new SmartTurnModel();

/** Runs one turn through the Endpointer; the model's answer lands after its real latency. */
async function runTurn(turn: Turn, vadDecisions: boolean[], s: Strategy): Promise<TurnRun> {
  const frames = splitFrames(turn.pcm, 8000);
  const modelMs: number[] = [];
  let asked: { atFrame: number } | undefined;
  let answer: { due: number; resolve: () => void } | undefined;
  let k = 0;
  const ep = new Endpointer({
    hangoverMs: HANGOVER_MS,
    ...(s.probeMs !== undefined && {
      turn: {
        probeMs: s.probeMs,
        maxWaitMs: MAX_WAIT_MS,
        isComplete: () =>
          new Promise<boolean>((resolve) => {
            asked = { atFrame: k };
            pendingResolve = resolve;
          }),
      },
    }),
  });
  let pendingResolve: ((v: boolean) => void) | undefined;
  const ends: number[] = [];
  for (k = 0; k < frames.length; k++) {
    if (answer && k >= answer.due) {
      answer.resolve();
      answer = undefined;
      await new Promise((r) => setImmediate(r)); // the verdict lands before this frame
    }
    const ev = ep.push(vadDecisions[k]!);
    if (ev?.type === 'speech_end') ends.push((k + 1) * FRAME_MS);
    if (asked) {
      const audio = concatPcm(...frames.slice(Math.max(0, k + 1 - 400), k + 1));
      const t0 = performance.now();
      const p = await model.endOfTurnProbability(audio);
      const ms = performance.now() - t0;
      modelMs.push(ms);
      const resolve = pendingResolve!;
      answer = { due: k + 1 + Math.ceil(ms / FRAME_MS), resolve: () => resolve(p >= THRESHOLD) };
      asked = undefined;
    }
  }
  return { ends, modelMs };
}

interface StrategyResult {
  name: string;
  vad: VadName;
  probeMs?: number;
  completeTurns: number;
  incompleteTurns: number;
  endLatencyMeanMs: number;
  endLatencyP50Ms: number;
  endLatencyP95Ms: number;
  /** Turns never ended within the clip (counted as a miss, not in latency). */
  missedEnds: number;
  prematureCutRate: number;
  prematureByKind: Record<string, string>;
  /** Complete turns cut before their speech ended (a VAD gap the strategy did not bridge). */
  completeCutEarly: number;
  modelCalls: number;
  modelMsP50?: number;
  modelMsP95?: number;
}

async function evaluate(turns: Turn[], vads: Record<VadName, boolean[][]>, s: Strategy) {
  const latencies: number[] = [];
  const modelMs: number[] = [];
  let missed = 0;
  let completeCutEarly = 0;
  const cuts: Record<string, [number, number]> = {};
  for (const [i, turn] of turns.entries()) {
    const run = await runTurn(turn, vads[s.vad][i]!, s);
    modelMs.push(...run.modelMs);
    const final = run.ends.find((t) => t >= turn.speechEndMs);
    if (final === undefined) missed++;
    else latencies.push(final - turn.speechEndMs);
    if (turn.pause) {
      const c = (cuts[turn.kind] ??= [0, 0]);
      c[1]++;
      if (run.ends.some((t) => t >= turn.pause!.startMs && t < turn.pause!.endMs)) c[0]++;
    } else if (run.ends.some((t) => t < turn.speechEndMs)) completeCutEarly++;
  }
  const incomplete = Object.values(cuts).reduce((a, [, n]) => a + n, 0);
  const cut = Object.values(cuts).reduce((a, [c]) => a + c, 0);
  const r: StrategyResult = {
    ...s,
    completeTurns: turns.length - incomplete,
    incompleteTurns: incomplete,
    endLatencyMeanMs: Math.round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    endLatencyP50Ms: pct(latencies, 50),
    endLatencyP95Ms: pct(latencies, 95),
    missedEnds: missed,
    prematureCutRate: +(cut / incomplete).toFixed(3),
    prematureByKind: Object.fromEntries(
      Object.entries(cuts).map(([k, [c, n]]) => [k, `${c}/${n}`]),
    ),
    completeCutEarly,
    modelCalls: modelMs.length,
    ...(modelMs.length > 0 && {
      modelMsP50: +pct(modelMs, 50).toFixed(1),
      modelMsP95: +pct(modelMs, 95).toFixed(1),
    }),
  };
  console.log(JSON.stringify(r));
  return r;
}

interface VadResult {
  vad: VadName;
  agreementClean: number;
  agreementNoisy: number;
  speechRecallClean: number;
  falseStartsOnNoise: number;
  noiseSeconds: number;
  msPerFrameP50: number;
}

/** White noise at `snrDb` below the speech's level (RMS over the frames that hold speech). */
function addNoise(pcm: Int16Array, snrDb: number, seed: number): Int16Array {
  const ref = energyReference(pcm);
  let e = 0;
  let n = 0;
  ref.forEach((speech, k) => {
    if (!speech) return;
    for (let i = k * 160; i < (k + 1) * 160; i++) e += pcm[i]! * pcm[i]!;
    n += 160;
  });
  const rms = Math.sqrt(e / Math.max(1, n));
  // Uniform noise in [−a, a] has RMS a/√3.
  const noise = whiteNoise(pcm.length, (Math.sqrt(3) * rms) / 10 ** (snrDb / 20), seed);
  return Int16Array.from(pcm, (s, i) => Math.max(-32768, Math.min(32767, s + noise[i]!)));
}

async function compareVad(name: VadName, turns: Turn[], clean: boolean[][]): Promise<VadResult> {
  let agree = 0;
  let agreeNoisy = 0;
  let total = 0;
  let speech = 0;
  let recalled = 0;
  for (const [i, t] of turns.entries()) {
    const ref = energyReference(t.pcm);
    const noisy = await decisions(name, phone(addNoise(t.pcm, 15, i + 1)));
    ref.forEach((r, k) => {
      total++;
      if (clean[i]![k] === r) agree++;
      if (noisy[k] === r) agreeNoisy++;
      if (r) {
        speech++;
        if (clean[i]![k]) recalled++;
      }
    });
  }
  // Noise alone: 3 levels × 10 s each; every speech_start is a false start.
  let falseStarts = 0;
  const levels = [300, 1000, 3000];
  for (const [j, amp] of levels.entries()) {
    const d = await decisions(name, phone(whiteNoise(80_000, amp, 99 + j)));
    const ep = new Endpointer({ hangoverMs: HANGOVER_MS });
    for (const v of d) if (ep.push(v)?.type === 'speech_start') falseStarts++;
  }
  const vad = await makeVad(name);
  const frames = splitFrames(turns[0]!.pcm, 8000);
  const times: number[] = [];
  for (const f of frames) {
    const t0 = performance.now();
    vad.isSpeech(f);
    await vad.settled?.();
    times.push(performance.now() - t0);
  }
  vad.close();
  return {
    vad: name,
    agreementClean: +(agree / total).toFixed(3),
    agreementNoisy: +(agreeNoisy / total).toFixed(3),
    speechRecallClean: +(recalled / speech).toFixed(3),
    falseStartsOnNoise: falseStarts,
    noiseSeconds: levels.length * 10,
    msPerFrameP50: +pct(times, 50).toFixed(3),
  };
}

const phone = (pcm: Int16Array) => mulawToPcm(pcmToMulaw(pcm));

function render(r: {
  strategies: StrategyResult[];
  vads: VadResult[];
  corpus: string;
  machine: string;
}): string {
  const lines = [
    `Turn detection on telephone-band audio (${r.corpus}); ${r.machine}.`,
    '',
    '| strategy | VAD | end of speech → end of turn, mean / p50 / p95 ms | premature cuts (incomplete turns) | by kind | complete turns cut early | missed ends | model ms p50 / p95 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.strategies.map(
      (s) =>
        `| ${s.name} | ${s.vad} | ${s.endLatencyMeanMs} / ${s.endLatencyP50Ms} / ${s.endLatencyP95Ms} | ${(s.prematureCutRate * 100).toFixed(1)} % | ${Object.entries(
          s.prematureByKind,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(
            ', ',
          )} | ${s.completeCutEarly} | ${s.missedEnds} | ${s.modelMsP50 !== undefined ? `${s.modelMsP50} / ${s.modelMsP95}` : '–'} |`,
    ),
    '',
    '| VAD | frame agreement with energy reference, clean | with white noise, 15 dB SNR | speech-frame recall, clean | speech starts on 30 s of noise alone | ms per frame p50 |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.vads.map(
      (v) =>
        `| ${v.vad} | ${(v.agreementClean * 100).toFixed(1)} % | ${(v.agreementNoisy * 100).toFixed(1)} % | ${(v.speechRecallClean * 100).toFixed(1)} % | ${v.falseStartsOnNoise} | ${v.msPerFrameP50} |`,
    ),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const turns = await buildTurnCorpus();
  const vads: Record<VadName, boolean[][]> = { webrtc: [], silero: [] };
  for (const t of turns) {
    vads.webrtc.push(await decisions('webrtc', t.pcm));
    vads.silero.push(await decisions('silero', t.pcm));
  }
  const strategies: Strategy[] = [
    { name: 'fixed 400 ms hangover', vad: 'webrtc' },
    { name: 'Smart Turn, probe 100 ms', vad: 'webrtc', probeMs: 100 },
    { name: 'Smart Turn, probe 200 ms', vad: 'webrtc', probeMs: 200 },
    { name: 'fixed 400 ms hangover', vad: 'silero' },
    { name: 'Smart Turn, probe 200 ms', vad: 'silero', probeMs: 200 },
  ];
  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, shared with other jobs`,
    corpus: `${turns.filter((t) => !t.pause).length} complete and ${turns.filter((t) => t.pause).length} incomplete turns, 8 synthetic voices, μ-law`,
    settings: { hangoverMs: HANGOVER_MS, maxWaitMs: MAX_WAIT_MS, threshold: THRESHOLD },
    strategies: [] as StrategyResult[],
    vads: [] as VadResult[],
  };
  for (const s of strategies) results.strategies.push(await evaluate(turns, vads, s));
  for (const v of ['webrtc', 'silero'] as const) {
    const r = await compareVad(v, turns, vads[v]);
    console.log(JSON.stringify(r));
    results.vads.push(r);
  }
  await mkdir(RESULTS, { recursive: true });
  await writeFile(path.join(RESULTS, 'turn-eval.json'), `${JSON.stringify(results, null, 2)}\n`);
  const md = render(results);
  await writeFile(path.join(RESULTS, 'turn-eval.md'), `${md}\n`);
  console.log(md);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
