// Barge-in like a person, with real audio through the whole stack: the simulated caller says
// "okay" or "uh-huh" (flite's awb voice: pocketsphinx hears kal's "okay" as "nope"), coughs (a
// burst of shaped noise, new each run: pocketsphinx hears some as "that" or "nope") or really cuts in
// while the agent reads out the balance; the edge's VAD, endpointer and pocketsphinx decide.
// A backchannel or a noise pauses the agent and it picks up its sentence again: no signal, no
// turn, the whole reply heard; real words cut it as before.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { transcriptQuery, type CallResult } from '../../contracts/call';
import { BACKCHANNELS, isBackchannel } from '../../media-edge/call/false-interruption';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { LocalTts } from '../../providers/tts/local';
import { mulawToPcm } from '../../audio/mulaw';
import type { CallerScriptItem } from '../../simulator/caller-script';
import type { AudioCallReport } from '../../simulator/twilio-caller';
import { ADA } from '../../testing/calls';
import { callStack, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { localEnv, resetDb } from '../../testing/platform';
import { expectedPhrases } from '../../workflows/call-state';

const run = promisify(execFile);

describe('barge-in like a person: backchannels and false interruptions (real audio)', function () {
  this.timeout(300_000);
  let stack: EdgeStack;
  let dir: string;
  const transcriber = { stt: new PocketsphinxSpeechToText() };
  const callerTts = new LocalTts({ engine: 'flite', voice: 'awb' });
  /** The balance reply, played whole: what a resumed reply must add up to. */
  let fullReplyMs = 0;

  before(async () => {
    stack = await startEdgeStack({ env: { TTS_CACHE_NAMESPACE: `tts-bc-${process.pid}` } });
    dir = await mkdtemp(path.join(tmpdir(), 'backchannel-'));
  });
  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await resetDb();
  });

  const call = (script: CallerScriptItem[]): Promise<AudioCallReport> =>
    // Real time: the bounds (the barge-in's 300 ms, a backchannel's 1.5 s) are in the caller's time.
    callStack(stack, script, { from: ADA, pace: 1, transcriber, callerTts });
  const workflow = async (r: AudioCallReport) =>
    (await localEnv()).client.workflow.getHandle(r.workflowId);
  const result = async (r: AudioCallReport): Promise<CallResult> => (await workflow(r)).result();
  /** "what's my balance", then `over` said 1.5 s into the balance reply, then goodbye. */
  const overTheBalance = (over: CallerScriptItem): CallerScriptItem[] => [
    { kind: 'say', text: "what's my balance" },
    over,
    { kind: 'say', text: 'goodbye' },
  ];

  /** A cough-like sound: 0.45 s of noise shaped to the voice band, with a sharp attack. */
  async function cough(): Promise<string> {
    const wav = path.join(dir, 'cough.wav');
    await run('sox', [
      ...['-n', '-r', '8000', '-c', '1', '-b', '16', wav],
      ...['synth', '0.45', 'brownnoise', 'bandpass', '600', '400h'],
      ...['fade', 'q', '0.01', '0.45', '0.3', 'gain', '-n', '-3'],
    ]);
    return wav;
  }

  it('the local recognizer, streamed as on the edge, hears "okay", "uh-huh" and "yeah" as backchannels', async () => {
    const hints = [...expectedPhrases('idle'), ...BACKCHANNELS];
    // flite's awb and rms; its kal and slt say an "uh-huh" pocketsphinx hears as other words
    // (docs/architecture.md, barge-in).
    for (const voice of ['awb', 'rms']) {
      const tts = new LocalTts({ engine: 'flite', voice });
      for (const said of ['okay', 'uh-huh', 'yeah']) {
        const speech = mulawToPcm((await tts.synthesize(said)).mulaw);
        // The edge's pre-roll before it and its hangover after, on a line with a little noise.
        const line = new Int16Array(speech.length + 1600 + 3200);
        line.set(speech, 1600);
        for (let i = 0; i < line.length; i++)
          line[i] = Math.max(-32768, Math.min(32767, line[i]! + ((i * 7919) % 61) - 30));
        const stream = await transcriber.stt.open({ sampleRate: 8000, hints });
        for (let at = 0; at < line.length; at += 160) stream.write(line.subarray(at, at + 160));
        const { text } = await stream.finish();
        assert.ok(
          text.trim() === '' || isBackchannel(text),
          `${voice}: "${said}" was heard as "${text}"`,
        );
      }
    }
  });

  it('the balance reply uninterrupted (the length a resumed reply adds up to)', async () => {
    const report = await call(overTheBalance({ kind: 'pause', ms: 100 }));
    fullReplyMs = report.turns[1]!.agentAudioMs;
    assert.ok(fullReplyMs > 4000, `${fullReplyMs} ms`);
    assert.equal(report.clears, 0);
  });

  for (const [what, over] of [
    ['"okay"', { kind: 'say', text: 'okay', interruptAfterMs: 1500 }],
    ['"uh-huh"', { kind: 'say', text: 'uh-huh', interruptAfterMs: 1500 }],
  ] as const) {
    it(`${what} in the middle of the reply: paused, then resumed to its end; no signal, no extra turn`, async () => {
      assert.ok(fullReplyMs > 0, 'the uninterrupted reply was measured');
      const report = await call(overTheBalance({ ...over }));
      await assertResumed(report);
    });
  }

  it('a cough in the middle of the reply: resumed likewise', async () => {
    assert.ok(fullReplyMs > 0, 'the uninterrupted reply was measured');
    const report = await call(
      overTheBalance({ kind: 'audio', path: await cough(), interruptAfterMs: 1500 }),
    );
    await assertResumed(report);
  });

  // The long one is cut by the speech bound before it is recognized; the short one (under
  // BACKCHANNEL_MAX_MS) by its verdict.
  for (const cutIn of ['no wait, I want to pay my bill', 'pay my bill']) {
    it(`"${cutIn}" over the reply: cut, signalled and answered as a turn`, async () => {
      const report = await call(
        overTheBalance({ kind: 'say', text: cutIn, interruptAfterMs: 1500 }),
      );
      const [, balance, over] = report.turns;
      assert.equal(report.clears, 1);
      assert.equal(balance!.replyCleared, true);
      assert.ok(balance!.agentAudioMs < fullReplyMs - 1000, `${balance!.agentAudioMs} ms heard`);
      logStop(report);
      const lines = await (await workflow(report)).query(transcriptQuery);
      const cut = lines.find((e) => e.speaker === 'agent' && e.interrupted);
      assert.ok(cut, 'the interrupted reply is marked in the transcript');
      assert.equal(cut.turnId, 1);
      assert.deepEqual((await result(report)).intentPath.slice(0, 2), [
        'check_balance',
        'pay_bill',
      ]);
      // The turn's reply is the bill, not the rest of the balance.
      assert.match(over!.agentTranscript ?? '', /bill|pay/, over!.agentTranscript);
    });
  }

  async function assertResumed(report: AudioCallReport): Promise<void> {
    const [, balance, over] = report.turns;
    assert.equal(report.clears, 1, 'the agent stopped at the bound');
    assert.equal(balance!.replyCleared, true);
    logStop(report);
    // The reply picked up where it stopped and was said to its end: what the caller heard of
    // it before and after the pause adds up to the whole (a chunk and the lead said twice).
    const heard = balance!.agentAudioMs + over!.agentAudioMs;
    assert.ok(
      heard >= fullReplyMs - 100 && heard <= fullReplyMs + 700,
      `${balance!.agentAudioMs} + ${over!.agentAudioMs} ms heard of a ${fullReplyMs} ms reply` +
        ` ("${over!.agentTranscript}"); the edge:\n${stack.logOf(report.callSid)}`,
    );
    assert.equal(over!.replyCleared, false);
    assert.match(over!.agentTranscript ?? '', /anything else|help you/, over!.agentTranscript);
    // No signal, no extra turn: the transcript has no cut reply and two caller turns.
    const lines = await (await workflow(report)).query(transcriptQuery);
    assert.equal(
      lines.find((e) => e.interrupted),
      undefined,
      'no reply is marked interrupted',
    );
    assert.equal(lines.filter((e) => e.speaker === 'caller').length, 2, JSON.stringify(lines));
    assert.deepEqual((await result(report)).intentPath, ['check_balance', 'goodbye']);
  }

  /**
   * How long after the caller's sound began the agent's audio stopped, from the call's
   * recording (both sides on one timeline): printed for the report, never asserted.
   */
  function logStop(report: AudioCallReport): void {
    const over = report.turns[2]!;
    const { caller, agent } = report.recording;
    const rmsOf = (x: Int16Array, f: number) => {
      let e = 0;
      for (let i = f * 160; i < (f + 1) * 160 && i < x.length; i++) e += x[i]! ** 2;
      return Math.sqrt(e / 160);
    };
    const frames = Math.floor(Math.min(caller.length, agent.length) / 160);
    let onset = Math.floor(over.startedAtMs / 20);
    while (onset < frames && rmsOf(caller, onset) <= 300) onset++;
    // The agent has stopped where 300 ms of near silence begin on its side.
    let stop = onset;
    const quiet = (f: number) => [...Array(15).keys()].every((k) => rmsOf(agent, f + k) < 20);
    while (stop < frames && !quiet(stop)) stop++;
    // When it spoke again (the resumed reply, or the answer to the cut-in) and when the
    // caller's sound had ended (its last loud frame before then).
    let again = stop;
    while (again < frames && rmsOf(agent, again) < 20) again++;
    let ended = again;
    while (ended > onset && rmsOf(caller, ended) <= 300) ended--;
    console.log(
      `      ${over.caller}: the agent's audio stopped ${(stop - onset) * 20} ms after the caller's sound began;` +
        ` it spoke again ${(again - ended) * 20} ms after the sound ended (${(again - stop) * 20} ms of pause)`,
    );
  }
});
