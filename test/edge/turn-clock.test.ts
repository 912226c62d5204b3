// The turn clock: one record per turn, read out once as the timing report the workflow gets.
import { strict as assert } from 'node:assert';
import { TurnClock } from '../../media-edge/call/turn-clock';

const heard = { lastVoicedAt: 1_000, endpointedAt: 1_600, recognizedAt: 1_750, repliedAt: 2_500 };

describe('turn clock', () => {
  it('times a replied turn from the last voiced frame to its first audio frame', () => {
    const clock = new TurnClock();
    clock.heard(3, heard);
    clock.played(3, {
      textReadyAt: 2_501,
      synthesizedAt: 2_700,
      firstFrameAt: 2_702,
      cacheHit: false,
    });
    clock.played(3, {
      textReadyAt: 2_800,
      synthesizedAt: 2_900,
      firstFrameAt: 2_901,
      cacheHit: true,
    });
    clock.billed(3, 'polly', 20);
    clock.billed(3, 'local', 15);
    assert.deepEqual(clock.report(3), {
      turnId: 3,
      endpointingMs: 600,
      asrMs: 150,
      orchestrationMs: 750,
      ttsMs: 200,
      firstFrameMs: 2,
      voiceToVoiceMs: 1_702,
      cacheHit: false,
      ttsProvider: 'local',
      ttsCharacters: 35,
    });
  });

  it("counts a streamed answer as replied when its first sentence was ready, before the workflow's reply", () => {
    const clock = new TurnClock();
    clock.played(4, {
      textReadyAt: 2_000,
      synthesizedAt: 2_100,
      firstFrameAt: 2_101,
      cacheHit: true,
    });
    clock.heard(4, heard);
    const report = clock.report(4);
    assert.equal(report?.orchestrationMs, 250);
    assert.equal(report?.ttsMs, 100);
    assert.equal(report?.voiceToVoiceMs, 1_101);
    assert.equal(report?.cacheHit, true);
    assert.equal(report?.ttsProvider, undefined, 'all of it cached: no provider was paid');
  });

  it('a held turn: the hold is reported beside the timing, which still runs to the reply audio', () => {
    const clock = new TurnClock();
    clock.heard(7, heard);
    clock.held(7, { lines: 2, heldMs: 9_000 });
    clock.played(7, {
      textReadyAt: 2_500,
      synthesizedAt: 2_600,
      firstFrameAt: 2_601,
      cacheHit: false,
    });
    const report = clock.report(7);
    assert.deepEqual(report?.held, { lines: 2, heldMs: 9_000 });
    assert.equal(report?.voiceToVoiceMs, 1_601);
    assert.equal(report?.orchestrationMs, 750);
  });

  it('reports nothing for a turn of which nothing played, and forgets every turn it reads', () => {
    const clock = new TurnClock();
    clock.heard(5, heard);
    clock.billed(5, 'polly', 12);
    assert.equal(clock.report(5), undefined);
    clock.played(5, {
      textReadyAt: 2_600,
      synthesizedAt: 2_700,
      firstFrameAt: 2_701,
      cacheHit: false,
    });
    assert.equal(clock.report(5), undefined, 'the heard marks went with the first read');
    clock.heard(6, heard);
    clock.played(6, {
      textReadyAt: 2_600,
      synthesizedAt: 2_700,
      firstFrameAt: 2_701,
      cacheHit: false,
    });
    assert.ok(clock.report(6));
    assert.equal(clock.report(6), undefined);
  });
});
