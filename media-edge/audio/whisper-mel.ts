// Whisper's log-mel features as Smart Turn v3 was trained on them: 8 s at 16 kHz (left
// zero-padded), waveform normalized to zero mean and unit variance, centred STFT (reflect
// padding, periodic Hann, n_fft 400, hop 160), power spectrum onto 80 Slaney mel filters,
// log10, floored at max − 8, scaled (x + 4) / 4. The last STFT frame is dropped → 80 × 800.
export const MEL_SAMPLE_RATE = 16000;
export const N_FFT = 400;
export const HOP = 160;
export const N_MELS = 80;
export const WINDOW_SAMPLES = MEL_SAMPLE_RATE * 8;
export const N_FRAMES = WINDOW_SAMPLES / HOP; // 800
const BINS = N_FFT / 2 + 1;

const hzToMel = (hz: number): number =>
  hz < 1000 ? (3 * hz) / 200 : 15 + Math.log(hz / 1000) * (27 / Math.log(6.4));
const melToHz = (mel: number): number =>
  mel < 15 ? (200 * mel) / 3 : 1000 * Math.exp((Math.log(6.4) / 27) * (mel - 15));

/** Slaney-scale, area-normalized triangular filters: [mel][bin], as librosa/Whisper build them. */
export function melFilterbank(
  nMels = N_MELS,
  nFft = N_FFT,
  sampleRate = MEL_SAMPLE_RATE,
): Float64Array[] {
  const bins = Math.floor(nFft / 2) + 1;
  const lo = hzToMel(0);
  const hi = hzToMel(sampleRate / 2);
  const edges = Array.from({ length: nMels + 2 }, (_, i) =>
    melToHz(lo + ((hi - lo) * i) / (nMels + 1)),
  );
  const fftHz = (k: number) => ((sampleRate / 2) * k) / (bins - 1);
  return Array.from({ length: nMels }, (_, m) => {
    const row = new Float64Array(bins);
    const [left, centre, right] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const norm = 2 / (right - left);
    for (let k = 0; k < bins; k++) {
      const f = fftHz(k);
      const w = Math.min((f - left) / (centre - left), (right - f) / (right - centre));
      row[k] = Math.max(0, w) * norm;
    }
    return row;
  });
}

const FILTERS = melFilterbank();
/** Each filter's non-zero bin range, so the projection skips the zeros. */
const SPANS = FILTERS.map((row) => {
  let a = 0;
  while (a < BINS && row[a] === 0) a++;
  let b = BINS - 1;
  while (b > a && row[b] === 0) b--;
  return [a, b + 1] as const;
});
const HANN = Float64Array.from(
  { length: N_FFT },
  (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT),
);
const COS = new Float64Array(BINS * N_FFT);
const SIN = new Float64Array(BINS * N_FFT);
for (let k = 0; k < BINS; k++) {
  for (let n = 0; n < N_FFT; n++) {
    const a = (2 * Math.PI * ((k * n) % N_FFT)) / N_FFT;
    COS[k * N_FFT + n] = Math.cos(a);
    SIN[k * N_FFT + n] = Math.sin(a);
  }
}
/** Power spectrum of a constant 1 under the window: frames inside the padding are this × c². */
const CONSTANT_POWER = powerSpectrum(new Float64Array(N_FFT).fill(1));

/** |DFT|² of one windowed frame (n_fft is not a power of two: a direct DFT from tables). */
function powerSpectrum(frame: Float64Array): Float64Array {
  const windowed = new Float64Array(N_FFT);
  for (let n = 0; n < N_FFT; n++) windowed[n] = frame[n]! * HANN[n]!;
  const out = new Float64Array(BINS);
  for (let k = 0; k < BINS; k++) {
    let re = 0;
    let im = 0;
    const base = k * N_FFT;
    for (let n = 0; n < N_FFT; n++) {
      re += windowed[n]! * COS[base + n]!;
      im -= windowed[n]! * SIN[base + n]!;
    }
    out[k] = re * re + im * im;
  }
  return out;
}

/**
 * Features of 16 kHz float audio in [-1, 1]: the last 8 s, zero-padded on the left when
 * shorter. Returns [mel][frame] flattened row-major (80 × 800), ready as `input_features`.
 */
export function whisperLogMel(audio: Float32Array): Float32Array {
  const x = new Float32Array(WINDOW_SAMPLES);
  const tail = audio.subarray(Math.max(0, audio.length - WINDOW_SAMPLES));
  x.set(tail, WINDOW_SAMPLES - tail.length);
  // Normalized over the whole padded window, as the reference does.
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) * (v - mean);
  variance /= x.length;
  const scale = 1 / Math.sqrt(variance + 1e-7);
  const pad = N_FFT / 2;
  const total = WINDOW_SAMPLES + 2 * pad;
  const padded = new Float64Array(total);
  for (let i = 0; i < total; i++) {
    let j = i - pad;
    if (j < 0) j = -j;
    else if (j >= WINDOW_SAMPLES) j = 2 * (WINDOW_SAMPLES - 1) - j; // reflect
    padded[i] = (x[j]! - mean) * scale;
  }

  const logMel = new Float64Array(N_MELS * N_FRAMES);
  let max = -Infinity;
  const frame = new Float64Array(N_FFT);
  for (let t = 0; t < N_FRAMES; t++) {
    frame.set(padded.subarray(t * HOP, t * HOP + N_FFT));
    let constant = true;
    for (let n = 1; n < N_FFT && constant; n++) constant = frame[n] === frame[0];
    let power: Float64Array;
    if (constant) {
      const c2 = frame[0]! * frame[0]!;
      power = CONSTANT_POWER.map((p) => p * c2);
    } else power = powerSpectrum(frame);
    for (let m = 0; m < N_MELS; m++) {
      const row = FILTERS[m]!;
      const [a, b] = SPANS[m]!;
      let e = 0;
      for (let k = a; k < b; k++) e += row[k]! * power[k]!;
      const v = Math.log10(Math.max(1e-10, e));
      logMel[m * N_FRAMES + t] = v;
      if (v > max) max = v;
    }
  }
  const out = new Float32Array(N_MELS * N_FRAMES);
  for (let i = 0; i < out.length; i++) out[i] = (Math.max(logMel[i]!, max - 8) + 4) / 4;
  return out;
}
