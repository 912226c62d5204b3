// End of turn from a turn model: the Endpointer's pause handling with scripted answers (exact
// frames), then Smart Turn v3.2 on real speech through the Listener's path (μ-law line,
// WebRTC VAD): a finished sentence ends before the fixed hangover would, a caller pausing
// mid-sentence is waited for, and a model that fails falls back to the fixed hangover.
import assert from 'node:assert/strict';
import { splitFrames } from '../../../audio/frames';
import { rms } from '../../../audio/level';
import { mulawToPcm, pcmToMulaw } from '../../../audio/mulaw';
import { Endpointer, type EndpointEvent } from '../../../media-edge/audio/endpointer';
import { SmartTurnModel, type TurnModel } from '../../../media-edge/audio/smart-turn';
import { TurnDetector } from '../../../media-edge/audio/turn-detector';
import { TranscriptTurn } from '../../../media-edge/audio/transcript-turn';
import { createVad, type Vad } from '../../../media-edge/audio/vad';
import { Listener } from '../../../media-edge/call/listener';
import { callerAudioFromConfig, VadWithBackup } from '../../../media-edge/audio/caller-audio';
import { loadEdgeSpeechConfig } from '../../../media-edge/speech-config';
import { CallRecorder } from '../../../media-edge/call/recorder';
import { concatPcm, silence, speak } from '../../../testing/speech-audio';

const tick = () => new Promise((r) => setImmediate(r));

/** A turn check answered by the test: each call waits for `answer()`. */
function scripted() {
  const calls: ((complete: boolean | Error) => void)[] = [];
  return {
    calls,
    isComplete: () =>
      new Promise<boolean>((resolve, reject) =>
        calls.push((c) => (c instanceof Error ? reject(c) : resolve(c))),
      ),
  };
}

async function feed(ep: Endpointer, pattern: string, onFrame?: (k: number) => Promise<void>) {
  const out: { frame: number; event: EndpointEvent }[] = [];
  let k = 0;
  for (const ch of pattern.replace(/\s/g, '')) {
    await onFrame?.(k);
    const event = ep.push(ch === '#');
    if (event) out.push({ frame: k, event });
    k++;
  }
  return out;
}

const s = (ch: string, n: number) => ch.repeat(n);
const ends = (events: { frame: number; event: EndpointEvent }[]) =>
  events.filter((e) => e.event.type === 'speech_end').map((e) => e.frame);

describe('Endpointer with a turn check', () => {
  const opts = (check: ReturnType<typeof scripted>) => ({
    hangoverMs: 400,
    turn: { isComplete: check.isComplete, probeMs: 200, maxWaitMs: 1000 },
  });

  it('asks after probeMs of silence and ends the turn when told it is finished', async () => {
    const check = scripted();
    const ep = new Endpointer(opts(check));
    // speech frames 0–9, silence from 10: asked at the 10th silent frame (19), answered at 22.
    const events = await feed(ep, s('#', 10) + s('.', 40), async (k) => {
      if (k === 22) {
        check.calls[0]!(true);
        await tick();
      }
    });
    assert.equal(check.calls.length, 1);
    assert.deepEqual(ends(events), [22]);
    const end = events.find((e) => e.event.type === 'speech_end')!.event;
    assert.deepEqual(end, { type: 'speech_end', atMs: 200, reason: 'silence', speechMs: 200 });
  });

  it('waits up to maxWaitMs when the turn sounds unfinished', async () => {
    const check = scripted();
    const ep = new Endpointer(opts(check));
    const events = await feed(ep, s('#', 10) + s('.', 80), async (k) => {
      if (k === 21) {
        check.calls[0]!(false);
        await tick();
      }
    });
    assert.deepEqual(ends(events), [10 + 50 - 1]); // 1000 ms of silence
  });

  it('keeps the utterance when the caller goes on, and ignores the stale answer', async () => {
    const check = scripted();
    const ep = new Endpointer(opts(check));
    const events = await feed(ep, s('#', 10) + s('.', 30) + s('#', 10) + s('.', 15), async (k) => {
      if (k === 45) {
        check.calls[0]!(true); // about the first pause, answered after speech resumed
        await tick();
      }
    });
    assert.deepEqual(ends(events), []);
    assert.equal(ep.inSpeech, true);
    assert.equal(check.calls.length, 2); // the second pause is asked about afresh
  });

  it('falls back to the fixed hangover when the check fails', async () => {
    const check = scripted();
    const ep = new Endpointer(opts(check));
    const events = await feed(ep, s('#', 10) + s('.', 40), async (k) => {
      if (k === 20) {
        check.calls[0]!(new Error('model gone'));
        await tick();
      }
    });
    assert.deepEqual(ends(events), [10 + 20 - 1]); // 400 ms of silence
  });

  it('validates the bounds', () => {
    const check = scripted();
    assert.throws(
      () =>
        new Endpointer({ turn: { isComplete: check.isComplete, probeMs: 400, maxWaitMs: 400 } }),
      RangeError,
    );
  });
});

