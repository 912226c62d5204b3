// The media path's unit of time: Twilio sends and expects 20 ms of 8 kHz μ-law per message,
// and the VAD decides per 20 ms frame.
import { MULAW_SILENCE } from './mulaw';

export const FRAME_MS = 20;

/** Samples in one 20 ms frame at `rate` (160 at 8 kHz). */
export function frameSamples(rate: number): number {
  const n = (rate * FRAME_MS) / 1000;
  if (!Number.isInteger(n) || n <= 0) {
    throw new RangeError(`${rate} Hz does not divide into ${FRAME_MS} ms frames`);
  }
  return n;
}

/**
 * Splits PCM into 20 ms frames. Whole frames are views into `pcm` (no copy); the last
 * partial frame is a zero-padded copy.
 */
export function splitFrames(pcm: Int16Array, rate: number): Int16Array[] {
  const size = frameSamples(rate);
  const frames: Int16Array[] = [];
  let at = 0;
  for (; at + size <= pcm.length; at += size) frames.push(pcm.subarray(at, at + size));
  if (at < pcm.length) {
    const last = new Int16Array(size);
    last.set(pcm.subarray(at));
    frames.push(last);
  }
  return frames;
}

/**
 * Splits μ-law audio into `frameBytes` chunks for playout. Whole chunks are views into
 * `buf`; the last partial chunk is padded with μ-law silence so every chunk lasts as long.
 */
export function chunkMulaw(buf: Buffer, frameBytes = 160): Buffer[] {
  if (!Number.isInteger(frameBytes) || frameBytes <= 0) {
    throw new RangeError(`frameBytes must be a positive integer, got ${frameBytes}`);
  }
  const chunks: Buffer[] = [];
  let at = 0;
  for (; at + frameBytes <= buf.length; at += frameBytes) {
    chunks.push(buf.subarray(at, at + frameBytes));
  }
  if (at < buf.length) {
    const last = Buffer.alloc(frameBytes, MULAW_SILENCE);
    buf.copy(last, 0, at);
    chunks.push(last);
  }
  return chunks;
}
