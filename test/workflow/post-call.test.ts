// The post-call workflow on the real platform: a Temporal dev server, the S3-compatible
// store of `switchboard infra` (recordings bucket) and the Kafka broker (a topic prefix of
// its own). The recording is a two-channel WAV of synthesized speech (caller: flite awb,
// agent: flite rms, the agent's production voice), transcribed by the local pocketsphinx.
import { localObjectStore } from '../../testing/object-store';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { kafkaBrokers, redisUrl } from '../../infra';
import { RedisCache } from '../../providers/cache/redis';
import { TtsCache } from '../../providers/tts/cache';
import { BoundedSeenEvents, dedupeById } from '../../providers/events';
import { FallbackLanguageModel } from '../../providers/llm/fallback';
import { llmLinksFromEnv } from '../../providers/llm/config';
import { splitAtSilences } from '../../conversation/post-call/split-silence';
import {
  createPostCallActivities,
  transcriptKey,
  type StoredTranscript,
} from '../../activities/post-call-activities';
import { EventBusUnavailableError, type EventBus } from '../../providers/events/port';
import type { ObjectStore } from '../../providers/object-store/port';
import type { PcmAudio, SpeechToText } from '../../providers/stt/port';
import { KafkaEventBus } from '../../providers/events/kafka';
import { S3ObjectStore } from '../../providers/object-store/s3';
import { DeepgramPrerecordedSpeechToText } from '../../providers/stt/deepgram-prerecorded';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { encodeWav } from '../../audio/wav';
import { expectedPhrases, PROMPTS } from '../../workflows/call-state';
import {
  POST_CALL_WORKFLOW_TYPE,
  postCallWorkflowId,
  type PostCallInput,
  type PostCallResult,
} from '../../contracts/post-call';
import { createPostCallWorker } from '../../workers/post-call-worker-factory';
import { Collector } from '../../testing/event-fixtures';
import { DeepgramPrerecordedReplayServer } from '../fixtures/deepgram/prerecorded-replay-server';
import { localEnv, workflowBundle } from '../../testing/platform';
import { decryptedHistory, maybeRecordHistory } from '../../testing/calls';
import { concatPcm, silence, speak } from '../../testing/speech-audio';

const newCallSid = (): string => `CA${randomBytes(16).toString('hex')}`;
const norm = (s: string) => s.toLowerCase().replace(/[^a-z ]/g, '');

const recordingsStore = (bucket: 'recordings' | 'audio' = 'recordings') => localObjectStore(bucket);

/** A call: agent and caller take turns; caller on channel 0, agent on channel 1. */
async function callRecording(): Promise<{ caller: Int16Array; agent: Int16Array }> {
  const turns: ['caller' | 'agent', string][] = [
    ['agent', 'Hello Ada, thanks for calling. How can I help you today?'],
    ['caller', 'what is my balance'],
    ['agent', 'Is there anything else I can help you with?'],
    ['caller', 'talk to an agent'],
    ['agent', 'Connecting you to an agent now. Please hold.'],
  ];
  const tracks = { caller: [] as Int16Array[], agent: [] as Int16Array[] };
  const length = { caller: 0, agent: 0 };
  let now = 0;
  for (const [who, text] of turns) {
    // flite awb for the caller (another voice than the agent's), rms: the agent's own voice.
    const voice = who === 'caller' ? 'awb' : 'rms';
    const { samples } = await speak(text, { engine: 'flite', voice });
    // The other party is silent meanwhile; a second of pause between turns.
    tracks[who].push(silence((now - length[who]) / 8), samples);
    length[who] = now + samples.length;
    now = length[who] + 8000;
  }
  for (const who of ['caller', 'agent'] as const)
    tracks[who].push(silence((now - length[who]) / 8));
  return { caller: concatPcm(...tracks.caller), agent: concatPcm(...tracks.agent) };
}

/** The real recognizer, counting what it is asked (to prove a retry asks nothing again). */
class CountingStt implements SpeechToText {
  calls = 0;
  constructor(private readonly inner: SpeechToText) {}
  get name() {
    return this.inner.name;
  }
  open: SpeechToText['open'] = (opts) => this.inner.open(opts);
  transcribe(audio: PcmAudio, opts?: { hints?: string[] }) {
    this.calls++;
    return this.inner.transcribe(audio, opts);
  }
}

