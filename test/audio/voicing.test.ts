// Voicing on real audio through the phone line's μ-law codec: listening words in every local
// voice have a voice; cough- and crackle-like bursts of shaped noise (sox, repeatable) have
// next to none.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { splitFrames } from '../../audio/frames';
import { rms } from '../../audio/level';
import { mulawToPcm, pcmToMulaw } from '../../audio/mulaw';
import { decodeWav } from '../../audio/wav';
import { syllables, voicedMs, voiceExplained, VoicingMeter } from '../../audio/voicing';
import { createVad } from '../../media-edge/audio/vad';
import { Listener, type Utterance } from '../../media-edge/call/listener';
import { CallRecorder } from '../../media-edge/call/recorder';
import { concatPcm, silence, speak, type SpeakOptions } from '../../testing/speech-audio';

const run = promisify(execFile);
const line = (pcm: Int16Array) => mulawToPcm(pcmToMulaw(pcm));
/** The edge's floor (FALSE_INTERRUPTION_MIN_VOICED_MS). */
const FLOOR_MS = 100;

describe('voicing: a voice or a noise', function () {
  this.timeout(60_000);

  it('listening words and short answers have a voice, in every local voice', async () => {
    const voices: SpeakOptions[] = [
      ...['awb', 'rms', 'kal', 'slt'].map((voice) => ({ engine: 'flite' as const, voice })),
      { voice: 'en-us' },
      { voice: 'en-us+f3' },
    ];
    for (const opts of voices)
      for (const said of ['okay', 'uh-huh', 'yeah', 'mhm', 'no', 'yes', 'right']) {
        const { samples: pcm } = await speak(said, opts);
        const ms = voicedMs(splitFrames(line(pcm), 8000));
        assert.ok(ms >= FLOOR_MS + 60, `${opts.voice} "${said}": ${ms} ms voiced`);
      }
  });

  it('coughs and crackles have next to none', async () => {
    const wav = path.join(tmpdir(), `noise-${process.pid}.wav`);
    try {
      for (const color of ['brownnoise', 'pinknoise', 'whitenoise'])
        for (const centre of [400, 600, 1000, 1600])
          for (const seconds of [0.3, 0.6]) {
            // -R: the same noise every run.
            await run('sox', [
              ...['-R', '-n', '-r', '8000', '-c', '1', '-b', '16', wav],
              ...['synth', String(seconds), color, 'bandpass', String(centre), '400h'],
              ...['fade', 'q', '0.01', String(seconds), '0.3', 'gain', '-n', '-3'],
            ]);
            const [samples] = decodeWav(await readFile(wav)).channels;
            const ms = voicedMs(splitFrames(line(samples!), 8000));
            assert.ok(ms < FLOOR_MS, `${color} at ${centre} Hz, ${seconds} s: ${ms} ms voiced`);
          }
    } finally {
      await rm(wav, { force: true });
    }
  });
});

/** The definition, tried lag by lag from the shortest: what the meter must agree with. */
function voicedByDefinition(prev: Int16Array, cur: Int16Array): boolean {
  if (rms(cur) < 100) return false;
  const w = [...prev, ...cur];
  for (let lag = 20; lag <= 133 && lag < w.length; lag++) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 0; i + lag < w.length; i++) {
      xy += w[i]! * w[i + lag]!;
      xx += w[i]! * w[i]!;
      yy += w[i + lag]! * w[i + lag]!;
    }
    if (xx > 0 && yy > 0 && xy / Math.sqrt(xx * yy) >= 0.5) return true;
  }
  return false;
}

describe('voicing: the meter', function () {
  this.timeout(60_000);

  it('judges every frame as the definition does, whatever pitch it tried first', async () => {
    const frames: Int16Array[] = [];
    for (const voice of ['kal', 'slt'])
      for (const said of ["what's my balance", 'uh-huh', 'yes please'])
        frames.push(...splitFrames(line((await speak(said, { engine: 'flite', voice })).samples), 8000)); // prettier-ignore
    // Tones at every pitch in and out of range under noise, and noise alone (a fixed seed).
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let k = 0; k < 3000; k++) {
      const f = new Int16Array(160);
      const period = 15 + random() * 140;
      const [tone, noise] = [random() * 8000, random() * 8000];
      for (let i = 0; i < 160; i++)
        f[i] = Math.round(tone * Math.sin((2 * Math.PI * (k * 160 + i)) / period) + noise * (random() - 0.5)); // prettier-ignore
      frames.push(f);
    }
    const meter = new VoicingMeter();
    let voiced = 0;
    for (let i = 1; i < frames.length; i++) {
      const expected = voicedByDefinition(frames[i - 1]!, frames[i]!);
      assert.equal(meter.isVoiced(frames[i - 1]!, frames[i]!), expected, `frame ${i}`);
      if (expected) voiced++;
    }
    assert.ok(voiced > frames.length / 4 && voiced < (frames.length * 3) / 4, `${voiced} voiced`);
  });

  it('an utterance counted only when asked has the voice of one counted frame by frame', async () => {
    const pcm = concatPcm(silence(400), (await speak('okay I think so')).samples, silence(1000));
    const vad = await createVad();
    const heard = async (weighed: () => boolean): Promise<Utterance[]> => {
      const utterances: Utterance[] = [];
      const listener = new Listener({
        vad,
        recognizer: () => ({
          write: () => undefined,
          finish: () => Promise.resolve({ text: '', confidence: 0, record: { attempts: [] } }),
          abort: () => undefined,
        }),
        recorder: new CallRecorder(),
        onSpeaking: () => undefined,
        onUtterance: (u) => utterances.push(u),
        voiceWeighed: weighed,
      });
      for (const f of splitFrames(pcm, 8000)) listener.frame(pcmToMulaw(f));
      return utterances;
    };
    let frames = 0;
    const [always, never, midway] = [
      await heard(() => true),
      await heard(() => false),
      // Weighed from its 10th frame on (the agent began to speak over it).
      await heard(() => ++frames > 10),
    ];
    vad.close();
    assert.equal(always.length, 1);
    const ms = always[0]!.voicedMs();
    assert.ok(ms >= 300, `${ms} ms voiced`);
    assert.equal(never[0]!.voicedMs(), ms);
    assert.equal(midway[0]!.voicedMs(), ms);
  });
});

describe('voicing: how far the words explain the voice', () => {
  it('counts syllables by vowel groups', () => {
    for (const [text, n] of [
      ['sure', 1],
      ['yes', 1],
      ['okay', 2],
      ['yes please', 2],
      ['yeah go ahead', 4],
      ['I am not sure', 4],
      ["no don't do that", 4],
      ['the', 1],
    ] as const)
      assert.equal(syllables(text), n, text);
  });

  it('one syllable explains little of a long voice; enough words explain all of it', () => {
    assert.equal(voiceExplained('sure', 800, 300), 300 / 800);
    assert.equal(voiceExplained('I am not sure', 800, 300), 1);
    assert.equal(voiceExplained('yes', 0, 300), 1, 'no voice measured: nothing to doubt');
  });
});
