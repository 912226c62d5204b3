// Resampling measured on synthetic tones: pitch, level and timing survive; what would alias
// (downsampling) or image (upsampling) is removed; streaming equals whole-buffer.
import assert from 'node:assert/strict';
import { resample, Resampler } from '../../audio/resample';
import { sine } from '../../testing/speech-audio';

const AMPLITUDE = 10000;

function zeroCrossings(x: Int16Array): number {
  let n = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1]! < 0 !== x[i]! < 0) n++;
  return n;
}

function rms(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

/** Level of one frequency in dB relative to a full sine of AMPLITUDE (Goertzel). */
function toneDb(x: Int16Array, freq: number, rate: number): number {
  const w = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const amplitude = (2 * Math.sqrt(s1 * s1 + s2 * s2 - c * s1 * s2)) / x.length;
  return 20 * Math.log10(Math.max(amplitude, 1e-9) / AMPLITUDE);
}

/** Drops the edges, where the filter sees the zeros around the signal. */
const middle = (x: Int16Array, rate: number) => x.subarray(rate / 100, x.length - rate / 100);

const PAIRS: [number, number][] = [
  [8000, 16000],
  [16000, 8000],
  [22050, 8000],
  [24000, 8000],
  [44100, 8000],
];

describe('resample', () => {
  for (const [from, to] of PAIRS) {
    it(`${from} → ${to} Hz keeps pitch, level and timing of in-band tones`, () => {
      for (const freq of [300, 1000, 3000]) {
        const x = sine(freq, 1000, from, AMPLITUDE);
        const y = resample(x, from, to);
        assert.equal(y.length, to);
        // 1 s of a tone crosses zero 2·freq times.
        assert.ok(
          Math.abs(zeroCrossings(y) - 2 * freq) <= 1,
          `${freq} Hz: ${zeroCrossings(y)} crossings`,
        );
        const levelDb = 20 * Math.log10(rms(middle(y, to)) / (AMPLITUDE / Math.SQRT2));
        assert.ok(Math.abs(levelDb) < 0.1, `${freq} Hz: level ${levelDb.toFixed(2)} dB`);
        // Sample by sample against the ideal tone at the new rate: no delay, little error.
        const ideal = sine(freq, 1000, to, AMPLITUDE);
        let worst = 0;
        for (let i = to / 100; i < to - to / 100; i++)
          worst = Math.max(worst, Math.abs(y[i]! - ideal[i]!));
        assert.ok(worst < 0.005 * AMPLITUDE, `${freq} Hz: worst sample error ${worst}`);
      }
    });
  }

  it('removes tones above the new Nyquist instead of folding them into the band', () => {
    const cases: [number, number, number][] = [
      [16000, 6000, 2000],
      [16000, 4500, 3500],
      [22050, 5000, 3000],
      [22050, 9000, 1000],
      [24000, 7000, 1000],
    ];
    for (const [from, freq, alias] of cases) {
      const x = sine(freq, 1000, from, AMPLITUDE);
      // Plain decimation folds the tone to `alias` at full level: the measurement can see it.
      const step = from / 8000;
      const naive = Int16Array.from({ length: 8000 }, (_, i) => x[Math.floor(i * step)]!);
      assert.ok(toneDb(naive, alias, 8000) > -3, `${from}/${freq}: naive alias not measured`);
      const y = resample(x, from, 8000);
      const db = toneDb(middle(y, 8000), alias, 8000);
      assert.ok(db < -65, `${freq} Hz at ${from} Hz aliases to ${alias} Hz at ${db.toFixed(1)} dB`);
    }
  });

  it('upsampling 8 → 16 kHz leaves no image of the band above 4 kHz', () => {
    for (const freq of [1000, 3000, 3400]) {
      const y = resample(sine(freq, 1000, 8000, AMPLITUDE), 8000, 16000);
      const image = toneDb(middle(y, 16000), 8000 - freq, 16000);
      assert.ok(image < -65, `${freq} Hz images at ${8000 - freq} Hz, ${image.toFixed(1)} dB`);
      assert.ok(Math.abs(toneDb(middle(y, 16000), freq, 16000)) < 0.1);
    }
  });

  it('streams in 20 ms chunks (or any chunking) with output identical to the whole buffer', () => {
    for (const [from, to] of PAIRS) {
      const x = sine(700, 1000, from, AMPLITUDE);
      const whole = resample(x, from, to);
      for (const chunk of [(from * 20) / 1000, 37]) {
        const r = new Resampler(from, to);
        const parts: number[] = [];
        for (let i = 0; i < x.length; i += chunk)
          parts.push(...r.process(x.subarray(i, i + chunk)));
        parts.push(...r.flush());
        assert.deepEqual(parts, Array.from(whole), `${from} → ${to}, chunks of ${chunk}`);
      }
    }
  });

  it('streams 8 → 16 kHz with under 2 ms of delay', () => {
    const r = new Resampler(8000, 16000);
    const first = r.process(new Int16Array(160));
    assert.equal(first.length + r.latencySamples, 320);
    assert.ok(r.latencySamples / 16 < 2, `${r.latencySamples} samples`);
    r.flush();
    assert.throws(() => r.process(new Int16Array(160)), /flushed/);
  });

  it('keeps DC at unity gain and clamps overshoot instead of wrapping', () => {
    const dc = resample(new Int16Array(8000).fill(1000), 8000, 16000);
    for (const v of middle(dc, 16000)) assert.ok(Math.abs(v - 1000) <= 1, `DC became ${v}`);
    // A full-scale square wave rings past ±32767 after filtering; it must saturate.
    const square = Int16Array.from({ length: 16000 }, (_, i) =>
      Math.floor(i / 40) % 2 ? -32768 : 32767,
    );
    const y = resample(square, 16000, 8000);
    const mid = middle(y, 8000);
    for (let i = 0; i < mid.length; i++) {
      const expectedSign = Math.floor((i + 80) / 20) % 2 ? -1 : 1;
      const atEdge = (i + 80) % 20 <= 2 || (i + 80) % 20 >= 18;
      if (!atEdge) assert.equal(Math.sign(mid[i]!), expectedSign, `sample ${i}: ${mid[i]}`);
    }
  });

  it('returns a copy for equal rates and rejects bad rates', () => {
    const x = sine(440, 20, 8000);
    const y = resample(x, 8000, 8000);
    assert.notEqual(y, x);
    assert.deepEqual(y, x);
    assert.throws(() => resample(x, 0, 8000), RangeError);
    assert.throws(() => resample(x, 8000, 11025.5), RangeError);
    assert.equal(resample(new Int16Array(0), 16000, 8000).length, 0);
  });
});