/** Faults a step can meet after its side effect happened (the reply is lost). */
interface Faults {
  forgetReplyLost?: boolean;
  transcriptPutReplyLost?: boolean;
  summaryFails?: boolean;
  publishReplyLost?: boolean;
}

function faultyStore(store: ObjectStore, faults: Faults): ObjectStore {
  return {
    get: (key) => store.get(key),
    delete: (key) => store.delete(key),
    async put(key, body, opts) {
      const r = await store.put(key, body, opts);
      if (key.startsWith('transcripts/') && faults.transcriptPutReplyLost) {
        faults.transcriptPutReplyLost = false;
        throw new Error('socket hang up (after the object was stored)');
      }
      return r;
    },
  };
}

function faultyBus(bus: EventBus, faults: Faults): EventBus {
  return {
    name: bus.name,
    subscribe: (o) => bus.subscribe(o),
    subscribeBatches: (o) => bus.subscribeBatches(o),
    close: () => bus.close(),
    async publish(drafts) {
      const events = await bus.publish(drafts);
      if (faults.publishReplyLost) {
        faults.publishReplyLost = false;
        throw new EventBusUnavailableError('kafka', 'broker acknowledgement lost');
      }
      return events;
    },
  };
}

/** The chain as configured, failing its next call when told (a model crashed mid-answer). */
class FaultyChain extends FallbackLanguageModel {
  constructor(
    chain: FallbackLanguageModel,
    private readonly faults: Faults,
  ) {
    super([...chain.links]);
  }
  override complete(...args: Parameters<FallbackLanguageModel['complete']>) {
    if (this.faults.summaryFails) {
      this.faults.summaryFails = false;
      return Promise.reject(new Error('language model process died'));
    }
    return super.complete(...args);
  }
}

/** JSON.stringify replacer: payload bytes as text, so history can be searched for strings. */
function payloadText(key: string, value: unknown): unknown {
  // fetchHistory() gives payload bytes as base64 strings under `data`.
  if (key === 'data' && typeof value === 'string') return Buffer.from(value, 'base64').toString();
  return value;
}

