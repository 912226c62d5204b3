// The shared test helper that synthesizes caller speech: engines, voices, rate, cache.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { audioCacheDir, speak } from '../../../testing/speech-audio';

describe('speak() test helper', () => {
  const saved = process.env.SWITCHBOARD_HOME;
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'speak-'));
    process.env.SWITCHBOARD_HOME = home;
  });
  after(async () => {
    if (saved === undefined) delete process.env.SWITCHBOARD_HOME;
    else process.env.SWITCHBOARD_HOME = saved;
    await rm(home, { recursive: true, force: true });
  });

  it('synthesizes 8 kHz speech once and serves repeats from the cache', async () => {
    const text = 'What is my balance?';
    const first = await speak(text);
    assert.equal(first.sampleRate, 8000);
    const seconds = first.samples.length / 8000;
    assert.ok(seconds > 0.8 && seconds < 3, `${seconds} s`);
    assert.ok(
      first.samples.some((v) => Math.abs(v) > 3000),
      'audible',
    );
    assert.equal(audioCacheDir(), path.join(home, 'cache', 'audio'));
    assert.equal((await readdir(audioCacheDir())).length, 1);
    const again = await speak(text);
    assert.deepEqual(again.samples, first.samples);
    assert.equal((await readdir(audioCacheDir())).length, 1);
  });

  it('gives other audio for another voice, engine, speaking rate or sample rate', async () => {
    const text = 'Pay my bill.';
    const variants = await Promise.all([
      speak(text),
      speak(text, { voice: 'en-gb' }),
      speak(text, { rate: 120 }),
      speak(text, { engine: 'flite', voice: 'kal' }),
      speak(text, { sampleRate: 16000 }),
    ]);
    const [base, gb, slow, flite, wide] = variants;
    assert.notDeepEqual(gb.samples, base.samples);
    assert.ok(slow.samples.length > base.samples.length * 1.15, 'slower speech lasts longer');
    assert.notDeepEqual(flite.samples, base.samples);
    assert.equal(wide.sampleRate, 16000);
    assert.ok(Math.abs(wide.samples.length - 2 * base.samples.length) <= 2);
    assert.equal((await readdir(audioCacheDir())).filter((f) => f.endsWith('.wav')).length, 6);
  });

  it('fails clearly for an unknown voice', async () => {
    await assert.rejects(
      speak('hello', { engine: 'flite', voice: 'nobody' }),
      /flite has no voice "nobody" \(has: kal, /,
    );
    await assert.rejects(speak('hello', { voice: 'nobody' }), /espeak-ng voice does not exist/);
  });
});
