// The object store down, for real: SeaweedFS behind Toxiproxy with the proxy disabled. A
// call's recording is kept on the edge's disk, the call completes, and once the store is back
// the recording is uploaded once, the workflow gets its key and the spool is empty. Down for
// longer than the call's recording wait, the recording arrives after its call closed: the
// late-recording workflow puts it on the CRM call log and has it analysed, once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { kafkaBrokers, objectStoreConfig } from '../../infra';
import { RecordingSpool } from '../../media-edge/call/recording-spool';
import { noticeRecording } from '../../media-edge/call/recording-notice';
import type { CallResult, RecordingRef } from '../../contracts/call';
import {
  lateAnalysisWorkflowId,
  postCallWorkflowId,
  recordingWorkflowId,
  type LateRecordingResult,
  type PostCallResult,
} from '../../contracts/post-call';
import { KafkaEventBus } from '../../providers/events/kafka';
import { Collector } from '../../testing/event-fixtures';
import { createPostCallWorker } from '../../workers/post-call-worker-factory';
import { S3ObjectStore } from '../../providers/object-store/s3';
import { type FaultProxy, hostPort, startFaultProxy, throughProxy } from '../../testing/faults';
import { callStack, saying, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { localEnv, resetDb, workflowBundle } from '../../testing/platform';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';

const recordingsCfg = objectStoreConfig('recordings');
const store = (endpoint = recordingsCfg.endpoint) =>
  new S3ObjectStore({
    bucket: recordingsCfg.bucket,
    endpoint,
    region: recordingsCfg.region,
    credentials: {
      accessKeyId: recordingsCfg.accessKeyId,
      secretAccessKey: recordingsCfg.secretAccessKey,
    },
    // Refused connections fail fast; one SDK attempt keeps the test's retries the spool's.
    maxAttempts: 1,
  });

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const spoolFiles = (dir: string) =>
  fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.endsWith('.tmp')) : [];

