// Joins 8 kHz μ-law clips into one line of speech with silences between them (speech said
// from prerecorded pieces). No I/O.
import { MULAW_SILENCE } from './mulaw';

/** A clip of 8 kHz μ-law, or a silence of `silenceMs`. */
export type SplicePart = Buffer | { silenceMs: number };

const BYTES_PER_MS = 8;

/** The parts end to end, as one new buffer (the clips are copied, never shared). */
export function spliceMulaw(parts: readonly SplicePart[]): Buffer {
  const sizes = parts.map((p) =>
    Buffer.isBuffer(p) ? p.length : Math.max(0, Math.round(p.silenceMs * BYTES_PER_MS)),
  );
  const out = Buffer.alloc(
    sizes.reduce((a, b) => a + b, 0),
    MULAW_SILENCE,
  );
  let at = 0;
  parts.forEach((p, i) => {
    if (Buffer.isBuffer(p)) p.copy(out, at);
    at += sizes[i]!;
  });
  return out;
}
