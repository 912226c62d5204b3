// A prolonged TTS outage, for real, through the whole edge: Polly's stand-in behind a
// Toxiproxy proxy that goes down, and the local engine's binary missing, on a breaker quick
// to open and probe. A call in conversation when the outage begins keeps it (prompts and
// pieces); a new call, once every synthesizer has been out for TTS_OUTAGE_AFTER_MS, hears
// the prerecorded outage notice, the edge hangs up, and the call worker texts and calls the
// caller back once through Twilio's stand-in. Polly back: the next call is greeted as usual.
import assert from 'node:assert/strict';
import type { Worker } from '@temporalio/worker';
import { callbackWorkflowId, transcriptQuery, type TranscriptEntry } from '../../contracts/call';
import { ProviderHealth } from '../../providers/health/provider-health';
import { TwilioTelephony } from '../../providers/telephony/twilio';
import { FallbackTextToSpeech } from '../../providers/tts/fallback';
import { LocalTts } from '../../providers/tts/local';
import { PiecewiseSpeech } from '../../providers/tts/piecewise';
import { PollyTts } from '../../providers/tts/polly';
import { PrerecordedTts } from '../../providers/tts/prerecorded';
import type { CallbackResult } from '../../workflows/callback';
import { PROMPTS } from '../../workflows/call-state';
import { ADA, callWorker } from '../../testing/calls';
import { QUICK_BREAKER } from '../../testing/degraded';
import { callStack, saying, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { hostPort, startFaultProxy, throughProxy, type FaultProxy } from '../../testing/faults';
import { localEnv, resetDb } from '../../testing/platform';
import { TwilioRestReplayServer } from '../../testing/twilio-rest-replay';
import { FAKE_AWS_ENV, PollyReplayServer } from '../helpers/tts-vendors';

const QUEUE = '+15550002222';

describe('a prolonged TTS outage: new calls get the notice and a call back', function () {
  this.timeout(300_000);
  const pollyServer = new PollyReplayServer();
  const twilioApi = new TwilioRestReplayServer();
  const health = new ProviderHealth({ policy: QUICK_BREAKER });
  let proxy: FaultProxy;
  let chain: FallbackTextToSpeech;
  let stack: EdgeStack;
  let worker: Worker;
  let running: Promise<void>;

  before(async () => {
    await resetDb();
    const url = await pollyServer.start();
    proxy = await (await startFaultProxy()).proxy('tts-outage-polly', hostPort(url));
    await twilioApi.start();
    const polly = new PollyTts({ endpoint: throughProxy(url, proxy) }, { ...FAKE_AWS_ENV });
    chain = new FallbackTextToSpeech(
      [
        { provider: 'polly', port: polly, timeoutMs: 2_000 },
        { provider: 'local', port: new LocalTts({ command: '/nonexistent/flite' }), timeoutMs: 4_000 }, // prettier-ignore
        { provider: 'prerecorded', port: new PrerecordedTts(), timeoutMs: 500 },
        { provider: 'pieces', port: new PiecewiseSpeech(), timeoutMs: 500 },
      ],
      health.forFamily('tts'),
    );
    stack = await startEdgeStack({
      chain,
      health,
      callWorker: false,
      env: {
        TTS_CACHE_NAMESPACE: `tts-outage-${process.pid}`,
        TTS_OUTAGE_AFTER_MS: '500',
        AGENT_QUEUE_NUMBER: QUEUE,
        CALL_CALLBACK_DELAY_MS: '500',
      },
    });
    const env = await localEnv();
    worker = await callWorker(env, undefined, undefined, undefined, new TwilioTelephony(twilioApi.env)); // prettier-ignore
    running = worker.run();
  });
  after(async () => {
    await stack?.stop();
    worker?.shutdown();
    await running;
    await proxy?.up();
    await pollyServer.close();
    await twilioApi.close();
    await health.close();
  });

  const agentLines = async (workflowId: string): Promise<TranscriptEntry[]> => {
    const { client } = await localEnv();
    const t = await client.workflow.getHandle(workflowId).query(transcriptQuery);
    return t.filter((e) => e.speaker === 'agent');
  };
  const breakerOpen = (p: string) => health.state(`tts:${p}`).state.state === 'open';

  it('a call in conversation when every synthesizer goes out keeps its conversation', async () => {
    const call = callStack(
      stack,
      [
        { kind: 'say', text: "what's my balance" },
        { kind: 'pause', ms: 8_000 },
        { kind: 'say', text: "what's my balance" },
        { kind: 'say', text: 'goodbye' },
      ],
      { from: ADA, pace: 2 },
    );
    // Its first answer played: now the outage begins (two failed syntheses open each breaker).
    while (stack.runtime.calls.turnTimings.length < 1) await new Promise((r) => setTimeout(r, 100)); // prettier-ignore
    await proxy.down();
    for (let i = 0; i < 2; i++) await chain.synthesize(PROMPTS.goodbye).catch(() => undefined);
    assert.ok(breakerOpen('polly') && breakerOpen('local'), 'every synthesizer is out');
    const report = await call;
    const lines = await agentLines(report.workflowId);
    assert.ok(!lines.some((l) => l.text === PROMPTS.ttsOutageCallBack), 'no notice mid-call');
    assert.match(lines[2]?.text ?? '', /Your balance is/, 'answered during the outage');
    assert.match(lines.at(-1)?.text ?? '', /Goodbye/);
    const spoken = report.turns.filter((t) => !t.caller?.startsWith('[silent'));
    for (const t of spoken) assert.ok(t.agentAudioMs > 0, `turn ${t.index} was silent`);
  });

  it('a new call hears the notice, is hung up on, and is texted then called back once', async () => {
    // Out for TTS_OUTAGE_AFTER_MS (0.5 s) since the last synthesizer went out.
    await new Promise((r) => setTimeout(r, 600));
    const since = twilioApi.mark();
    const report = await callStack(stack, saying(["what's my balance"]), { from: ADA, pace: 2 });
    assert.equal(report.endedBy, 'edge', 'the edge hung up after the notice');
    const lines = await agentLines(report.workflowId);
    assert.deepEqual(
      lines.map((l) => l.text),
      [PROMPTS.ttsOutageCallBack],
    );
    // What the caller got is the prerecorded notice: as long as its shipped audio.
    const notice = await new PrerecordedTts().synthesize(PROMPTS.ttsOutageCallBack);
    const heardMs = report.turns[0]?.agentAudioMs ?? 0;
    assert.ok(Math.abs(heardMs - notice.durationMs) <= 100, `heard ${heardMs} ms of a ${notice.durationMs} ms notice`); // prettier-ignore
    const { client } = await localEnv();
    const handle = client.workflow.getHandle(report.workflowId);
    const result = await handle.result();
    assert.equal(result.disposition, 'resolved');
    assert.equal(result.callbackRequested, true);
    const callback: CallbackResult = await client.workflow
      .getHandle(callbackWorkflowId(report.callSid))
      .result();
    assert.equal(callback.smsSent, true);
    const sms = twilioApi.creations('Messages', ADA, since);
    assert.equal(sms.length, 1, 'one text');
    assert.match(sms[0]?.form.Body ?? '', /voice system/);
    assert.equal(twilioApi.creations('Calls', ADA, since).length, 1, 'one call back placed');
    assert.equal(twilioApi.calls.get(callback.callbackSid)?.to, ADA);
  });

  it('Polly back: the next call probes it and gets the conversation', async () => {
    await proxy.up();
    // Past the open period (1 s): the breaker is half-open, due for its probe.
    await new Promise((r) => setTimeout(r, 1_200));
    const report = await callStack(stack, saying(['goodbye']), { from: ADA, pace: 2 });
    const lines = await agentLines(report.workflowId);
    assert.match(lines[0]?.text ?? '', /thanks for calling/);
    assert.match(lines.at(-1)?.text ?? '', /Goodbye/);
    assert.ok(!breakerOpen('polly'), 'the probe closed Polly');
    await assert.rejects(
      (await localEnv()).client.workflow.getHandle(callbackWorkflowId(report.callSid)).describe(),
    );
  });
});
