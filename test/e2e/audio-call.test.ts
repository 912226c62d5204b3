// Real audio through the whole stack: a caller speaking Twilio's protocol with a synthetic
// voice, the edge's VAD, endpointer, local ASR, the call workflow on Temporal, the local
// TTS with its cache, playout with marks, and the recording in the object store.
import assert from 'node:assert/strict';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import type { AudioCallReport } from '../../simulator/twilio-caller';
import type { CallerScriptItem } from '../../simulator/caller-script';
import { localObjectStore } from '../../testing/object-store';
import { callStack, saying, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { ADA, runHistories, testEvents } from '../../testing/calls';
import { Collector } from '../../testing/event-fixtures';
import { isFixedPrompt, speechUnits } from '../../media-edge/speech-synthesizer';
import { localEnv, resetDb, testDb } from '../../testing/platform';
import { decodeWav } from '../../audio/wav';
import { transcriptQuery, type CallResult, type Utterance } from '../../contracts/call';
import type { TurnMetricsData } from '../../contracts/events';
import { FakeSpeechToText } from '../../providers/stt/fake';
import { FallbackSpeechToText } from '../../providers/stt/fallback';
import { speechToTextFromEnv } from '../../media-edge/edge-runtime';
import type { EngineProcessSpeechToText } from '../../providers/stt/engine-process';

const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

describe('audio calls end to end (real audio, local speech engines)', function () {
  this.timeout(180_000);
  let stack: EdgeStack;
  const transcriber = { stt: new PocketsphinxSpeechToText() };
  const recordings = localObjectStore('recordings');
  const handleOf = (r: AudioCallReport) => ({
    result: async (): Promise<CallResult> =>
      (await localEnv()).client.workflow.getHandle(r.workflowId).result(),
  });

  before(async () => {
    // A cache of this run's own: what is synthesized and what is a hit does not depend on
    // earlier runs.
    stack = await startEdgeStack({ env: { TTS_CACHE_NAMESPACE: `tts-test-${process.pid}` } });
  });
  after(async () => {
    await stack?.stop();
  });
  beforeEach(async () => {
    await resetDb();
  });

  const call = (script: CallerScriptItem[], from = ADA): Promise<AudioCallReport> =>
    callStack(stack, script, { from, pace: 2, transcriber });

  it('balance call: the agent says the balance, transcribed back from its audio', async () => {
    const report = await call([
      { kind: 'say', text: "what's my balance" },
      { kind: 'say', text: 'goodbye' },
    ]);
    const said = report.turns.map((t) => t.agentTranscript ?? '').join(' | ');
    assert.match(said, /forty two dollars/, said);
    assert.equal(report.endedBy, 'edge', 'the agent hung up after goodbye');
    const result = await handleOf(report).result();
    assert.equal(result.disposition, 'resolved');
    assert.deepEqual(result.intentPath, ['check_balance', 'goodbye']);
    // The recording: both channels, as long as the call, in the object store.
    assert.ok(result.recording, 'the workflow got the recording key');
    const wav = await recordings.get(result.recording.key);
    assert.ok(wav, 'recording stored');
    const { channels, sampleRate } = decodeWav(wav);
    assert.equal(sampleRate, 8000);
    assert.equal(channels.length, 2);
    const seconds = channels[0]!.length / sampleRate;
    assert.ok(Math.abs(seconds * 1000 - result.recording.durationMs) <= 40, `${seconds} s`);
    assert.ok(rms(channels[0]!) > 50 && rms(channels[1]!) > 50, 'both sides have sound');

    // The turn metrics carry what the edge billed: the reply is spoken sentence by sentence,
    // and this run's cache is new. The account was read with the caller, so its balance
    // sentences were synthesized while the greeting played: billed to the greeting, and the
    // balance turn found them in the call's cache (a fixed sentence may still be synthesized
    // there, unless an earlier call cached it).
    const metrics = await turnMetricsOf(report.workflowId, result.turns + 1); // + the greeting
    const transcript = await (
      await localEnv()
    ).client.workflow
      .getHandle(report.workflowId)
      .query(transcriptQuery);
    const line = transcript.find((e) => e.speaker === 'agent' && e.turnId === 1)!;
    const sentences = speechUnits(line.text);
    const personal = sentences.filter((s) => !isFixedPrompt(s));
    const length = (xs: string[]) => xs.reduce((n, s) => n + s.length, 0);
    assert.ok(personal.length > 0 && personal.length < sentences.length, sentences.join(' | '));
    assert.equal(metrics.get(1)?.tts_cache_hit, true, JSON.stringify([...metrics]));
    const billed = metrics.get(1)?.usage?.tts_characters ?? 0;
    assert.ok(billed <= length(sentences) - length(personal), `${billed} characters`);
    // Turn 0, the greeting: the time to greet, its personal first sentence and the balance's
    // sentences billed.
    const greeting = metrics.get(0);
    assert.equal(greeting?.latency_ms.asr, undefined, 'the greeting heard no caller');
    assert.ok((greeting?.latency_ms.end_to_end ?? 0) > 0);
    assert.equal(greeting?.providers.tts, 'local');
    const greeted = greeting?.usage?.tts_characters ?? 0;
    assert.ok(greeted >= 'Hello Ada, thanks for calling.'.length + length(personal), `${greeted}`);
    for (const [turn, m] of metrics)
      if (!m.tts_cache_hit) assert.ok((m.usage?.tts_characters ?? 0) > 0, `turn ${turn} was synthesized`); // prettier-ignore

    // Personal sentences are cached for this call alone (the post-call workflow removes
    // them); the fixed ones are shared by every call.
    const { cache, voice } = stack.runtime.speechCache;
    const own = { callId: report.callSid };
    for (const s of personal) {
      assert.ok(await cache.get(voice, s, own), `"${s}" is not cached for the call`);
      assert.equal(await cache.get(voice, s), undefined, `"${s}" is shared`);
    }
    for (const s of sentences.filter((x) => isFixedPrompt(x)))
      assert.ok(await cache.get(voice, s), `"${s}" is not shared`);
    assert.ok((await cache.forgetCall(report.callSid)) >= 2, 'greeting and balance per call');
  });

  /** The call's turn.metrics events, by turn (the stack publishes to the test bus). */
  async function turnMetricsOf(workflowId: string, turns: number) {
    const got = new Collector();
    const sub = await testEvents.subscribe({
      groupId: `metrics-${workflowId}`,
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

  const payments = async () => {
    return Number((await (await testDb()).query('SELECT count(*) FROM payments')).rows[0].count);
  };

  it('paid bill: a spoken "yes" pays once', async () => {
    const report = await call([
      { kind: 'say', text: 'I want to pay my bill' },
      { kind: 'say', text: 'yes' },
      { kind: 'say', text: 'goodbye' },
    ]);
    const result = await handleOf(report).result();
    assert.deepEqual(result.intentPath, ['pay_bill', 'confirm_yes', 'goodbye']);
    assert.equal(await payments(), 1);
    assert.match(report.turns.map((t) => t.agentTranscript ?? '').join(' | '), /payment|complete/);
    // The payment line was synthesized while the question played: the yes is answered from
    // the call's cache, and the question's turn paid for it.
    const metrics = await turnMetricsOf(report.workflowId, result.turns + 1);
    assert.equal(metrics.get(2)?.tts_cache_hit, true, JSON.stringify([...metrics]));
    const paidLine = 'Your payment of 42 dollars and 50 cents is complete.';
    assert.ok((metrics.get(1)?.usage?.tts_characters ?? 0) >= paidLine.length);
  });

  it('declined bill: a spoken "no" pays nothing', async () => {
    const report = await call([
      { kind: 'say', text: 'I want to pay my bill' },
      { kind: 'say', text: 'no' },
      { kind: 'say', text: 'goodbye' },
    ]);
    const result = await handleOf(report).result();
    assert.equal(result.intentPath[1], 'confirm_no');
    assert.equal(await payments(), 0);
  });

  it('DTMF: pressing 1 confirms the payment', async () => {
    const report = await call([
      { kind: 'say', text: 'I want to pay my bill' },
      { kind: 'dtmf', digits: '1' },
      { kind: 'say', text: 'goodbye' },
    ]);
    const result = await handleOf(report).result();
    assert.deepEqual(result.intentPath, ['pay_bill', 'confirm_yes', 'goodbye']);
    assert.equal(await payments(), 1);
  });

  it('barge-in: talking over the agent clears its audio and the new utterance is answered', async () => {
    const report = await call([
      { kind: 'say', text: 'I want to pay my bill' },
      // The confirmation question is long; the caller cuts in.
      { kind: 'say', text: 'no', interruptAfterMs: 1200 },
      { kind: 'say', text: 'goodbye' },
    ]);
    assert.ok(
      report.turns.some((t) => t.replyCleared),
      'a clear arrived',
    );
    const env = await localEnv();
    const lines = await env.client.workflow.getHandle(report.workflowId).query(transcriptQuery);
    const cut = lines.find((e) => e.speaker === 'agent' && e.interrupted);
    assert.ok(cut, 'the interrupted reply is marked in the transcript');
    const result = await handleOf(report).result();
    assert.equal(result.intentPath[1], 'confirm_no');
  });

  it('the second identical prompt is a TTS cache hit', async () => {
    await call([{ kind: 'say', text: 'goodbye' }]);
    const hitsBefore = stack.runtime.tts.cacheHits;
    await call([{ kind: 'say', text: 'goodbye' }]);
    assert.ok(stack.runtime.tts.cacheHits > hitsBefore, 'greeting and goodbye came from the cache');
  });

  /** The utterances the edge sent, as the call's histories hold them (a call may continue as new). */
  async function utterancesOf(workflowId: string): Promise<Utterance[]> {
    const { client } = await localEnv();
    const runs = await runHistories(client, workflowId);
    return runs
      .flatMap((history) => history.events ?? [])
      .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest)
      .filter((r) => r?.input?.name === 'utterance')
      .map(
        (r) => JSON.parse(Buffer.from(r!.input!.args!.payloads![0]!.data!).toString()) as Utterance,
      );
  }

  describe('LOCAL_STT=auto: Moonshine for open speech, pocketsphinx for a yes/no answer', () => {
    let routed: EdgeStack;
    before(async () => {
      routed = await startEdgeStack({
        // Moonshine is waited for however busy the machine: who heard what is asserted.
        stt: await speechToTextFromEnv({ LOCAL_STT: 'auto', LOCAL_STT_OPEN_WAIT_MS: '30000' }),
        callWorker: false,
      });
    });
    after(async () => {
      await routed?.stop();
    });

    it('the request is heard openly, the confirmation with the grammar; the bill is paid once', async () => {
      const report = await callStack(routed, saying(['I want to pay my bill', 'yes', 'goodbye']), {
        pace: 2,
      });
      const result = await handleOf(report).result();
      assert.deepEqual(result.intentPath, ['pay_bill', 'confirm_yes', 'goodbye']);
      assert.equal(await payments(), 1);
      const served = (await utterancesOf(report.workflowId)).map((u) => u.asr?.servedBy);
      assert.deepEqual(served, ['moonshine', 'pocketsphinx', 'moonshine']);
    });
  });

  describe("with the local recognizer's process killed mid-utterance", () => {
    let edge: EdgeStack;
    let engine: EngineProcessSpeechToText;
    before(async () => {
      const stt = await speechToTextFromEnv({}); // as the edge builds it: pocketsphinx, its own process
      engine = stt.primary as EngineProcessSpeechToText;
      edge = await startEdgeStack({ stt, callWorker: false });
    });
    after(async () => {
      await edge?.stop();
    });

    it('the utterance is replayed to a new engine process: the caller is heard, the edge lives on', async () => {
      const firstPid = engine.pid!;
      // A native fault (SIGABRT, as an assertion in the engine raises) while the caller speaks.
      const fault = (async () => {
        while (engine.stats.streams === 0) await new Promise((r) => setTimeout(r, 5));
        process.kill(firstPid, 'SIGABRT');
      })();
      const report = await callStack(edge, saying(["what's my balance", 'goodbye']), {
        pace: 2,
        transcriber,
      });
      await fault;
      const said = report.turns.map((t) => t.agentTranscript ?? '').join(' | ');
      assert.match(said, /forty two dollars/, said);
      const result = await handleOf(report).result();
      assert.deepEqual(result.intentPath, ['check_balance', 'goodbye']);
      const [first, second] = await utterancesOf(report.workflowId);
      assert.deepEqual(
        first!.asr?.attempts.map((a) => [a.provider, a.ok, a.kind ?? null, a.replay ?? false]),
        [
          ['pocketsphinx', false, 'unavailable', false],
          ['pocketsphinx', true, null, true],
        ],
      );
      assert.equal(second!.asr?.attempts.length, 1, 'the next utterance streams live again');
      assert.ok(engine.pid && engine.pid !== firstPid, 'a new engine process');
      assert.equal(engine.stats.restarts, 1);
    });
  });

  describe('with the primary recognizer down', () => {
    let failing: EdgeStack;
    before(async () => {
      // A primary that always fails (as a cloud ASR would when unreachable); the local engine is the fallback.
      const down = new FakeSpeechToText({
        name: 'deepgram',
        fail: { kind: 'unavailable', on: 'open', message: 'connect ECONNREFUSED' },
      });
      const local = new PocketsphinxSpeechToText();
      local.warm();
      failing = await startEdgeStack({
        stt: new FallbackSpeechToText(down, local, { backoffMs: [50, 100] }),
        callWorker: false,
      });
    });
    after(async () => {
      await failing?.stop();
    });

    it('the fallback serves after three tries of the primary, and the history records it', async () => {
      const report = await callStack(failing, saying(["what's my balance", 'goodbye']), {
        pace: 2,
      });
      const result = await handleOf(report).result();
      assert.deepEqual(result.intentPath, ['check_balance', 'goodbye']);
      const utterances = await utterancesOf(report.workflowId);
      assert.equal(utterances.length, 2);
      for (const u of utterances) {
        assert.equal(u.asr?.servedBy, 'pocketsphinx');
        const tried = u.asr.attempts.map((a) => `${a.provider}:${a.ok}`);
        assert.deepEqual(tried, [
          'deepgram:false',
          'deepgram:false',
          'deepgram:false',
          'pocketsphinx:true',
        ]);
        assert.equal(u.asr.attempts[0]!.kind, 'unavailable');
        assert.deepEqual(
          u.asr.attempts.map((a) => a.replay),
          [undefined, true, true, true],
        );
      }
    });
  });
});
