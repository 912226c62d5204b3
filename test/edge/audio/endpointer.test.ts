// Endpointing: exact event timing on constructed VAD sequences, then on real speech.
import assert from 'node:assert/strict';
import {
  Endpointer,
  FrameRing,
  type EndpointEvent,
  type EndpointerOptions,
} from '../../../media-edge/audio/endpointer';
import { splitFrames } from '../../../audio/frames';
import { rms } from '../../../audio/level';
import { mulawToPcm, pcmToMulaw } from '../../../audio/mulaw';
import { createVad } from '../../../media-edge/audio/vad';
import { concatPcm, silence, speak, whiteNoise } from '../../../testing/speech-audio';

/** '#' = speech frame, '.' = silence; spaces are ignored. Returns events with the frame index that produced them. */
function feed(ep: Endpointer, pattern: string): { frame: number; event: EndpointEvent }[] {
  const out: { frame: number; event: EndpointEvent }[] = [];
  let frame = 0;
  for (const ch of pattern.replace(/\s/g, '')) {
    const event = ep.push(ch === '#');
    if (event) out.push({ frame, event });
    frame++;
  }
  return out;
}

const s = (ch: string, n: number) => ch.repeat(n);

describe('Endpointer', () => {
  it('starts after minSpeechMs of speech, dated where speech began', () => {
    const ep = new Endpointer();
    const events = feed(ep, s('.', 10) + s('#', 5));
    assert.deepEqual(events, [{ frame: 14, event: { type: 'speech_start', atMs: 200 } }]);
    assert.equal(ep.inSpeech, true);
    assert.equal(ep.nowMs, 300);
  });

  it('ends after hangoverMs of silence, dated at the end of the last speech frame', () => {
    const ep = new Endpointer();
    const events = feed(ep, s('.', 10) + s('#', 35) + s('.', 30));
    assert.deepEqual(events, [
      { frame: 14, event: { type: 'speech_start', atMs: 200 } },
      // 25 silent frames (500 ms) after the last speech frame (index 44).
      { frame: 69, event: { type: 'speech_end', atMs: 900, reason: 'silence', speechMs: 700 } },
    ]);
    assert.equal(ep.inSpeech, false);
  });

  it('ignores blips shorter than minSpeechMs', () => {
    const ep = new Endpointer();
    assert.deepEqual(feed(ep, s('####.', 40) + s('#.', 50) + s('.', 30)), []);
  });

  it('does not end on pauses shorter than the hang-over', () => {
    const ep = new Endpointer();
    const events = feed(
      ep,
      s('#', 10) + s('.', 24) + s('#', 10) + s('.', 24) + s('#', 3) + s('.', 25),
    );
    assert.deepEqual(
      events.map((e) => e.event),
      [
        { type: 'speech_start', atMs: 0 },
        { type: 'speech_end', atMs: 1420, reason: 'silence', speechMs: 1420 },
      ],
    );
  });

  it('ends at maxUtteranceMs and starts again if the caller keeps talking', () => {
    const ep = new Endpointer({ maxUtteranceMs: 1000 });
    const events = feed(ep, s('#', 120) + s('.', 30));
    assert.deepEqual(events, [
      { frame: 4, event: { type: 'speech_start', atMs: 0 } },
      {
        frame: 49,
        event: { type: 'speech_end', atMs: 1000, reason: 'max_length', speechMs: 1000 },
      },
      { frame: 54, event: { type: 'speech_start', atMs: 1000 } },
      {
        frame: 99,
        event: { type: 'speech_end', atMs: 2000, reason: 'max_length', speechMs: 1000 },
      },
      { frame: 104, event: { type: 'speech_start', atMs: 2000 } },
      { frame: 144, event: { type: 'speech_end', atMs: 2400, reason: 'silence', speechMs: 400 } },
    ]);
  });

  it('rounds options up to whole frames and validates them', () => {
    const ep = new Endpointer({ minSpeechMs: 50, hangoverMs: 210 });
    const events = feed(ep, s('#', 3) + s('.', 11));
    assert.deepEqual(
      events.map((e) => e.frame),
      [2, 13],
    );
    const bad: EndpointerOptions[] = [
      { minSpeechMs: 0 },
      { hangoverMs: -1 },
      { maxUtteranceMs: 100, minSpeechMs: 100 },
      { preRollMs: -20 },
      { hangoverMs: NaN },
    ];
    for (const opts of bad)
      assert.throws(() => new Endpointer(opts), RangeError, JSON.stringify(opts));
  });

  it('reset() drops the utterance in progress but keeps the clock', () => {
    const ep = new Endpointer();
    feed(ep, s('#', 20));
    assert.equal(ep.inSpeech, true);
    ep.reset();
    assert.equal(ep.inSpeech, false);
    const events = feed(ep, s('.', 30) + s('#', 5));
    assert.deepEqual(
      events.map((e) => e.event),
      [{ type: 'speech_start', atMs: 1000 }],
    );
  });
});