describe('postCallWorkflow (real Temporal, S3 store, Kafka)', function () {
  this.timeout(180_000);
  const run = randomBytes(4).toString('hex');
  const prefix = `test-postcall-${run}.`;
  const taskQueue = `post-call-test-${run}`;
  const faults: Faults = {};
  let env: TestWorkflowEnvironment;
  let store: S3ObjectStore;
  let bus: KafkaEventBus;
  let stt: CountingStt;
  let sphinx: PocketsphinxSpeechToText;
  let worker: Worker;
  let running: Promise<void>;
  const raw = new Collector();
  const once = new Collector();
  const subs: { close(): Promise<void> }[] = [];
  let recording: { caller: Int16Array; agent: Int16Array };
  let redis: Redis;
  let speech: TtsCache;

  before(async () => {
    env = await localEnv();
    store = recordingsStore();
    bus = new KafkaEventBus({ brokers: kafkaBrokers(), topicPrefix: prefix, partitions: 1 });
    await bus.ensureTopics();
    subs.push(
      await bus.subscribe({ groupId: `${prefix}raw`, handlers: raw.handlers(['call.analyzed']) }),
      await bus.subscribe({
        groupId: `${prefix}once`,
        handlers: dedupeById(once.handlers(['call.analyzed']), new BoundedSeenEvents()),
      }),
    );
    sphinx = new PocketsphinxSpeechToText({ poolSize: 1 });
    stt = new CountingStt(sphinx);
    const llm = new FallbackLanguageModel(
      llmLinksFromEnv({ LLM_CHAIN: 'template' }, () => undefined),
    );
    redis = new Redis(redisUrl());
    speech = new TtsCache({
      cache: new RedisCache(redis),
      store: recordingsStore('audio'),
      namespace: `tts-${run}`,
    });
    worker = await createPostCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      deps: {
        recordings: faultyStore(store, faults),
        stt,
        llm: new FaultyChain(llm, faults),
        events: faultyBus(bus, faults),
        speechCache: {
          async forgetCall(callId) {
            const removed = await speech.forgetCall(callId);
            if (faults.forgetReplyLost) {
              faults.forgetReplyLost = false;
              throw new Error('ECONNRESET (after the entries were deleted)');
            }
            return removed;
          },
        },
        hints: { caller: expectedPhrases('idle') },
        log: () => undefined,
      },
    });
    running = worker.run();
    recording = await callRecording();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    for (const s of subs) await s.close();
    await bus?.close();
    sphinx?.dispose();
    redis?.disconnect();
  });

  async function uploadRecording(callSid: string): Promise<string> {
    const key = `recordings/${callSid}.wav`;
    const wav = encodeWav({ channels: [recording.caller, recording.agent], sampleRate: 8000 });
    await store.put(key, wav, { contentType: 'audio/wav', ifAbsent: true });
    return key;
  }

  function input(callSid: string, over: Partial<PostCallInput> = {}): PostCallInput {
    return {
      callSid,
      callWorkflowId: `call-${callSid}`,
      customerId: 'cus_ada',
      disposition: 'transferred',
      intents: ['check_balance', 'talk_to_agent'],
      turns: 2,
      durationMs: 21_400,
      fallbacks: ['tts:flite'],
      lowConfidenceTurns: 1,
      transferred: true,
      ...over,
    };
  }

  async function runPostCall(i: PostCallInput) {
    const handle = await env.client.workflow.start(POST_CALL_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: postCallWorkflowId(i.callSid),
      args: [i],
    });
    const result = (await handle.result()) as PostCallResult;
    return { handle, result };
  }

  async function storedTranscript(callSid: string): Promise<StoredTranscript> {
    const body = await store.get(transcriptKey(callSid));
    assert.ok(body, 'no transcript stored');
    return JSON.parse(body.toString('utf8')) as StoredTranscript;
  }

  const expectedSegments = () =>
    splitAtSilences(recording.caller, { sampleRate: 8000 }).length +
    splitAtSilences(recording.agent, { sampleRate: 8000 }).length;

  it('transcribes both channels, summarises, flags, and publishes call.analyzed once', async () => {
    const callSid = newCallSid();
    const recordingKey = await uploadRecording(callSid);
    const before = stt.calls;
    const { handle, result } = await runPostCall(input(callSid, { recordingKey }));
    await maybeRecordHistory(env, handle.workflowId, 'post-call-transcribed');

    // The transcript: both speakers, in time order, what each said.
    const t = await storedTranscript(callSid);
    assert.equal(t.recording_key, recordingKey);
    assert.equal(t.provider, 'pocketsphinx');
    const caller = t.segments.filter((s) => s.speaker === 'caller').map((s) => norm(s.text));
    const agent = t.segments.filter((s) => s.speaker === 'agent').map((s) => norm(s.text));
    assert.equal(caller.length, 2, `caller lines: ${caller.join(' | ')}`);
    assert.match(caller[0]!, /\bbalance\b/);
    assert.match(caller[1]!, /talk to an agent/);
    assert.equal(agent.length, 3, `agent lines: ${agent.join(' | ')}`);
    assert.match(agent[1]!, /anything else/);
    const starts = t.segments.map((s) => s.start_ms);
    assert.deepEqual(
      starts,
      [...starts].sort((a, b) => a - b),
    );
    assert.deepEqual(
      t.segments.map((s) => s.speaker),
      ['agent', 'caller', 'agent', 'caller', 'agent'],
    );
    assert.equal(stt.calls - before, expectedSegments());

    assert.deepEqual(result.transcript, {
      key: transcriptKey(callSid),
      provider: 'pocketsphinx',
      words: t.words,
      created: true,
    });
    assert.ok(t.words >= 20, `words ${t.words}`);
    assert.deepEqual(result.summary, {
      summary:
        'Caller checked their balance and asked for an agent; the call was transferred to an ' +
        'agent after 2 turns (21 s).',
      disposition: 'transferred',
      provider: 'template',
    });
    assert.deepEqual(result.qaFlags, [
      'escalated',
      'low_confidence',
      'fallback_used',
      'fallback:tts:flite',
    ]);

    // Only the transcript's key went into history, never its text.
    const history = JSON.stringify(await decryptedHistory(handle), payloadText);
    assert.ok(history.includes(transcriptKey(callSid)));
    assert.ok(!/talk to an agent|anything else/i.test(history), 'transcript text in history');

    // The event, on Kafka, once.
    const id = `${postCallWorkflowId(callSid)}:call.analyzed:0`;
    assert.equal(result.eventId, id);
    await once.until('the call.analyzed event', () => once.ids().includes(id));
    const event = once.received.find((r) => r.event.id === id)!.event;
    assert.equal(event.type, 'call.analyzed');
    assert.equal(event.call_id, callSid);
    assert.equal(event.schema_version, 1);
    assert.deepEqual(event.data, {
      summary: result.summary.summary,
      disposition: 'transferred',
      qa_flags: result.qaFlags,
      summary_provider: 'template',
      transcription_provider: 'pocketsphinx',
      transcript_words: t.words,
    });
  });

  it('a retry of any step repeats nothing: one transcription, one stored transcript, one event', async () => {
    const callSid = newCallSid();
    const recordingKey = await uploadRecording(callSid);
    const before = stt.calls;
    const personal = 'Hello Ada, thanks for calling.';
    const audio = { mulaw: Buffer.alloc(800, 0xff), durationMs: 100, provider: 'local', voice: 'v' }; // prettier-ignore
    await speech.put(audio, personal, { callId: callSid });
    Object.assign(faults, {
      forgetReplyLost: true,
      transcriptPutReplyLost: true,
      summaryFails: true,
      publishReplyLost: true,
    });
    const { handle, result } = await runPostCall(input(callSid, { recordingKey }));
    assert.deepEqual(faults, {
      forgetReplyLost: false,
      transcriptPutReplyLost: false,
      summaryFails: false,
      publishReplyLost: false,
    });

    // Each faulty step ran twice (Temporal retried it)...
    const attempts = new Map<string, number>();
    const history = await handle.fetchHistory();
    const scheduled = new Map<string, string>();
    for (const e of history.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '?');
      const started = e.activityTaskStartedEventAttributes;
      if (started) {
        const name = scheduled.get(String(started.scheduledEventId))!;
        attempts.set(name, started.attempt ?? 1);
      }
    }
    assert.deepEqual(Object.fromEntries(attempts), {
      forgetCallSpeech: 2,
      transcribeRecording: 2,
      summarizeCall: 2,
      flagCall: 1,
      publishCallAnalyzed: 2,
    });
    // ...and repeated nothing: the cached speech gone (the retry found nothing left), the
    // audio recognised once, the stored transcript kept.
    assert.equal(await speech.get('v', personal, { callId: callSid }), undefined);
    assert.equal(result.speechForgotten, 0);
    assert.equal(stt.calls - before, expectedSegments());
    const t = await storedTranscript(callSid);
    assert.equal(result.transcript?.created, false);
    assert.equal(result.transcript?.words, t.words);

    // The event was sent twice (the first acknowledgement was lost) under one id: a
    // consumer that drops repeats by id sees it once.
    const id = `${postCallWorkflowId(callSid)}:call.analyzed:0`;
    await raw.until('both deliveries', () => raw.ids().filter((i) => i === id).length >= 2);
    await once.until('the event', () => once.ids().includes(id));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(raw.ids().filter((i) => i === id).length, 2);
    assert.equal(once.ids().filter((i) => i === id).length, 1);
  });

  it('the same post-call id again finds the transcript and publishes the same event id', async () => {
    // A transcript stored by an earlier run (e.g. a reset workflow) is used as is.
    const callSid = newCallSid();
    const recordingKey = await uploadRecording(callSid);
    const first = await runPostCall(input(callSid, { recordingKey }));
    await env.client.workflow
      .getHandle(first.handle.workflowId)
      .describe()
      .then((d) => assert.equal(d.status.name, 'COMPLETED'));
    const before = stt.calls;
    const again = await env.client.workflow.start(POST_CALL_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: postCallWorkflowId(callSid),
      args: [input(callSid, { recordingKey })],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    const second = (await again.result()) as PostCallResult;
    assert.equal(stt.calls, before, 'the recording was recognised again');
    assert.equal(second.transcript?.created, false);
    assert.equal(second.eventId, first.result.eventId);
  });

  it('removes the call’s personal speech from the TTS cache, and nothing else', async () => {
    const [callSid, other] = [newCallSid(), newCallSid()];
    const audio = { mulaw: Buffer.alloc(800, 0xff), durationMs: 100, provider: 'local', voice: 'flite:slt' }; // prettier-ignore
    const mine = ['Hello Ada, thanks for calling.', 'Your balance is 42 dollars and 50 cents.'];
    for (const text of mine) await speech.put(audio, text, { callId: callSid });
    await speech.put(audio, 'Hello Grace, thanks for calling.', { callId: other });
    await speech.put(audio, PROMPTS.goodbye);

    const { result } = await runPostCall(input(callSid));
    assert.equal(result.speechForgotten, 2);
    for (const text of mine)
      assert.equal(await speech.get(audio.voice, text, { callId: callSid }), undefined, text);
    assert.ok(await speech.get(audio.voice, 'Hello Grace, thanks for calling.', { callId: other }));
    assert.ok(await speech.get(audio.voice, PROMPTS.goodbye), 'a shared prompt was removed');
    await speech.forgetCall(other);
  });

  it('no recording, or a recording that is not there: analysed anyway, flagged', async () => {
    const none = await runPostCall(
      input(newCallSid(), {
        disposition: 'resolved',
        transferred: false,
        fallbacks: [],
        lowConfidenceTurns: 0,
        intents: ['check_balance', 'goodbye'],
      }),
    );
    assert.equal(none.result.transcriptMissing, 'no_recording');
    assert.deepEqual(none.result.qaFlags, ['no_recording']);
    assert.equal(none.result.summary.provider, 'template');

    const sid = newCallSid();
    const missing = await runPostCall(
      input(sid, { recordingKey: `recordings/${sid}.wav`, refusedAnswers: 2 }),
    );
    assert.equal(missing.result.transcriptMissing, 'transcription_failed');
    assert.ok(missing.result.qaFlags.includes('transcription_failed'));
    assert.ok(missing.result.qaFlags.includes('refused_answers'));
    await once.until('both events', () =>
      [none.result.eventId, missing.result.eventId].every((id) => once.ids().includes(id)),
    );
    const ev = once.received.find((r) => r.event.id === missing.result.eventId)!.event;
    assert.equal(ev.type === 'call.analyzed' && ev.data.transcription_provider, 'none');
  });

  it('with Deepgram pre-recorded (recorded exchanges): card digits are redacted before storing', async () => {
    const server = await DeepgramPrerecordedReplayServer.start();
    try {
      const callSid = newCallSid();
      const c = await speak('my card number is four one one one', {
        engine: 'flite',
        voice: 'kal',
      });
      const a = await speak('Your balance is 42 dollars and 50 cents.', {
        engine: 'flite',
        voice: 'rms',
      });
      const key = `recordings/${callSid}.wav`;
      await store.put(
        key,
        encodeWav({
          channels: [concatPcm(silence(1000), c.samples), concatPcm(silence(6000), a.samples)],
          sampleRate: 8000,
        }),
      );
      // Channel 0 (caller) is recognised first, then channel 1 (agent).
      server.enqueue('card-number', 'agent-reply');
      const acts = createPostCallActivities({
        recordings: store,
        stt: new DeepgramPrerecordedSpeechToText({ apiKey: 'dg-test-key', baseUrl: server.url }),
        events: bus,
        log: () => undefined,
      });
      const ref = await acts.transcribeRecording({ callSid, recordingKey: key });
      assert.equal(server.requests.length, 2);
      assert.equal(ref.provider, 'deepgram');
      const stored = (await store.get(transcriptKey(callSid)))!.toString('utf8');
      // The call sid is random hex and may hold these digits itself: look past it.
      const said = stored.replaceAll(callSid, '');
      assert.ok(!/4111|1111/.test(said), `digits stored: ${stored}`);
      const t = JSON.parse(stored) as StoredTranscript;
      assert.deepEqual(
        t.segments.map((s) => [s.speaker, s.text]),
        [
          ['caller', 'My card number is [card].'],
          ['agent', 'Your balance is 42 dollars and 50 cents.'],
        ],
      );
    } finally {
      await server.close();
    }
  });
});
