// What a recognizer's own process costs an utterance: the time from the caller's last frame
// to the transcript (what the caller waits for), each local engine in the edge's process
// against the same engine in a process of its own, utterance by utterance in one run (the
// two take turns going first). Frames are written 20 ms of audio at a time at real-time pace
// (`--fast`: as fast as they come), as the edge writes them. `npx tsx bench/engine-process.ts
// [rounds] [--fast]` writes bench/results/engine-process/latest.json.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot, silentLog } from '../infra/paths';
import { ensureMoonshine } from '../infra/install';
import { EngineProcessSpeechToText, type EngineName } from '../providers/stt/engine-process';
import { MoonshineSpeechToText } from '../providers/stt/moonshine';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import type { WarmableSpeechToText } from '../providers/stt/port';
import { buildCorpus, HINTS, TEXTS } from '../testing/asr-corpus';
import { pct } from './percentile';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 2);
const paced = !args.includes('--fast');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Streams one utterance; the milliseconds from its last frame to its transcript. */
async function finishMs(stt: WarmableSpeechToText, samples: Int16Array, hints: string[]) {
  const s = await stt.open({ sampleRate: 8000, hints });
  for (let i = 0; i < samples.length; i += 160) {
    s.write(samples.subarray(i, i + 160));
    if (paced) await sleep(20);
  }
  const t0 = performance.now();
  await s.finish();
  return performance.now() - t0;
}

const stats = (xs: number[]) => ({
  n: xs.length,
  p50: +pct(xs, 50).toFixed(1),
  p95: +pct(xs, 95).toFixed(1),
  p99: +pct(xs, 99).toFixed(1),
});

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const corpus = (await buildCorpus(TEXTS.filter((t) => t.state !== 'digits'))).slice(0, 24);
  const moonshineDir = await ensureMoonshine(silentLog);
  const engines: Array<[EngineName, WarmableSpeechToText, EngineProcessSpeechToText]> = [
    ['pocketsphinx', new PocketsphinxSpeechToText(), new EngineProcessSpeechToText('pocketsphinx')],
    [
      'moonshine',
      new MoonshineSpeechToText({ dir: moonshineDir }),
      new EngineProcessSpeechToText('moonshine'),
    ],
  ];
  const results: Record<string, unknown> = {};
  for (const [name, inProcess, own] of engines) {
    inProcess.warm?.();
    await own.ready();
    const times = { inProcess: [] as number[], ownProcess: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      for (const [i, u] of corpus.entries()) {
        const hints = HINTS[u.state];
        const pair = [
          ['inProcess', inProcess],
          ['ownProcess', own],
        ] as const;
        for (const [k, stt] of (i + r) % 2 ? [...pair].reverse() : pair)
          times[k].push(await finishMs(stt, u.audio.samples, hints));
      }
      console.log(`${name}: round ${r + 1}/${rounds} done`);
    }
    const a = stats(times.inProcess);
    const b = stats(times.ownProcess);
    results[name] = { inProcess: a, ownProcess: b, ratioP50: +(b.p50 / a.p50).toFixed(2) };
    console.log(
      `${name}: last frame → transcript p50/p95/p99 in the edge's process ${a.p50}/${a.p95}/${a.p99} ms, ` +
        `in its own ${b.p50}/${b.p95}/${b.p99} ms (×${(b.p50 / a.p50).toFixed(2)} at p50)`,
    );
    inProcess.dispose?.();
    own.dispose();
  }
  const out = path.join(repoRoot, 'bench/results/engine-process/latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify({ startedAt, rounds, paced, utterances: corpus.length, results }, null, 2) +
      '\n',
  );
  console.log(`wrote ${path.relative(repoRoot, out)}`);
}

void main();