describe('FrameRing', () => {
  it('keeps the newest frames in order and finds them by time', () => {
    const ring = new FrameRing<number>(4);
    assert.deepEqual(ring.last(3), []);
    for (let k = 0; k < 10; k++) ring.push(k);
    assert.equal(ring.size, 4);
    assert.deepEqual(ring.last(10), [6, 7, 8, 9]);
    assert.deepEqual(ring.last(2), [8, 9]);
    assert.deepEqual(ring.since(160), [8, 9]); // frames starting at or after 160 ms
    assert.deepEqual(ring.since(150), [8, 9]);
    assert.deepEqual(ring.since(0), [6, 7, 8, 9]); // older frames are gone
    assert.deepEqual(ring.since(1000), []);
    ring.clear();
    assert.equal(ring.size, 0);
    ring.push(10);
    assert.deepEqual(ring.since(0), [10]);
    assert.throws(() => new FrameRing(0), RangeError);
  });

  it('replays the pre-roll and the confirming speech when speech starts', () => {
    const ep = new Endpointer({ preRollMs: 200 });
    const ring = new FrameRing<number>(ep.preRollCapacity);
    let replay: number[] | undefined;
    const pattern = s('.', 50) + s('#', 10);
    for (let k = 0; k < pattern.length; k++) {
      ring.push(k);
      const e = ep.push(pattern[k] === '#');
      if (e?.type === 'speech_start') replay = ring.since(e.atMs - ep.preRollMs);
    }
    // Speech began at frame 50; 200 ms of pre-roll is frames 40–49; 50–54 confirmed it.
    assert.deepEqual(replay, [40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54]);
  });
});

/** [first, last] ms of each stretch above -60 dBFS, measured on the clean signal without a VAD. */
function voicedSpans(pcm: Int16Array): [number, number][] {
  const spans: [number, number][] = [];
  let quiet = Infinity;
  splitFrames(pcm, 8000).forEach((f, k) => {
    const loud = rms(f) > 30;
    if (loud && quiet > 25) spans.push([k * 20, k * 20 + 20]);
    if (loud) spans[spans.length - 1]![1] = k * 20 + 20;
    quiet = loud ? 0 : quiet + 1;
  });
  return spans;
}

describe('Endpointer on real speech (VAD mode 3, μ-law line)', () => {
  /** Two sentences 1 s apart over low line noise: the endpointer's events and the voiced spans. */
  async function twoSentences(opts: EndpointerOptions) {
    const first = (await speak('I would like to pay my bill, please.')).samples;
    const second = (await speak('Yes, use the card on file.', { voice: 'en-us+f3' })).samples;
    const clean = concatPcm(silence(800), first, silence(1000), second, silence(1500));
    const noise = whiteNoise(clean.length, 60, 42);
    const pcm = mulawToPcm(pcmToMulaw(clean.map((v, i) => v + noise[i]!)));
    const vad = await createVad({ mode: 3 });
    const ep = new Endpointer(opts);
    const events: EndpointEvent[] = [];
    for (const frame of splitFrames(pcm, 8000)) {
      const e = ep.push(vad.isSpeech(frame));
      if (e) events.push(e);
    }
    vad.close();
    return { events, spans: voicedSpans(clean) };
  }

  it('finds two utterances in two sentences separated by 1 s of silence', async () => {
    const { events, spans } = await twoSentences({});
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_start', 'speech_end', 'speech_start', 'speech_end'],
      JSON.stringify(events),
    );
    assert.equal(spans.length, 2);
    for (let u = 0; u < 2; u++) {
      const start = events[2 * u]!;
      const end = events[2 * u + 1]!;
      assert.ok(end.type === 'speech_end' && end.reason === 'silence');
      const [from, to] = spans[u]!;
      // Onset within 60 ms of where the synthesized audio begins; end within the VAD's own
      // hang-over of where it stops (synthesis pads a little silence on both sides).
      assert.ok(
        Math.abs(start.atMs - from) <= 100,
        `utterance ${u}: start ${start.atMs} vs ${from}`,
      );
      assert.ok(
        end.atMs > to - 300 && end.atMs < to + 200,
        `utterance ${u}: end ${end.atMs} vs ${to}`,
      );
    }
  });

  it('joins them into one utterance when the hang-over is longer than the gap', async () => {
    const { events } = await twoSentences({ hangoverMs: 1500 });
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_start', 'speech_end'],
    );
  });
});
