// G.711 μ-law: known code points, sox as an independent reference, and the quantizer's
// defining property (each sample maps to the nearest reconstruction level).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MULAW_SILENCE, mulawToPcm, pcmToMulaw } from '../../audio/mulaw';
import { sine } from '../../testing/speech-audio';

const run = promisify(execFile);
const ALL_CODES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** Every 16-bit sample value, ascending. */
function allSamples(): Int16Array {
  const all = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i - 32768;
  return all;
}

/** Runs sox on raw input and returns its raw output. */
async function soxRaw(input: Buffer, inArgs: string[], outArgs: string[]): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mulaw-'));
  try {
    await writeFile(path.join(dir, 'in.raw'), input);
    const common = ['-t', 'raw', '-r', '8000', '-c', '1'];
    await run('sox', [
      ...common,
      ...inArgs,
      path.join(dir, 'in.raw'),
      '-D',
      ...common,
      ...outArgs,
      path.join(dir, 'out.raw'),
    ]);
    return await readFile(path.join(dir, 'out.raw'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('μ-law codec', () => {
  it('decodes the known code points', () => {
    const pcm = mulawToPcm(Uint8Array.from([0xff, 0x7f, 0x00, 0x80, 0xfe, 0x7e, 0xef, 0x6f]));
    assert.deepEqual(Array.from(pcm), [0, 0, -32124, 32124, 8, -8, 132, -132]);
  });

  it('decodes all 256 codes exactly as sox does', async () => {
    const raw = await soxRaw(
      ALL_CODES,
      ['-e', 'mu-law', '-b', '8'],
      ['-e', 'signed-integer', '-b', '16', '-L'],
    );
    const sox = new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + 512));
    assert.deepEqual(Array.from(mulawToPcm(ALL_CODES)), Array.from(sox));
  });

  it('encodes silence as 0xFF and clips full scale to the outermost codes', () => {
    assert.equal(MULAW_SILENCE, 0xff);
    assert.deepEqual(
      [...pcmToMulaw(Int16Array.from([0, 32767, 32635, -32768, -32635]))],
      [0xff, 0x80, 0x80, 0x00, 0x00],
    );
    assert.deepEqual(
      Array.from(mulawToPcm(pcmToMulaw(new Int16Array(160)))),
      new Array(160).fill(0),
    );
  });

  it('quantizes monotonically, within half a step of the chosen segment (all 65536 inputs)', () => {
    const all = allSamples();
    const codes = pcmToMulaw(all);
    const decoded = mulawToPcm(codes);
    for (let i = 0; i < all.length; i++) {
      const x = all[i]!;
      if (i > 0) assert.ok(decoded[i]! >= decoded[i - 1]!, `not monotone at ${x}`);
      if (x < -32635 || x > 32635) continue;
      const segment = (~codes[i]! >> 4) & 0x07; // step is 2^(segment+3)
      const err = Math.abs(decoded[i]! - x);
      assert.ok(err <= 2 ** (segment + 2), `sample ${x} → ${decoded[i]} (segment ${segment})`);
    }
  });

  it('agrees with sox encoding, and where they differ ours is the nearer level', async () => {
    const all = allSamples();
    const raw = await soxRaw(
      Buffer.from(all.buffer),
      ['-e', 'signed-integer', '-b', '16', '-L'],
      ['-e', 'mu-law', '-b', '8'],
    );
    const ours = pcmToMulaw(all);
    const oursPcm = mulawToPcm(ours);
    const soxPcm = mulawToPcm(raw);
    let differ = 0;
    for (let i = 0; i < all.length; i++) {
      if (raw[i] === ours[i]) continue;
      differ++;
      const x = all[i]!;
      assert.ok(
        Math.abs(oursPcm[i]! - x) <= Math.abs(soxPcm[i]! - x),
        `sample ${x}: ours is farther`,
      );
    }
    // sox quantizes to 14 bits first (the Sun g711.c formulation); it matters only at decision edges.
    assert.ok(differ < 0.01 * all.length, `${differ} samples differ`);
  });

  it('round-trips a sine with the SNR G.711 promises (≈38 dB)', () => {
    for (const amplitude of [1000, 10000, 30000]) {
      const x = sine(1000, 1000, 8000, amplitude);
      const y = mulawToPcm(pcmToMulaw(x));
      let signal = 0;
      let noise = 0;
      for (let i = 0; i < x.length; i++) {
        signal += x[i]! ** 2;
        noise += (x[i]! - y[i]!) ** 2;
      }
      const snr = 10 * Math.log10(signal / noise);
      assert.ok(snr > 35 && snr < 42, `amplitude ${amplitude}: SNR ${snr.toFixed(1)} dB`);
    }
  });

  it('decodes and encodes into caller-supplied buffers', () => {
    const pcm = new Int16Array(160);
    const bytes = Buffer.alloc(160);
    const src = sine(440, 20, 8000);
    assert.equal(pcmToMulaw(src, bytes), bytes);
    assert.equal(mulawToPcm(bytes, pcm), pcm);
    assert.deepEqual(Array.from(pcm), Array.from(mulawToPcm(pcmToMulaw(src))));
    assert.throws(() => mulawToPcm(bytes, new Int16Array(10)), RangeError);
    assert.throws(() => pcmToMulaw(src, Buffer.alloc(10)), RangeError);
  });
});
