// Silero VAD v6 at 8 kHz on real synthesized speech through the μ-law line, behind the same
// Vad interface as WebRTC VAD: decisions are per 20 ms frame, one 32 ms chunk behind at most.
import assert from 'node:assert/strict';
import { splitFrames } from '../../../audio/frames';
import { mulawToPcm, pcmToMulaw } from '../../../audio/mulaw';
import { SileroVad } from '../../../media-edge/audio/silero-vad';
import { VadWithBackup } from '../../../media-edge/audio/caller-audio';
import { createVad } from '../../../media-edge/audio/vad';
import { concatPcm, silence, speak, whiteNoise } from '../../../testing/speech-audio';

const line = (pcm: Int16Array) => mulawToPcm(pcmToMulaw(pcm));

async function decide(vad: SileroVad, pcm: Int16Array): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const f of splitFrames(line(pcm), 8000)) {
    out.push(vad.isSpeech(f));
    await vad.settled();
  }
  return out;
}

describe('Silero VAD (8 kHz)', () => {
  it('hears speech where the voice is and none in the silence around it', async () => {
    const vad = await SileroVad.create();
    const speech = (await speak('I would like to check the balance on my account')).samples;
    const d = await decide(vad, concatPcm(silence(600), speech, silence(800)));
    const lead = 600 / 20;
    const voiced = Math.floor(speech.length / 160);
    assert.equal(d.slice(0, lead).filter(Boolean).length, 0, 'speech in the leading silence');
    const heard = d.slice(lead, lead + voiced).filter(Boolean).length;
    assert.ok(heard > voiced * 0.6, `${heard} of ${voiced} speech frames`);
    assert.equal(d.slice(-20).filter(Boolean).length, 0, 'speech 400 ms after the voice');
    vad.close();
  });

  it('does not take steady noise for speech', async () => {
    const vad = await SileroVad.create();
    const d = await decide(vad, whiteNoise(40_000, 2000, 7));
    assert.ok(
      d.filter(Boolean).length < d.length * 0.05,
      `${d.filter(Boolean).length} noise frames`,
    );
    vad.close();
  });

  it('reset() forgets the call so far; a closed VAD refuses frames', async () => {
    const vad = await SileroVad.create();
    const speech = (await speak('yes please')).samples;
    const d = await decide(vad, speech);
    assert.ok(d.some(Boolean));
    vad.reset();
    assert.equal(vad.isSpeech(new Int16Array(160)), false);
    assert.throws(() => vad.isSpeech(new Int16Array(100)), RangeError);
    vad.close();
    assert.throws(() => vad.isSpeech(new Int16Array(160)), /closed/);
  });
});

describe('Silero VAD with WebRTC standing by', () => {
  it('hands the call to WebRTC VAD when Silero fails mid-call, and says so once', async () => {
    const failures: unknown[] = [];
    let frames = 0;
    const breaking = {
      isSpeech: () => {
        if (++frames > 5) throw new Error('onnx run failed');
        return true;
      },
      reset: () => undefined,
      close: () => undefined,
    };
    const vad = new VadWithBackup(breaking, await createVad(), (err) => failures.push(err));
    const speech = splitFrames(line((await speak('what is my balance')).samples), 8000);
    const d = speech.map((f) => vad.isSpeech(f));
    assert.deepEqual(d.slice(0, 5), [true, true, true, true, true]);
    assert.ok(d.slice(5).some(Boolean), 'the backup hears the speech');
    assert.equal(failures.length, 1);
    assert.equal(vad.isSpeech(new Int16Array(160)), false);
    vad.close();
  });
});
