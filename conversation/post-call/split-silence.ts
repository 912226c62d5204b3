// Splits one channel of a call recording into speech segments at its silences, so a long
// recording is recognised utterance by utterance (a recognizer decodes a short segment far
// better than minutes of audio, and the transcript gets timings). Energy-based: in a call
// recording each channel is digital silence or line noise between one party's utterances,
// so a noise floor taken from the quietest frames separates speech reliably.

export interface SpeechSegment {
  /** Sample offsets into the channel, end exclusive. */
  start: number;
  end: number;
}

export interface SplitOptions {
  sampleRate: number;
  /** Analysis frame (default 20 ms, the phone line's packet). */
  frameMs?: number;
  /** A pause at least this long ends a segment (default 350 ms). */
  minSilenceMs?: number;
  /** Shorter bursts (clicks, breaths) are dropped (default 120 ms). */
  minSpeechMs?: number;
  /** Audio kept on each side of a segment so word edges are not clipped (default 150 ms). */
  padMs?: number;
  /** Longer segments are cut at their quietest frame (default 20 s). */
  maxSegmentMs?: number;
  /** RMS below this is never speech, whatever the noise floor (default 120 of 32767). */
  minRms?: number;
}

export function splitAtSilences(samples: Int16Array, opts: SplitOptions): SpeechSegment[] {
  const frame = Math.max(1, Math.round(((opts.frameMs ?? 20) * opts.sampleRate) / 1000));
  const frames = Math.floor(samples.length / frame) + (samples.length % frame ? 1 : 0);
  if (frames === 0) return [];
  const toFrames = (ms: number) => Math.max(1, Math.round((ms * opts.sampleRate) / 1000 / frame));
  const rms = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    const from = f * frame;
    const to = Math.min(samples.length, from + frame);
    let sum = 0;
    for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
    rms[f] = Math.sqrt(sum / (to - from));
  }
  // Noise floor: the 10th percentile frame; speech is well above it. A channel that is
  // almost all speech has no quiet 10 %: then a third of the loud (90th percentile) level.
  const sorted = Float64Array.from(rms).sort();
  const floor = sorted[Math.floor(frames * 0.1)]!;
  const loud = sorted[Math.floor(frames * 0.9)]!;
  const threshold = Math.max(opts.minRms ?? 120, Math.min(floor * 4, loud / 3));

  const minSilence = toFrames(opts.minSilenceMs ?? 350);
  const minSpeech = toFrames(opts.minSpeechMs ?? 120);
  const pad = toFrames(opts.padMs ?? 150);
  const maxLen = toFrames(opts.maxSegmentMs ?? 20_000);

  // Runs of speech frames, joined across pauses shorter than minSilence.
  const runs: [number, number][] = [];
  let f = 0;
  while (f < frames) {
    if (rms[f]! < threshold) {
      f++;
      continue;
    }
    let end = f + 1;
    let quiet = 0;
    for (let g = f + 1; g < frames && quiet < minSilence; g++) {
      if (rms[g]! >= threshold) {
        end = g + 1;
        quiet = 0;
      } else quiet++;
    }
    if (end - f >= minSpeech) runs.push([f, end]);
    f = end + quiet;
  }

  const segments: [number, number][] = [];
  for (const [a, b] of runs) {
    // Cut over-long runs at their quietest frame in the middle half, repeatedly.
    const stack: [number, number][] = [[a, b]];
    while (stack.length) {
      const [s, e] = stack.pop()!;
      if (e - s <= maxLen) {
        segments.push([s, e]);
        continue;
      }
      const lo = s + Math.floor((e - s) / 4);
      const hi = e - Math.floor((e - s) / 4);
      let cut = lo;
      for (let g = lo; g < hi; g++) if (rms[g]! < rms[cut]!) cut = g;
      stack.push([cut, e], [s, cut]);
    }
  }
  segments.sort((x, y) => x[0] - y[0]);
  return segments.map(([s, e], i) => {
    // Padding stops halfway to the neighbouring segment: no audio is decoded twice.
    const before = i > 0 ? Math.ceil((segments[i - 1]![1] + s) / 2) : 0;
    const after = i + 1 < segments.length ? Math.ceil((e + segments[i + 1]![0]) / 2) : frames;
    const start = Math.max(before, s - pad) * frame;
    const end = Math.min(samples.length, Math.min(after, e + pad) * frame);
    return { start, end };
  });
}
