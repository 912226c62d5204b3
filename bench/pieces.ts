// Personal sentences said from prerecorded pieces (every synthesizer down) against the local
// engine saying them whole: synthesis time, audio length, and how well the local recognizer
// (pocketsphinx dictation) hears them back — word error rate against the spelled-out words.
// The sentences are the state machine's balance replies over seeded amounts and due dates.
//   npx tsx bench/pieces.ts [sentences]
import { mulawToPcm } from '../audio/mulaw';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import { LocalTts } from '../providers/tts/local';
import type { TextToSpeech } from '../providers/tts/port';
import { PiecewiseSpeech } from '../providers/tts/piecewise';
import { PROMPTS } from '../workflows/call-state';
import { isPause, spokenWords } from '../providers/tts/spoken-words';
import { balanceSentences } from '../testing/balance-sentences';
import { wordErrors } from '../testing/asr-corpus';
import { pct } from './percentile';

export async function runPiecesBench(count: number): Promise<void> {
  const sentences = balanceSentences(count, 7);
  const stt = new PocketsphinxSpeechToText({ mode: 'dictation', poolSize: 1 });
  const local = new LocalTts();
  // A fresh decoder's first utterance is poorly recognised: warm it up once.
  const warm = await local.synthesize(PROMPTS.anythingElse);
  await stt.transcribe({ samples: mulawToPcm(warm.mulaw), sampleRate: 8000 });
  console.log(`${sentences.length} balance sentences, e.g. "${sentences[0]}"`);
  for (const [name, tts] of [
    ['pieces', new PiecewiseSpeech()],
    ['local (flite, whole)', local],
  ] as [string, TextToSpeech][]) {
    const ms: number[] = [];
    const audioMs: number[] = [];
    let errors = 0;
    let words = 0;
    for (const text of sentences) {
      const started = performance.now();
      const audio = await tts.synthesize(text);
      ms.push(performance.now() - started);
      audioMs.push(audio.durationMs);
      const want = spokenWords(text).filter((w) => !isPause(w));
      const heard = await stt.transcribe({ samples: mulawToPcm(audio.mulaw), sampleRate: 8000 });
      errors += wordErrors(want, heard.text.toLowerCase().split(/\s+/).filter(Boolean));
      words += want.length;
    }
    console.log(
      `${name.padEnd(22)} synthesis p50 ${pct(ms, 50).toFixed(1)} ms, p95 ${pct(ms, 95).toFixed(1)} ms; ` +
        `audio p50 ${pct(audioMs, 50).toFixed(0)} ms; heard back: WER ${((100 * errors) / words).toFixed(1)} %`,
    );
  }
}

if (require.main === module) {
  runPiecesBench(Number(process.argv[2] ?? 40)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