describe('Smart Turn on real speech (μ-law line, WebRTC VAD)', function () {
  const line = (pcm: Int16Array) => mulawToPcm(pcmToMulaw(pcm));
  let vad: Vad;
  before(async () => {
    vad = await createVad();
  });
  after(() => vad.close());

  /**
   * The Listener's path: VAD → Endpointer asking the detector with the last 8 s. The model's
   * answer is awaited before the next frame, so the results do not depend on machine speed.
   * Returns where turns ended (ms, decision time).
   */
  async function endsOf(pcm: Int16Array, detector?: TurnDetector) {
    vad.reset();
    const frames = splitFrames(line(pcm), 8000);
    let pending: Promise<unknown> | undefined;
    let k = 0;
    const ep = new Endpointer({
      hangoverMs: 400,
      ...(detector && {
        turn: {
          probeMs: 200,
          maxWaitMs: 1500,
          isComplete: () => {
            const p = detector.isComplete(concatPcm(...frames.slice(Math.max(0, k - 399), k + 1)));
            pending = p.catch(() => undefined);
            return p;
          },
        },
      }),
    });
    const out: number[] = [];
    for (k = 0; k < frames.length; k++) {
      if (ep.push(vad.isSpeech(frames[k]!))?.type === 'speech_end') out.push((k + 1) * 20);
      if (pending) {
        await pending;
        await tick();
        pending = undefined;
      }
    }
    return out;
  }

  /** Where the voice stops (−45 dBFS frames), measured without the VAD. */
  function lastSound(pcm: Int16Array): number {
    const loud = splitFrames(pcm, 8000).map((f) => rms(f) > 180);
    return (loud.lastIndexOf(true) + 1) * 20;
  }

  const detector = new TurnDetector(new SmartTurnModel());

  it('ends a finished sentence sooner than the fixed 400 ms pause', async () => {
    const pcm = concatPcm(
      silence(300),
      (await speak('can you tell me my account balance')).samples,
      silence(2000),
    );
    const [end, ...more] = await endsOf(pcm, detector);
    assert.deepEqual(more, []);
    const [fixed] = await endsOf(pcm);
    assert.ok(
      end! >= lastSound(pcm) && end! < fixed!,
      `ended at ${end} ms, the fixed pause at ${fixed}`,
    );
  });

  it('waits through a pause mid-sentence and ends once the caller is done', async () => {
    const first = (await speak('I would like to check my')).samples;
    const rest = (await speak('balance please')).samples;
    const pcm = concatPcm(silence(300), first, silence(800), rest, silence(2500));
    const fixed = await endsOf(pcm);
    assert.equal(fixed.length, 2, 'the fixed pause cuts this turn in two');
    const ends = await endsOf(pcm, detector);
    assert.equal(ends.length, 1, `one turn, ended at ${ends.join(', ')} ms`);
    assert.ok(ends[0]! >= lastSound(pcm));
  });

  function broken(): TurnModel & { calls: number } {
    return {
      name: 'broken',
      calls: 0,
      endOfTurnProbability() {
        this.calls++;
        return Promise.reject(new Error('onnx session lost'));
      },
    };
  }

  it('falls back to the fixed hangover when the model fails, and says so once', async () => {
    const logged: string[] = [];
    const model = broken();
    const failing = new TurnDetector(model, { log: (msg) => logged.push(msg) });
    const one = (await speak('what is my balance')).samples;
    const pcm = concatPcm(silence(300), one, silence(1000), one, silence(1000));
    const ends = await endsOf(pcm, failing);
    assert.equal(model.calls, 2);
    assert.equal(logged.length, 1);
    assert.deepEqual(ends, await endsOf(pcm)); // exactly where the fixed pause ends them
  });
});

