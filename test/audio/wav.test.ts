// WAV encode/decode, checked field by field and against sox as an independent reader/writer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeWav, encodeWav, readWav, writeWav } from '../../audio/wav';
import { sine } from '../../testing/speech-audio';

const run = promisify(execFile);

describe('wav', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wav-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a canonical 16-bit PCM header', () => {
    const buf = encodeWav({
      channels: [new Int16Array(8000), new Int16Array(8000)],
      sampleRate: 8000,
    });
    assert.equal(buf.length, 44 + 8000 * 4);
    assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
    assert.equal(buf.readUInt32LE(4), buf.length - 8);
    assert.equal(buf.toString('ascii', 8, 16), 'WAVEfmt ');
    assert.equal(buf.readUInt32LE(16), 16);
    assert.equal(buf.readUInt16LE(20), 1); // PCM
    assert.equal(buf.readUInt16LE(22), 2); // channels
    assert.equal(buf.readUInt32LE(24), 8000); // sample rate
    assert.equal(buf.readUInt32LE(28), 32000); // byte rate
    assert.equal(buf.readUInt16LE(32), 4); // block align
    assert.equal(buf.readUInt16LE(34), 16); // bits
    assert.equal(buf.toString('ascii', 36, 40), 'data');
    assert.equal(buf.readUInt32LE(40), 32000);
  });

  it('interleaves two channels, padding the shorter with silence, and round-trips', () => {
    const left = Int16Array.from([1, -2, 32767]);
    const right = Int16Array.from([-32768, 5]);
    const buf = encodeWav({ channels: [left, right], sampleRate: 16000 });
    const samples = Array.from({ length: 6 }, (_, i) => buf.readInt16LE(44 + 2 * i));
    assert.deepEqual(samples, [1, -32768, -2, 5, 32767, 0]);
    const back = decodeWav(buf);
    assert.equal(back.sampleRate, 16000);
    assert.deepEqual(
      back.channels.map((c) => Array.from(c)),
      [
        [1, -2, 32767],
        [-32768, 5, 0],
      ],
    );
  });

  it('is read by sox with the right format, and reads what sox writes', async () => {
    const tone = sine(1000, 500, 8000);
    const file = path.join(dir, 'ours.wav');
    await writeWav(file, { channels: [tone, tone.map((v) => -v)], sampleRate: 8000 });
    const info = (await run('soxi', [file])).stdout;
    assert.match(info, /Channels\s+: 2/);
    assert.match(info, /Sample Rate\s+: 8000/);
    assert.match(info, /= 4000 samples/);
    assert.match(info, /16-bit Signed Integer PCM/);
    // Through sox (channels swapped) and back.
    const swapped = path.join(dir, 'sox.wav');
    await run('sox', [file, swapped, 'remix', '2', '1']);
    const back = await readWav(swapped);
    assert.deepEqual(Array.from(back.channels[0]!), Array.from(tone.map((v) => -v)));
    assert.deepEqual(Array.from(back.channels[1]!), Array.from(tone));
    // sox writes WAVE_FORMAT_EXTENSIBLE and a fact chunk before the data for > 2 channels.
    const four = path.join(dir, 'four.wav');
    await run('sox', ['-M', file, file, four]);
    const quad = await readWav(four);
    assert.equal(quad.channels.length, 4);
    assert.deepEqual(Array.from(quad.channels[2]!), Array.from(tone));
  });

  it('reads a WAV whose data size was left as a placeholder (written to a pipe)', async () => {
    const piped = (await run('espeak-ng', ['--stdout', 'hello there'], { encoding: 'buffer' }))
      .stdout;
    assert.equal(piped.readUInt32LE(40), 0x7ffff000); // espeak-ng cannot seek back to fix it
    const wav = decodeWav(piped);
    assert.equal(wav.sampleRate, 22050);
    assert.equal(wav.channels[0]!.length, (piped.length - 44) / 2);
  });

  it('refuses other encodings and non-WAV input with a clear error', async () => {
    const mulaw = path.join(dir, 'mulaw.wav');
    await run('sox', [
      '-n',
      '-r',
      '8000',
      '-e',
      'mu-law',
      '-c',
      '1',
      mulaw,
      'synth',
      '0.1',
      'sine',
      '500',
    ]);
    await assert.rejects(
      readWav(mulaw),
      /unsupported WAV encoding \(format 7, 8-bit\): only 16-bit PCM/,
    );
    const float = path.join(dir, 'float.wav');
    await run('sox', [
      '-n',
      '-r',
      '8000',
      '-e',
      'float',
      '-b',
      '32',
      '-c',
      '1',
      float,
      'synth',
      '0.1',
      'sine',
      '500',
    ]);
    await assert.rejects(readWav(float), /format 3, 32-bit/);
    assert.throws(() => decodeWav(Buffer.from('hello world, not a wav')), /not a WAV file/);
    const headerOnly = encodeWav({ channels: [new Int16Array(4)], sampleRate: 8000 }).subarray(
      0,
      36,
    );
    assert.throws(() => decodeWav(headerOnly), /no data chunk/);
    assert.throws(() => encodeWav({ channels: [], sampleRate: 8000 }), RangeError);
    assert.throws(() => encodeWav({ channels: [new Int16Array(1)], sampleRate: 0 }), RangeError);
  });
});
