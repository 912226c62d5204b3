// Rational-ratio sample-rate conversion with a Kaiser-windowed sinc low-pass (polyphase).
// The passband keeps the telephone band (to 3.4 kHz at 8 kHz). Downsampling (TTS output at
// 16/22.05/24 kHz → 8 kHz) stops at the new Nyquist, so nothing aliases. Upsampling (8 → 16
// kHz for ASR) uses a filter symmetric about the old Nyquist: images of the band land above
// 4.6 kHz and are rejected, and every second output is the input sample itself, which halves
// the per-frame cost. `Resampler` keeps state across chunks for the per-frame path;
// `resample()` does a whole buffer with the filter's delay removed.

const ATTENUATION_DB = 70;
/** Band edges as fractions of the lower of the two rates. */
const PASS_EDGE = 0.425;
const STOP_EDGE_DOWN = 0.5;
const STOP_EDGE_UP = 0.575;
/** Beyond this many polyphase branches the table gets large; no telephony rate pair needs it. */
const MAX_PHASES = 1024;

interface Filter {
  /** Output/input ratio reduced: L output samples per M input samples. */
  up: number;
  down: number;
  /** Taps each side of the output instant, in input samples. */
  half: number;
  /** coefs[p * 2 * half + k]: weight of input (i - half + 1 + k) for an output at i + p/up. */
  coefs: Float32Array;
  /** direct[p] = k when phase p's row is a unit impulse at tap k (output = one input), else -1. */
  direct: Int32Array;
}

const filters = new Map<string, Filter>();

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series; converges fast here). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function designFilter(fromRate: number, toRate: number): Filter {
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  if (up > MAX_PHASES) {
    throw new RangeError(
      `resampling ${fromRate} → ${toRate} Hz needs ${up} phases (max ${MAX_PHASES})`,
    );
  }
  const low = Math.min(fromRate, toRate);
  const stopEdge = toRate < fromRate ? STOP_EDGE_DOWN : STOP_EDGE_UP;
  const cutoff = (((PASS_EDGE + stopEdge) / 2) * low) / fromRate; // cycles per input sample
  const transition = (2 * Math.PI * (stopEdge - PASS_EDGE) * low) / fromRate; // rad per sample
  // Kaiser's estimates for length and shape from attenuation and transition width.
  const span = (ATTENUATION_DB - 8) / (2.285 * transition);
  const half = Math.ceil(span / 2);
  const beta = 0.1102 * (ATTENUATION_DB - 8.7);
  const i0Beta = besselI0(beta);
  const taps = 2 * half;
  const coefs = new Float32Array(up * taps);
  const direct = new Int32Array(up).fill(-1);
  for (let p = 0; p < up; p++) {
    let sum = 0;
    const row = new Float64Array(taps);
    for (let k = 0; k < taps; k++) {
      const t = p / up + half - 1 - k; // distance from the output instant, input samples
      const r = t / half;
      if (Math.abs(r) >= 1) continue;
      const x = 2 * cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = (2 * cutoff * sinc * besselI0(beta * Math.sqrt(1 - r * r))) / i0Beta;
      row[k] = w;
      sum += w;
    }
    // Unity gain at DC for every phase, so a constant stays constant.
    for (let k = 0; k < taps; k++) coefs[p * taps + k] = row[k]! / sum;
    const peak = row.findIndex((c) => Math.abs(c / sum - 1) < 1e-9);
    if (peak >= 0 && row.every((c, k) => k === peak || Math.abs(c / sum) < 1e-9)) direct[p] = peak;
  }
  return { up, down, half, coefs, direct };
}

function filterFor(fromRate: number, toRate: number): Filter {
  const key = `${fromRate}:${toRate}`;
  let f = filters.get(key);
  if (!f) {
    f = designFilter(fromRate, toRate);
    filters.set(key, f);
  }
  return f;
}

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate <= 0) {
    throw new RangeError(`${name} must be a positive integer (Hz), got ${rate}`);
  }
}