describe('Listener with a turn detector (wiring)', () => {
  /** Smart Turn, with each question's answer awaited by the test before the next frame. */
  function awaitedSmartTurn() {
    const model = new SmartTurnModel();
    const state: { pending?: Promise<unknown> } = {};
    const tracked: TurnModel = {
      name: model.name,
      endOfTurnProbability: (pcm) => {
        const p = model.endOfTurnProbability(pcm);
        state.pending = p.catch(() => undefined);
        return p;
      },
    };
    return { detector: new TurnDetector(tracked), state };
  }

  async function utterances(pcm: Int16Array, withTurns: boolean): Promise<number> {
    const vad = await createVad();
    const { detector, state } = awaitedSmartTurn();
    let heard = 0;
    const recognizer = () => ({
      write: () => undefined,
      finish: () => Promise.reject(new Error('not used')),
      abort: () => undefined,
    });
    const listener = new Listener(
      {
        vad,
        recognizer,
        recorder: new CallRecorder(),
        onSpeaking: () => undefined,
        onUtterance: () => heard++,
      },
      withTurns ? { turns: { judge: detector, probeMs: 200, maxWaitMs: 1500 } } : {},
    );
    for (const f of splitFrames(pcm, 8000)) {
      listener.frame(pcmToMulaw(f));
      if (state.pending) {
        await state.pending;
        await tick();
        state.pending = undefined;
      }
    }
    vad.close();
    return heard;
  }

  it('hands on one utterance where the fixed pause would have cut the turn in two', async () => {
    const pcm = concatPcm(
      silence(300),
      (await speak('I would like to check my')).samples,
      silence(800),
      (await speak('balance please')).samples,
      silence(2500),
    );
    assert.equal(await utterances(pcm, false), 2);
    assert.equal(await utterances(pcm, true), 1);
  });
});

describe('caller audio from configuration', () => {
  it('keeps WebRTC and the transcript judge by default, and builds Silero, Smart Turn or the fixed pause when asked', async () => {
    const log = () => undefined;
    const defaults = callerAudioFromConfig(loadEdgeSpeechConfig({}), log);
    assert.ok(defaults.turns?.judge instanceof TranscriptTurn);
    assert.equal(defaults.turns.probeMs, 200);
    const fixed = callerAudioFromConfig(loadEdgeSpeechConfig({ TURN_DETECTOR: 'silence' }), log);
    assert.equal(fixed.turns, undefined);
    const webrtc = await defaults.createVad();
    assert.ok(!(webrtc instanceof VadWithBackup));
    webrtc.close();
    const chosen = callerAudioFromConfig(
      loadEdgeSpeechConfig({ VAD: 'silero', TURN_DETECTOR: 'smart-turn', TURN_PROBE_MS: '160' }),
      log,
    );
    assert.equal(chosen.turns?.probeMs, 160);
    assert.ok(chosen.turns?.judge instanceof TurnDetector);
    assert.equal(chosen.turns.judge.threshold, 0.5);
    const silero = await chosen.createVad();
    assert.ok(silero instanceof VadWithBackup);
    silero.close();
    assert.throws(() => loadEdgeSpeechConfig({ TURN_DETECTOR: 'pause' }), /TURN_DETECTOR/);
  });
});
