// Per-frame cost of the audio core, measured on real speech after warm-up. The budgets are
// loose (a 20 ms frame must cost a small fraction of 20 ms); the figures are printed.
import assert from 'node:assert/strict';
import { Endpointer } from '../../../media-edge/audio/endpointer';
import { chunkMulaw } from '../../../audio/frames';
import { mulawToPcm, pcmToMulaw } from '../../../audio/mulaw';
import { Resampler } from '../../../audio/resample';
import { createVad, type Vad } from '../../../media-edge/audio/vad';
import { concatPcm, silence, speak } from '../../../testing/speech-audio';

/** Best of `rounds` runs of fn over all frames, in µs per frame. */
function perFrame<T>(frames: T[], rounds: number, fn: (frame: T) => void): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (const f of frames) fn(f);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000 / frames.length);
  }
  return best;
}

describe('audio core cost per 20 ms frame', () => {
  let mulawFrames: Buffer[];
  let vad: Vad;

  before(async () => {
    const speech = await speak('Hello, I would like to check the balance on my account, please.');
    const pcm = concatPcm(speech.samples, silence(1000));
    // ≈ 40 s of call audio: speech with pauses, as the line delivers it.
    mulawFrames = chunkMulaw(pcmToMulaw(concatPcm(...Array.from({ length: 10 }, () => pcm))));
    vad = await createVad({ mode: 3 });
  });
  after(() => vad.close());

  it('decodes, detects voice, endpoints and upsamples far faster than real time', () => {
    const pcmFrames = mulawFrames.map((f) => mulawToPcm(f));
    const pcm = new Int16Array(160);
    const ep = new Endpointer();
    const up = new Resampler(8000, 16000);
    const decodeUs = perFrame(mulawFrames, 5, (f) => mulawToPcm(f, pcm));
    const encodeUs = perFrame(pcmFrames, 5, (f) => pcmToMulaw(f, Buffer.allocUnsafe(160)));
    const vadUs = perFrame(pcmFrames, 5, (f) => vad.isSpeech(f));
    const pipelineUs = perFrame(mulawFrames, 5, (f) => ep.push(vad.isSpeech(mulawToPcm(f, pcm))));
    const upUs = perFrame(pcmFrames, 5, (f) => up.process(f));
    console.log(
      `      µs per 20 ms frame: μ-law decode ${decodeUs.toFixed(2)}, encode ${encodeUs.toFixed(2)}, ` +
        `VAD ${vadUs.toFixed(1)}, decode+VAD+endpointer ${pipelineUs.toFixed(1)}, ` +
        `resample 8→16 kHz ${upUs.toFixed(1)} (${mulawFrames.length} frames)`,
    );
    assert.ok(vadUs < 200, `VAD ${vadUs} µs`);
    assert.ok(pipelineUs < 250, `pipeline ${pipelineUs} µs`);
    assert.ok(upUs < 200, `resample ${upUs} µs`);
    assert.ok(decodeUs < 20 && encodeUs < 20);
  });
});
