// The two local voices side by side — flite (rms, a process per utterance) and Piper
// en_US-joe-medium (in-process ONNX, a clause at a time): time to first audio when a
// sentence is synthesized whole and when only its first clause is, at 1 and at 5
// syntheses at once; CPU per second of speech; and how well the local recognizers hear each
// voice back over the product's lines (the fixed prompts and balance replies with amounts
// and dates): pocketsphinx dictation (as bench/pieces.ts; its old acoustic model favours
// flite) and Moonshine tiny-en (a neural recognizer, closer to a human ear).
//   npx tsx bench/voices.ts [rounds]
import fs from 'node:fs';
import path from 'node:path';
import { mulawToPcm } from '../audio/mulaw';
import { ensurePiperVoice } from '../infra/install';
import { repoRoot } from '../infra/paths';
import { MoonshineSpeechToText } from '../providers/stt/moonshine';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import type { SpeechToText } from '../providers/stt/port';
import { LocalTts } from '../providers/tts/local';
import { PiperTts } from '../providers/tts/piper';
import { splitClauses } from '../providers/tts/piper-phonemes';
import type { TextToSpeech } from '../providers/tts/port';
import { isPause, spokenWords } from '../providers/tts/spoken-words';
import { PROMPTS } from '../workflows/call-state';
import { balanceSentences } from '../testing/balance-sentences';
import { wordErrors } from '../testing/asr-corpus';
import { pct } from './percentile';

const CLOCK_TICKS = 100; // Linux USER_HZ: /proc/self/stat counts CPU in 1/100 s

/** The product's lines: every fixed prompt, then balance replies. */
function productLines(balances: number): string[] {
  return [...Object.values(PROMPTS), ...balanceSentences(balances, 11)];
}

/** CPU seconds of this process and its reaped children (flite runs as children). */
function cpuSeconds(): number {
  const own = process.cpuUsage();
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const children = (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS; // cutime, cstime
  return (own.user + own.system) / 1e6 + children;
}

interface Latency {
  p50: number;
  p95: number;
}
const summary = (xs: number[]): Latency => ({ p50: pct(xs, 50), p95: pct(xs, 95) });

interface VoiceRun {
  voice: string;
  /** Piper: clauses run at once by the shared model (TTS_PIPER_CONCURRENCY). */
  pool?: number;
  concurrency: number;
  /** The whole first sentence of a line synthesized, then played. */
  firstSentenceMs: Latency;
  /** Only its first clause (up to a comma, semicolon or sentence end). */
  firstClauseMs: Latency;
  /** CPU seconds per second of speech produced. */
  cpuPerAudioSecond: number;
}

/** Time to first audio over `lines` with `concurrency` syntheses at once. */
async function latency(
  tts: TextToSpeech,
  lines: string[],
  concurrency: number,
  pool?: number,
): Promise<VoiceRun> {
  const sentence: number[] = [];
  const clause: number[] = [];
  let audioMs = 0;
  const cpu0 = cpuSeconds();
  let next = 0;
  const worker = async () => {
    while (next < lines.length) {
      const text = lines[next++]!;
      const first = text.match(/^.*?[.!?](?=\s|$)/)?.[0] ?? text;
      let t = performance.now();
      audioMs += (await tts.synthesize(first)).durationMs;
      sentence.push(performance.now() - t);
      const firstClause = splitClauses(first)[0]!;
      t = performance.now();
      if (tts instanceof PiperTts) {
        // Piper's own clause stream: the first clause is ready, the rest still to come.
        const clauses = tts.clauses(first);
        const got = await clauses.next();
        clause.push(performance.now() - t);
        await clauses.return(undefined);
        audioMs += got.value ? got.value.length / 8 : 0;
      } else {
        audioMs += (await tts.synthesize(`${firstClause.text}${firstClause.end}`)).durationMs;
        clause.push(performance.now() - t);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    voice: tts.voice,
    ...(pool !== undefined && { pool }),
    concurrency,
    firstSentenceMs: summary(sentence),
    firstClauseMs: summary(clause),
    cpuPerAudioSecond: (cpuSeconds() - cpu0) / (audioMs / 1000),
  };
}

/** Word error rate of a voice heard back by a recognizer. */
async function intelligibility(tts: TextToSpeech, lines: string[], stt: SpeechToText) {
  let errors = 0;
  let words = 0;
  for (const text of lines) {
    const audio = await tts.synthesize(text);
    const want = spokenWords(text).filter((w) => !isPause(w));
    const heard = await stt.transcribe({ samples: mulawToPcm(audio.mulaw), sampleRate: 8000 });
    errors += wordErrors(want, heard.text.toLowerCase().split(/\s+/).filter(Boolean));
    words += want.length;
  }
  return { voice: tts.voice, recognizer: stt.name, words, werPercent: (100 * errors) / words };
}

export async function runVoicesBench(balances: number): Promise<void> {
  await ensurePiperVoice();
  const lines = productLines(balances);
  const voices: TextToSpeech[] = [new LocalTts(), new PiperTts()];
  const piperPair = new PiperTts({ maxConcurrent: 2 }); // two model runs at once, for ×5
  for (const tts of [...voices, piperPair]) await tts.synthesize(PROMPTS.anythingElse); // load, warm
  console.log(`[bench] ${lines.length} product lines (${balances} balance replies)`);
  const runs: VoiceRun[] = [];
  const plan: [TextToSpeech, number, number?][] = [
    [voices[0]!, 1],
    [voices[1]!, 1, 1],
    [voices[0]!, 5],
    [voices[1]!, 5, 1],
    [piperPair, 5, 2],
  ];
  for (const [tts, concurrency, pool] of plan) {
    const r = await latency(tts, lines, concurrency, pool);
    runs.push(r);
    const label = pool === undefined ? r.voice : `${r.voice} pool ${pool}`;
    console.log(
      `[bench] ${label.padEnd(29)} ×${concurrency}: first sentence p50 ${r.firstSentenceMs.p50.toFixed(0)} ms, p95 ${r.firstSentenceMs.p95.toFixed(0)} ms | first clause p50 ${r.firstClauseMs.p50.toFixed(0)} ms, p95 ${r.firstClauseMs.p95.toFixed(0)} ms | CPU ${r.cpuPerAudioSecond.toFixed(3)} s per s of speech`,
    );
  }
  const recognizers: SpeechToText[] = [
    new PocketsphinxSpeechToText({ mode: 'dictation', poolSize: 1 }),
    new MoonshineSpeechToText({ poolSize: 1 }),
  ];
  const heard = [];
  for (const stt of recognizers) {
    // A fresh decoder's first utterance is poorly recognised: warm it up once.
    const warm = await voices[0]!.synthesize(PROMPTS.anythingElse);
    await stt.transcribe({ samples: mulawToPcm(warm.mulaw), sampleRate: 8000 });
    for (const tts of voices) {
      const h = await intelligibility(tts, lines, stt);
      heard.push(h);
      console.log(
        `[bench] ${h.voice.padEnd(22)} heard back by ${h.recognizer}: WER ${h.werPercent.toFixed(1)} % over ${h.words} words`,
      );
    }
  }
  const dir = path.join(repoRoot, 'bench', 'results', 'voices');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'latest.json'),
    JSON.stringify(
      {
        benchmark: 'voices',
        startedAt: new Date().toISOString(),
        lines: lines.length,
        runs,
        heard,
      },
      null,
      2,
    ) + '\n',
  );
  console.log('results: bench/results/voices/latest.json');
}

if (require.main === module) {
  runVoicesBench(Number(process.argv[2] ?? 20)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
