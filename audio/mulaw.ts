// G.711 μ-law ⇄ 16-bit linear PCM (ITU-T G.711, the classic bias/clip formulation).
// Both directions are table lookups: this runs on every 20 ms frame of every call.

const BIAS = 0x84;
const CLIP = 32635;

/** μ-law byte for digital silence (decodes to 0). */
export const MULAW_SILENCE = 0xff;

function decodeByte(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function encodeSample(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = sign ? -sample : sample;
  if (magnitude > CLIP) magnitude = CLIP;
  magnitude += BIAS;
  // Segment = position of the highest set bit above bit 7 (magnitude ≥ 0x84, < 0x8000).
  const exponent = 31 - Math.clz32(magnitude) - 7;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

const DECODE = new Int16Array(256);
for (let i = 0; i < 256; i++) DECODE[i] = decodeByte(i);

// Indexed by the sample's 16-bit two's-complement pattern; 64 KiB once per process.
const ENCODE = new Uint8Array(65536);
for (let i = 0; i < 65536; i++) ENCODE[i] = encodeSample(i < 32768 ? i : i - 65536);

/** Decodes μ-law bytes; pass `out` (at least as long) to decode without allocating. */
export function mulawToPcm(mulaw: Uint8Array, out?: Int16Array): Int16Array {
  const n = mulaw.length;
  const pcm = out ?? new Int16Array(n);
  if (pcm.length < n) throw new RangeError(`output holds ${pcm.length} samples, need ${n}`);
  for (let i = 0; i < n; i++) pcm[i] = DECODE[mulaw[i]!]!;
  return pcm;
}

/** Encodes 16-bit PCM; samples beyond ±32635 are clipped as G.711 specifies. */
export function pcmToMulaw(pcm: Int16Array, out?: Buffer): Buffer {
  const n = pcm.length;
  const buf = out ?? Buffer.allocUnsafe(n);
  if (buf.length < n) throw new RangeError(`output holds ${buf.length} bytes, need ${n}`);
  for (let i = 0; i < n; i++) buf[i] = ENCODE[pcm[i]! & 0xffff]!;
  return buf;
}