describe('object store down: recordings spooled on the edge disk', function () {
  this.timeout(300_000);
  let proxy: FaultProxy;
  let dir: string;
  const direct = store();

  before(async () => {
    proxy = await (
      await startFaultProxy()
    ).proxy('object-store-recordings', hostPort(recordingsCfg.endpoint));
  });
  beforeEach(async () => {
    await proxy.clear();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps the WAV on disk while the store is down, uploads it once when it returns', async () => {
    const callSid = `CAspool${Date.now()}`;
    const key = `recordings/${callSid}.wav`;
    const told: RecordingRef[] = [];
    const logs: string[] = [];
    const spool = new RecordingSpool({
      dir,
      store: store(throughProxy(recordingsCfg.endpoint, proxy)),
      notify: async (_sid, ref) => void told.push(ref),
      log: (msg) => logs.push(msg),
      retryFirstMs: 200,
      retryMaxMs: 500,
    });
    await proxy.down();
    const wav = Buffer.from('RIFF-test-recording');
    await spool.keep(callSid, wav, { key, durationMs: 20, truncated: false });
    assert.deepEqual(spoolFiles(dir).sort(), [`${callSid}.json`, `${callSid}.wav`]);
    assert.deepEqual(told, [], 'the workflow is not told before the upload');
    assert.equal(await direct.get(key), undefined);
    assert.ok(
      logs.some((l) => /kept on disk/.test(l)),
      logs.join('\n'),
    );

    await proxy.up();
    await eventually('the spool emptied', async () =>
      spoolFiles(dir).length === 0 ? true : undefined,
    );
    assert.deepEqual(await direct.get(key), wav);
    assert.deepEqual(told, [{ key, durationMs: 20, truncated: false }], 'told once');
    spool.close();
  });

  it('uploads on start what an earlier run left in the spool', async () => {
    const callSid = `CAleft${Date.now()}`;
    const key = `recordings/${callSid}.wav`;
    const down = new RecordingSpool({
      dir,
      store: store(throughProxy(recordingsCfg.endpoint, proxy)),
      notify: async () => assert.fail('not uploaded, not told'),
      log: () => undefined,
    });
    await proxy.down();
    await down.keep(callSid, Buffer.from('left-behind'), { key, durationMs: 20, truncated: false });
    down.close(); // the edge stops with the store still away
    assert.equal(spoolFiles(dir).length, 2);

    await proxy.up();
    const told: string[] = [];
    const next = new RecordingSpool({
      dir,
      store: store(throughProxy(recordingsCfg.endpoint, proxy)),
      notify: async (sid) => void told.push(sid),
      log: () => undefined,
    });
    assert.equal(await next.resume(), 1);
    assert.deepEqual(spoolFiles(dir), []);
    assert.deepEqual(await direct.get(key), Buffer.from('left-behind'));
    assert.deepEqual(told, [callSid]);
    // A second start finds nothing, and the store's object is not written again.
    assert.equal(await next.resume(), 0);
    next.close();
  });

  describe('during a real audio call', () => {
    let stack: EdgeStack;

    before(async () => {
      stack = await startEdgeStack({
        env: {
          S3_ENDPOINT: throughProxy(recordingsCfg.endpoint, proxy),
          RECORDING_SPOOL_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'edge-spool-')),
          RECORDING_RETRY_MAX_MS: '1000',
          TTS_CACHE_NAMESPACE: `tts-spool-${process.pid}`,
        },
      });
    });
    after(async () => {
      await stack?.stop();
    });

    it('the call completes with the store down; the recording reaches its call log after', async () => {
      await resetDb();
      const spoolDir = stack.runtime.recordings.dir;
      await proxy.down();
      const report = await callStack(stack, saying(["what's my balance", 'goodbye']), {
        pace: 2,
        transcriber: { stt: new PocketsphinxSpeechToText() },
      });
      const said = report.turns.map((t) => t.agentTranscript ?? '').join(' | ');
      assert.match(said, /forty two dollars/, 'the call was answered with the store down');
      const key = `recordings/${report.callSid}.wav`;
      // On disk, not in the store, while the workflow waits for it.
      await eventually('the recording spooled', async () =>
        spoolFiles(spoolDir).includes(`${report.callSid}.wav`) ? true : undefined,
      );
      assert.equal(await direct.get(key), undefined);

      await proxy.up();
      const handle = (await localEnv()).client.workflow.getHandle(report.workflowId);
      const result = await handle.result();
      assert.equal(result.disposition, 'resolved', 'no failed workflow');
      assert.equal(result.recording?.key, key, 'the call log has the recording key');
      assert.ok(await direct.get(key), 'uploaded');
      await eventually('the spool emptied', async () =>
        spoolFiles(spoolDir).length === 0 ? true : undefined,
      );
    });
  });

  describe('down for longer than the call waits for its recording', function () {
    // A real call, then both channels recognised on a busy machine.
    this.timeout(600_000);
    const prefix = `late-rec-${process.pid}-${Date.now()}.`;
    const analyzed = new Collector();
    let stack: EdgeStack;
    let bus: KafkaEventBus;
    let sub: { close(): Promise<void> };
    let sphinx: PocketsphinxSpeechToText;
    let postCall: Worker;
    let running: Promise<void>;

    before(async () => {
      const env = await localEnv();
      // The calls above left their analyses unpolled: they are not this test's to wait behind.
      for await (const wf of env.client.workflow.list({
        query: `WorkflowType = "postCallWorkflow" AND ExecutionStatus = "Running"`,
      }))
        await env.client.workflow.getHandle(wf.workflowId).terminate('not part of this test');
      stack = await startEdgeStack({
        env: {
          S3_ENDPOINT: throughProxy(recordingsCfg.endpoint, proxy),
          RECORDING_SPOOL_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'edge-spool-')),
          RECORDING_RETRY_MAX_MS: '1000',
          // Shortened: the call closes long before the store is back.
          CALL_RECORDING_WAIT_MS: '1000',
          TTS_CACHE_NAMESPACE: `tts-late-${process.pid}`,
        },
      });
      bus = new KafkaEventBus({ brokers: kafkaBrokers(), topicPrefix: prefix, partitions: 1 });
      await bus.ensureTopics();
      sub = await bus.subscribe({
        groupId: `${prefix}analyzed`,
        handlers: analyzed.handlers(['call.analyzed']),
      });
      sphinx = new PocketsphinxSpeechToText({ poolSize: 1 });
      postCall = await createPostCallWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        workflowBundle: await workflowBundle(),
        deps: { recordings: direct, stt: sphinx, events: bus, log: () => undefined },
      });
      running = postCall.run();
    });
    after(async () => {
      postCall?.shutdown();
      await running;
      await stack?.stop();
      await sub?.close();
      await bus?.close();
      sphinx?.dispose();
    });

    const analyzedBy = (workflowId: string) =>
      analyzed.received.filter((r) => r.event.workflow_id === workflowId);

    it('the key reaches the CRM call log and the recording is analysed once, after the call closed', async () => {
      const db = await resetDb();
      const { client } = await localEnv();
      const spoolDir = stack.runtime.recordings.dir;
      await proxy.down();
      const report = await callStack(stack, saying(["what's my balance", 'goodbye']), {
        pace: 2,
        transcriber: { stt: new PocketsphinxSpeechToText() },
      });
      const { callSid } = report;
      const key = `recordings/${callSid}.wav`;
      const call: CallResult = await client.workflow.getHandle(report.workflowId).result();
      assert.equal(call.recording, undefined, 'the call closed before the recording was stored');
      assert.ok(call.callLogId, 'the call log was written without it');
      const first: PostCallResult = await client.workflow
        .getHandle(postCallWorkflowId(callSid))
        .result();
      assert.equal(first.transcriptMissing, 'no_recording');
      assert.ok(spoolFiles(spoolDir).includes(`${callSid}.wav`), 'still on the edge disk');

      await proxy.up();
      const late = client.workflow.getHandle(recordingWorkflowId(callSid));
      const result: LateRecordingResult = await eventually('the late-recording workflow', () =>
        late.describe().then(
          () => late.result(),
          () => undefined,
        ),
      );
      assert.deepEqual(result.callLog, { id: call.callLogId });
      const rows = await db.query('SELECT recording_key FROM call_logs WHERE call_sid = $1', [
        callSid,
      ]);
      assert.deepEqual(rows.rows, [{ recording_key: key }], 'one call log, with the key');
      const transcript = await direct.get(`transcripts/${callSid}.json`);
      assert.ok(transcript, 'the transcript is in the store');
      assert.equal(JSON.parse(transcript.toString('utf8')).recording_key, key);
      assert.equal(result.analysis.transcript?.key, `transcripts/${callSid}.json`);
      assert.equal(result.analysis.transcriptMissing, undefined);
      await analyzed.until('the late call.analyzed', () => analyzedBy(lateAnalysisWorkflowId(callSid)).length > 0); // prettier-ignore
      await eventually('the spool emptied', async () =>
        spoolFiles(spoolDir).length === 0 ? true : undefined,
      );

      // The same recording uploaded again (an edge restart with the entry still on disk).
      const notices: unknown[] = [];
      const again = new RecordingSpool({
        dir: fs.mkdtempSync(path.join(os.tmpdir(), 'spool-again-')),
        store: direct,
        notify: async (sid, ref) => {
          const notice = await noticeRecording(client, sid, ref);
          notices.push(notice);
          return notice;
        },
        log: () => undefined,
      });
      await again.keep(callSid, (await direct.get(key))!, { key, durationMs: 1, truncated: false });
      again.close();
      assert.deepEqual(notices, ['late_already_started']);
      for (const id of [recordingWorkflowId(callSid), lateAnalysisWorkflowId(callSid)]) {
        const { count } = await client.workflow.count(`WorkflowId = "${id}"`);
        assert.equal(count, 1, id);
      }
      // No second analysis ran, so no second call.analyzed: one per analysis.
      assert.equal(analyzedBy(lateAnalysisWorkflowId(callSid)).length, 1);
      assert.equal(analyzedBy(postCallWorkflowId(callSid)).length, 1);
      assert.deepEqual(
        (await db.query('SELECT count(*)::int AS n FROM call_logs WHERE call_sid = $1', [callSid]))
          .rows,
        [{ n: 1 }],
      );
    });
  });
});
