// Every synthesizer down, for real: the primary's endpoint refuses connections and the local
// engine's binary is missing. Calls still speak: fixed prompts whole, personal sentences
// (a balance, a due date) assembled from the prerecorded pieces — transcribed back from the
// audio the caller got — and a free-text answer no piece covers becomes the apology prompt,
// with the reply owed by SMS flagged on the turn's metrics event. No agent line is silent.
import assert from 'node:assert/strict';
import { createKnowledgeAnswerer } from '../../conversation/answers/knowledge-answerer';
import { transcriptQuery } from '../../contracts/call';
import type { TurnMetricsData } from '../../contracts/events';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { FallbackTextToSpeech } from '../../providers/tts/fallback';
import { LocalTts } from '../../providers/tts/local';
import { PiecewiseSpeech } from '../../providers/tts/piecewise';
import { PollyTts } from '../../providers/tts/polly';
import { PrerecordedTts } from '../../providers/tts/prerecorded';
import type { AudioCallReport } from '../../simulator/twilio-caller';
import { ADA, testEvents } from '../../testing/calls';
import { callStack, saying, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { Collector } from '../../testing/event-fixtures';
import { localEnv, resetDb } from '../../testing/platform';
import { FAKE_AWS_ENV } from '../helpers/tts-vendors';

describe('TTS down: prerecorded prompts and pieces, the apology and an SMS follow-up', function () {
  this.timeout(300_000);
  let stack: EdgeStack;
  let polly: PollyTts;
  const transcriber = { stt: new PocketsphinxSpeechToText() };

  before(async () => {
    polly = new PollyTts({ endpoint: 'http://127.0.0.1:9' }, { ...FAKE_AWS_ENV }); // refused
    const chain = new FallbackTextToSpeech([
      { provider: 'polly', port: polly, timeoutMs: 2_000 },
      {
        provider: 'local',
        port: new LocalTts({ command: '/nonexistent/flite' }),
        timeoutMs: 4_000,
      },
      { provider: 'prerecorded', port: new PrerecordedTts(), timeoutMs: 500 },
      { provider: 'pieces', port: new PiecewiseSpeech(), timeoutMs: 500 },
    ]);
    // The template answerer: grounded free text, with words no piece covers.
    const answerer = await createKnowledgeAnswerer({
      env: { ...process.env, LLM_CHAIN: 'template' },
    });
    stack = await startEdgeStack({
      chain,
      answerer,
      env: { TTS_CACHE_NAMESPACE: `tts-down-${process.pid}` },
    });
  });
  after(async () => {
    await stack?.stop();
  });
  beforeEach(() => resetDb());

  const call = (lines: string[]): Promise<AudioCallReport> =>
    callStack(stack, saying(lines), { from: ADA, pace: 2, transcriber });

  /** The call's turn.metrics events, by turn. */
  async function turnMetricsOf(workflowId: string, turns: number) {
    const got = new Collector();
    const sub = await testEvents.subscribe({
      groupId: `tts-down-${workflowId}`,
      handlers: { 'turn.metrics': got.handle },
    });
    const mine = () =>
      new Map(
        got.received
          .map((r) => r.event)
          .filter((e) => e.type === 'turn.metrics' && e.workflow_id === workflowId)
          .map((e) => [e.seq, e.data as TurnMetricsData]),
      );
    try {
      await got.until(`${turns} turn metrics`, () => mine().size >= turns, 30_000);
    } finally {
      await sub.close();
    }
    return mine();
  }

  const assertNoSilence = (report: AudioCallReport) => {
    for (const t of report.turns) {
      assert.ok(t.agentAudioMs > 0, `turn ${t.index} ("${t.caller ?? 'greeting'}") was silent`);
    }
  };

  it('balance call: the amount and the due date are said from pieces, heard back from the audio', async () => {
    const report = await call(["what's my balance", 'goodbye']);
    assertNoSilence(report);
    const heard = report.turns[1]?.agentTranscript ?? '';
    assert.match(heard, /forty two dollars/, heard);
    assert.match(heard, /due/, heard);

    const metrics = await turnMetricsOf(report.workflowId, 3); // greeting, balance, goodbye
    // The greeting ("Hello Ada, thanks …") lost the name, the balance is all pieces.
    assert.equal(metrics.get(0)?.spoken_as, 'pieces', JSON.stringify(metrics.get(0)));
    assert.equal(metrics.get(1)?.spoken_as, 'pieces', JSON.stringify(metrics.get(1)));
    assert.equal(metrics.get(1)?.sms_follow_up, undefined, 'everything was said');
    assert.equal(metrics.get(2)?.spoken_as, undefined, 'goodbye is a whole prerecorded prompt');
    assert.equal(stack.runtime.tts.apologies, 0);
  });

  it('a free-text answer no piece covers: the apology is said and the reply is owed by SMS', async () => {
    const report = await call(['what is the late fee']);
    assertNoSilence(report);
    const { client } = await localEnv();
    const transcript = await client.workflow.getHandle(report.workflowId).query(transcriptQuery);
    const answer = transcript.find((e) => e.speaker === 'agent' && e.answer);
    assert.ok(answer?.text, 'the answer is in the transcript, for the SMS');
    const heard = report.turns[1]?.agentTranscript ?? '';
    assert.match(heard, /text message|send it/, heard);

    const metrics = await turnMetricsOf(report.workflowId, 2);
    const turn = metrics.get(answer.turnId);
    assert.equal(turn?.spoken_as, 'apology', JSON.stringify(turn));
    assert.equal(turn?.sms_follow_up, true);
    assert.ok(stack.runtime.tts.apologies >= 1);
  });
});
