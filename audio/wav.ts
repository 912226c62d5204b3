// 16-bit PCM WAV files: call recordings (caller and agent as two channels) and test audio.
import { readFile, writeFile } from 'node:fs/promises';

export interface WavAudio {
  /** One array per channel, deinterleaved. */
  channels: Int16Array[];
  sampleRate: number;
}

const HEADER_BYTES = 44;
const FORMAT_PCM = 1;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Interleaves the channels into a canonical 44-byte-header WAV; short channels end in silence. */
export function encodeWav({ channels, sampleRate }: WavAudio): Buffer {
  const count = channels.length;
  if (count < 1 || count > 65535)
    throw new RangeError(`a WAV needs 1–65535 channels, got ${count}`);
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
  }
  const frames = Math.max(...channels.map((c) => c.length));
  const blockAlign = count * 2;
  const dataBytes = frames * blockAlign;
  if (HEADER_BYTES - 8 + dataBytes > 0xffffffff) throw new RangeError('audio too long for a WAV');
  const buf = Buffer.alloc(HEADER_BYTES + dataBytes); // zero-filled: padding is silence
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(HEADER_BYTES - 8 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(FORMAT_PCM, 20);
  buf.writeUInt16LE(count, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * blockAlign, 28);
  buf.writeUInt16LE(blockAlign, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  for (let c = 0; c < count; c++) {
    const ch = channels[c]!;
    for (let i = 0, off = HEADER_BYTES + c * 2; i < ch.length; i++, off += blockAlign) {
      buf.writeInt16LE(ch[i]!, off);
    }
  }
  return buf;
}

/** Reads a 16-bit PCM WAV (plain or WAVE_FORMAT_EXTENSIBLE); anything else is a clear error. */
export function decodeWav(buf: Buffer): WavAudio {
  if (
    buf.length < 12 ||
    buf.toString('ascii', 0, 4) !== 'RIFF' ||
    buf.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    throw new Error('not a WAV file (no RIFF/WAVE header)');
  }
  let fmt: { channels: number; sampleRate: number } | undefined;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = parseFmt(buf.subarray(body, body + size));
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk comes before its fmt chunk');
      // Writers to a pipe cannot seek back and leave a placeholder size; take what is there.
      const end = Math.min(body + size, buf.length);
      return { channels: deinterleave(buf, body, end, fmt.channels), sampleRate: fmt.sampleRate };
    }
    off = body + size + (size & 1); // chunks are word-aligned
  }
  throw new Error(fmt ? 'WAV has no data chunk' : 'WAV has no fmt chunk');
}

function parseFmt(fmt: Buffer): { channels: number; sampleRate: number } {
  if (fmt.length < 16) throw new Error(`WAV fmt chunk too short (${fmt.length} bytes)`);
  let format = fmt.readUInt16LE(0);
  if (format === FORMAT_EXTENSIBLE && fmt.length >= 26) format = fmt.readUInt16LE(24); // SubFormat GUID head
  const channels = fmt.readUInt16LE(2);
  const sampleRate = fmt.readUInt32LE(4);
  const bits = fmt.readUInt16LE(14);
  if (format !== FORMAT_PCM || bits !== 16) {
    throw new Error(
      `unsupported WAV encoding (format ${format}, ${bits}-bit): only 16-bit PCM is read`,
    );
  }
  if (channels < 1) throw new Error('WAV declares 0 channels');
  if (sampleRate <= 0) throw new Error('WAV declares a sample rate of 0');
  return { channels, sampleRate };
}

function deinterleave(buf: Buffer, start: number, end: number, count: number): Int16Array[] {
  const blockAlign = count * 2;
  const frames = Math.floor((end - start) / blockAlign); // a trailing partial frame is dropped
  const channels = Array.from({ length: count }, () => new Int16Array(frames));
  for (let c = 0; c < count; c++) {
    const ch = channels[c]!;
    for (let i = 0, off = start + c * 2; i < frames; i++, off += blockAlign)
      ch[i] = buf.readInt16LE(off);
  }
  return channels;
}

export async function readWav(path: string): Promise<WavAudio> {
  return decodeWav(await readFile(path));
}

export async function writeWav(path: string, audio: WavAudio): Promise<void> {
  await writeFile(path, encodeWav(audio));
}