/** Streaming converter: feed chunks in order, `flush()` once at the end for the tail. */
export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  private readonly f: Filter | undefined;
  /** Pending input as floats; buf[0] is absolute input index `bufStart`. */
  private buf: Float32Array;
  private bufLen: number;
  private bufStart: number;
  /** Next output sample sits at input time `nextIn + nextPhase / up`. */
  private nextIn = 0;
  private nextPhase = 0;
  private inputCount = 0;
  private outputCount = 0;
  private flushed = false;

  constructor(fromRate: number, toRate: number) {
    checkRate('fromRate', fromRate);
    checkRate('toRate', toRate);
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.f = fromRate === toRate ? undefined : filterFor(fromRate, toRate);
    const half = this.f?.half ?? 0;
    // Zeros before the first sample let the first outputs use a full filter.
    this.buf = new Float32Array(Math.max(1024, 4 * half));
    this.bufLen = Math.max(half - 1, 0);
    this.bufStart = -this.bufLen;
  }

  /** Filter delay in output samples: how far output lags input while streaming. */
  get latencySamples(): number {
    return this.f ? Math.ceil((this.f.half * this.toRate) / this.fromRate) : 0;
  }

  process(pcm: Int16Array): Int16Array {
    if (this.flushed) throw new Error('Resampler was flushed; create a new one');
    if (!this.f) return pcm.slice();
    this.append(pcm);
    this.inputCount += pcm.length;
    return this.drain(Infinity);
  }

  /** Emits the remaining output so the total is ceil(inputs × toRate / fromRate). */
  flush(): Int16Array {
    if (this.flushed || !this.f) {
      this.flushed = true;
      return new Int16Array(0);
    }
    this.flushed = true;
    this.append(new Int16Array(this.f.half + 1));
    const total = Math.ceil((this.inputCount * this.f.up) / this.f.down);
    return this.drain(total - this.outputCount);
  }

  private append(pcm: Int16Array): void {
    const need = this.bufLen + pcm.length;
    if (need > this.buf.length) {
      const bigger = new Float32Array(Math.max(need, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.bufLen));
      this.buf = bigger;
    }
    this.buf.set(pcm, this.bufLen);
    this.bufLen = need;
  }

  private drain(limit: number): Int16Array {
    const { up, down, half, coefs, direct } = this.f!;
    const taps = 2 * half;
    const buf = this.buf;
    const lastIn = this.bufStart + this.bufLen - 1;
    // Outputs whose whole filter window [i - half + 1, i + half] has arrived.
    const ready = lastIn - half < this.nextIn ? 0 : this.countReady(lastIn - half);
    const n = Math.min(ready, limit);
    const out = new Int16Array(n);
    let i = this.nextIn;
    let p = this.nextPhase;
    for (let j = 0; j < n; j++) {
      const base = i - half + 1 - this.bufStart;
      const d = direct[p]!;
      if (d >= 0) {
        out[j] = buf[base + d]!;
      } else {
        const row = p * taps;
        let acc = 0;
        for (let k = 0; k < taps; k++) acc += coefs[row + k]! * buf[base + k]!;
        out[j] = acc >= 32767 ? 32767 : acc <= -32768 ? -32768 : Math.round(acc);
      }
      p += down;
      if (p >= up) {
        i += Math.floor(p / up);
        p %= up;
      }
    }
    this.nextIn = i;
    this.nextPhase = p;
    this.outputCount += n;
    // Drop input no future output can reach.
    const keepFrom = i - half + 1 - this.bufStart;
    if (keepFrom > 0) {
      buf.copyWithin(0, keepFrom, this.bufLen);
      this.bufLen -= keepFrom;
      this.bufStart += keepFrom;
    }
    return out;
  }

  /** Number of outputs whose centre input index is ≤ maxCentre. */
  private countReady(maxCentre: number): number {
    const { up, down } = this.f!;
    // Output m ahead sits at nextIn + (nextPhase + m·down)/up; count m with floor(...) ≤ maxCentre.
    const room = (maxCentre - this.nextIn + 1) * up - this.nextPhase;
    return Math.max(0, Math.ceil(room / down));
  }
}

/** Converts a whole buffer; output length is ceil(n × toRate / fromRate), time-aligned. */
export function resample(pcm: Int16Array, fromRate: number, toRate: number): Int16Array {
  const r = new Resampler(fromRate, toRate);
  if (fromRate === toRate) return pcm.slice();
  const head = r.process(pcm);
  const tail = r.flush();
  if (tail.length === 0) return head;
  const out = new Int16Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
