// WebRTC VAD on real synthesized speech, passed through the phone line's μ-law codec.
import assert from 'node:assert/strict';
import { splitFrames } from '../../../audio/frames';
import { rms } from '../../../audio/level';
import { mulawToPcm, pcmToMulaw } from '../../../audio/mulaw';
import { createVad, type Vad, type VadMode } from '../../../media-edge/audio/vad';
import {
  concatPcm,
  silence,
  speak,
  whiteNoise,
  type SpeakOptions,
} from '../../../testing/speech-audio';

const SENTENCE = 'Hello, I would like to check the balance on my account, please.';
const VOICES: SpeakOptions[] = [
  { voice: 'en-us' },
  { voice: 'en-gb+f3', rate: 140 },
  { engine: 'flite', voice: 'slt' },
];

const line = (pcm: Int16Array) => mulawToPcm(pcmToMulaw(pcm));
const decide = (vad: Vad, pcm: Int16Array) => splitFrames(pcm, 8000).map((f) => vad.isSpeech(f));
const count = (d: boolean[]) => d.filter(Boolean).length;

/** First and last frame above -60 dBFS: where the voice is, measured without the VAD. */
function voicedSpan(pcm: Int16Array): [number, number] {
  const loud = splitFrames(pcm, 8000).map((f) => rms(f) > 30);
  return [loud.indexOf(true), loud.lastIndexOf(true)];
}

describe('VAD (fvad-wasm, 8 kHz)', function () {
  const vads: Vad[] = [];
  const open = async (mode?: VadMode) => {
    const v = await createVad(mode === undefined ? {} : { mode });
    vads.push(v);
    return v;
  };
  after(() => vads.forEach((v) => v.close()));

  it('hears nothing in digital silence, in any mode', async () => {
    for (const mode of [0, 1, 2, 3] as const) {
      assert.equal(count(decide(await open(mode), line(silence(3000)))), 0, `mode ${mode}`);
    }
  });

  it('does not take low-level white noise for speech in mode 3', async () => {
    for (const amplitude of [100, 300, 1000]) {
      const d = decide(await open(3), line(whiteNoise(5 * 8000, amplitude, amplitude)));
      // The detector's first 80 ms are unsettled; after that it must stay quiet.
      assert.ok(count(d.slice(5)) === 0, `±${amplitude}: ${count(d)} of ${d.length} frames`);
      assert.ok(count(d) <= 4);
    }
  });

  for (const opts of VOICES) {
    it(`marks a spoken sentence as speech within its voiced span (${opts.engine ?? 'espeak-ng'} ${opts.voice})`, async () => {
      const speech = await speak(SENTENCE, opts);
      assert.equal(speech.sampleRate, 8000);
      const pcm = line(concatPcm(silence(1000), speech.samples, silence(1000)));
      const [first, last] = voicedSpan(pcm);
      assert.ok(first >= 50 && last - first > 75, `voiced span ${first}–${last}`); // > 1.5 s of voice
      for (const mode of [2, 3] as const) {
        const d = decide(await open(mode), pcm);
        const inside = count(d.slice(first, last + 1)) / (last + 1 - first);
        assert.ok(inside >= 0.85, `mode ${mode}: ${(inside * 100).toFixed(0)} % of voiced frames`);
        // Nothing in the silences, save the detector's own hang-over (≤ 200 ms) after the voice.
        assert.equal(count(d.slice(0, first)), 0, `mode ${mode}: speech before the voice`);
        assert.equal(count(d.slice(last + 11)), 0, `mode ${mode}: speech long after the voice`);
      }
    });
  }

  it('keeps each detector’s state separate when calls interleave', async () => {
    const a = line(concatPcm((await speak(SENTENCE)).samples, whiteNoise(8000, 2000, 7)));
    const b = line(
      concatPcm(
        whiteNoise(4000, 500, 9),
        (await speak('Pay my bill.', { voice: 'en-gb' })).samples,
      ),
    );
    const alone = [decide(await open(), a), decide(await open(), b)];
    const [va, vb] = [await open(), await open()];
    const fa = splitFrames(a, 8000);
    const fb = splitFrames(b, 8000);
    const mixed: [boolean[], boolean[]] = [[], []];
    for (let i = 0; i < Math.max(fa.length, fb.length); i++) {
      if (fa[i]) mixed[0].push(va.isSpeech(fa[i]!));
      if (fb[i]) mixed[1].push(vb.isSpeech(fb[i]!));
    }
    assert.deepEqual(mixed, alone);
  });

  it('resets to a fresh detector’s behaviour, rejects wrong frame sizes, and closes', async () => {
    const pcm = line(concatPcm(whiteNoise(8000, 3000, 3), (await speak(SENTENCE)).samples));
    const v = await open(3);
    const fresh = decide(v, pcm);
    decide(v, pcm);
    v.reset();
    assert.deepEqual(decide(v, pcm), fresh);
    assert.throws(() => v.isSpeech(new Int16Array(320)), /160 samples/);
    v.close();
    v.close();
    assert.throws(() => v.isSpeech(new Int16Array(160)), /closed/);
    await assert.rejects(createVad({ mode: 4 as VadMode }), RangeError);
  });
});
