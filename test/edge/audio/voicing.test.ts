// Voicing on real audio through the phone line's μ-law codec: listening words in every local
// voice have a voice; cough- and crackle-like bursts of shaped noise (sox, repeatable) have
// next to none.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { splitFrames } from '../../../audio/frames';
import { mulawToPcm, pcmToMulaw } from '../../../audio/mulaw';
import { decodeWav } from '../../../audio/wav';
import { syllables, voicedMs, voiceExplained } from '../../../media-edge/audio/voicing';
import { speak, type SpeakOptions } from '../../../testing/speech-audio';

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
