// Voice-to-voice latency on the local stack: simulated callers speak real audio at
// real-time pace to an in-process edge (VAD, endpointer, pocketsphinx, the call workflow on
// a dev server, flite behind the TTS cache, paced playout); each answered turn is split
// into endpointing, ASR, orchestration, TTS and first frame, from the caller's last voiced
// frame to the first agent frame sent. The caller-side figure (to the first frame received)
// is printed beside it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../infra/paths';
import { installCompactLogging } from '../workers/logging';
import { placeAudioCall } from '../simulator/twilio-caller';
import { startEdgeStack } from '../test/helpers/edge-stack';
import { resetDb, teardownPlatform } from '../test/helpers/platform';

const TARGET = { p50Ms: 600, p95Ms: 800 };
// Deterministic turns; the balance first so the reply differs from the cached greeting.
const SCRIPT = [
  "what's my balance",
  'I want to pay my bill',
  'no',
  "what's my balance",
  'how much do I owe',
];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

export async function runVoiceBench(opts: { calls: number; rounds: number }): Promise<void> {
  console.log(
    `voice-to-voice bench: ${opts.calls} concurrent calls × ${opts.rounds} rounds of ${SCRIPT.length} turns, real-time pace`,
  );
  try {
    installCompactLogging('WARN');
  } catch {
    // A runtime is already installed (the CLI's): keep it.
  }
  await resetDb();
  const stack = await startEdgeStack();
  const callerSide: number[] = [];
  try {
    for (let round = 0; round < opts.rounds; round++) {
      await resetDb(); // Ada's bill stays open for every round
      const reports = await Promise.all(
        Array.from({ length: opts.calls }, (_, i) =>
          placeAudioCall({
            edgeUrl: stack.edgeUrl,
            publicUrl: stack.config.publicUrl,
            authToken: stack.config.twilioAuthToken,
            from: ['+15550100001', '+15550100002', '+15550100004'][i % 3]!,
            to: '+15550009999',
            script: SCRIPT.map((text) => ({ kind: 'say' as const, text })),
            thinkMs: 300 + i * 37, // callers do not all speak on the same frame
            print: () => undefined,
          }),
        ),
      );
      for (const r of reports)
        for (const t of r.turns)
          if (t.voiceToVoiceMs !== undefined) callerSide.push(t.voiceToVoiceMs);
      console.log(
        `round ${round + 1}/${opts.rounds}: ${stack.runtime.calls.turnTimings.length} turns so far`,
      );
    }
  } finally {
    await stack.stop();
    await teardownPlatform();
  }
  const timings = stack.runtime.calls.turnTimings;
  const stages = [
    'endpointingMs',
    'asrMs',
    'orchestrationMs',
    'ttsMs',
    'firstFrameMs',
    'voiceToVoiceMs',
  ] as const;
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(28)}${pct(xs, 50).toFixed(1).padStart(9)}${pct(xs, 95).toFixed(1).padStart(9)}${pct(xs, 99).toFixed(1).padStart(9)}`;
  console.log(
    `\n${'stage (ms)'.padEnd(28)}${'p50'.padStart(9)}${'p95'.padStart(9)}${'p99'.padStart(9)}   (${timings.length} turns)`,
  );
  for (const s of stages)
    console.log(
      row(
        s,
        timings.map((t) => t[s]),
      ),
    );
  console.log(row('caller-side voice-to-voice', callerSide));
  const v2v = timings.map((t) => t.voiceToVoiceMs);
  const result = {
    benchmark: 'voice-to-voice',
    startedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    options: opts,
    turns: timings.length,
    cacheHits: timings.filter((t) => t.cacheHit).length,
    stages: Object.fromEntries(
      stages.map((s) => [
        s,
        {
          p50: pct(
            timings.map((t) => t[s]),
            50,
          ),
          p95: pct(
            timings.map((t) => t[s]),
            95,
          ),
          p99: pct(
            timings.map((t) => t[s]),
            99,
          ),
        },
      ]),
    ),
    callerSide: { p50: pct(callerSide, 50), p95: pct(callerSide, 95), p99: pct(callerSide, 99) },
    target: { ...TARGET, met: pct(v2v, 50) <= TARGET.p50Ms && pct(v2v, 95) <= TARGET.p95Ms },
  };
  const dir = path.join(repoRoot, 'bench', 'results', 'voice');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(
    `target p50 ≤ ${TARGET.p50Ms} ms, p95 ≤ ${TARGET.p95Ms} ms: ${result.target.met ? 'met' : 'MISSED'}; results: bench/results/voice/latest.json`,
  );
}
