// Whole calls for `bench --faults`: the media-edge (webhooks, Media Streams, speech, cache,
// recordings), the call and post-call workers publishing to Kafka, all on the local Temporal
// dev server, real PostgreSQL, Redis and object store — and the calls placed through them,
// with audio by the simulated caller or as text updates the way the edge sends them. What a
// scenario counts comes from what the calls heard, what Temporal says of each workflow and
// what the stores hold afterwards.
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Worker } from '@temporalio/worker';
import type { Answerer } from '../conversation/answers/answerer';
import { callStatusSignal } from '../contracts/call';
import type { AnyBusEvent } from '../contracts/events';
import { kafkaBrokers, objectStoreConfig } from '../infra';
import { KafkaEventBus } from '../providers/events/kafka';
import type { EventSubscription } from '../providers/events/port';
import type { ProviderHealth } from '../providers/health/provider-health';
import { createEmbeddingIntentClassifier } from '../providers/intent/embedding';
import { S3ObjectStore } from '../providers/object-store/s3';
import type { FallbackSpeechToText } from '../providers/stt/fallback';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import type { FallbackTextToSpeech } from '../providers/tts/fallback';
import type { CallerScriptItem } from '../simulator/caller-script';
import { startCall } from '../testing/calls';
import { callStack, startEdgeStack, type EdgeStack } from '../testing/edge-stack';
import { paymentsOf } from '../testing/scenario-run';
import { localEnv, workflowBundle } from '../testing/platform';
import { createCallWorker } from '../workers/call-worker-factory';
import { postgresCallDeps } from '../workers/postgres-deps';
import { createPostCallWorker } from '../workers/post-call-worker-factory';
import { postCallWorkflowId } from '../contracts/post-call';

/** Audio time per wall time of the simulated callers. */
const PACE = 2;

export interface PlacedCall {
  callSid: string;
  workflowId: string;
  /** Per caller turn: last voiced frame → first reply audio (audio), or update → reply (text). */
  turnMs: number[];
  /** Turns that got no reply audio (audio) or an empty reply (text). */
  silentTurns: number;
  /** Settles when Temporal reports the call's workflow closed. */
  outcome: Promise<'completed' | 'failed'>;
}

export interface FaultStackOptions {
  health: ProviderHealth;
  /** The database of the call worker's CRM, billing and payments. */
  pool: Pool;
  answerer: Answerer;
  stt?: FallbackSpeechToText;
  chain?: FallbackTextToSpeech;
  /** The edge's speech settings (REDIS_URL, S3_ENDPOINT …) over the local ones. */
  edgeEnv?: Record<string, string>;
}

/** The edge, the call and post-call workers, and a consumer counting `call.ended` on Kafka. */
export class FaultStack {
  private constructor(
    readonly edge: EdgeStack,
    /** call.ended event ids by workflow id, as consumed from Kafka. */
    readonly ended: Map<string, Set<string>>,
    private readonly workers: Worker[],
    private readonly runs: Promise<void>[],
    private readonly bus: KafkaEventBus,
    private readonly consumer: EventSubscription,
  ) {}

  static async start(o: FaultStackOptions): Promise<FaultStack> {
    const env = await localEnv();
    const run = randomBytes(4).toString('hex');
    const bus = new KafkaEventBus({
      brokers: kafkaBrokers(),
      topicPrefix: `bench-faults-${run}.`,
      publishTimeoutMs: 60_000,
    });
    await bus.ensureTopics();
    const edge = await startEdgeStack({
      callWorker: false,
      health: o.health,
      answerer: o.answerer,
      ...(o.stt && { stt: o.stt }),
      ...(o.chain && { chain: o.chain }),
      env: { TTS_CACHE_NAMESPACE: `bench-faults-${run}`, ...o.edgeEnv },
    });
    const intent = createEmbeddingIntentClassifier();
    await intent.warmUp();
    const bundle = await workflowBundle();
    const recordings = objectStoreConfig('recordings');
    const connection = env.nativeConnection;
    const namespace = env.namespace ?? 'default';
    const workers = [
      await createCallWorker({
        connection,
        namespace,
        deps: postgresCallDeps(o.pool, intent, o.health),
        events: bus,
        answerer: o.answerer,
        workflowBundle: bundle,
      }),
      await createPostCallWorker({
        connection,
        namespace,
        deps: {
          recordings: new S3ObjectStore({
            bucket: recordings.bucket,
            endpoint: recordings.endpoint,
            region: recordings.region,
            credentials: {
              accessKeyId: recordings.accessKeyId,
              secretAccessKey: recordings.secretAccessKey,
            },
          }),
          stt: new PocketsphinxSpeechToText(),
          events: bus,
          log: () => undefined,
        },
        workflowBundle: bundle,
      }),
    ];
    const runs = workers.map((w) => w.run());
    const ended = new Map<string, Set<string>>();
    const consumer = await bus.subscribe({
      groupId: `bench-faults-${run}`,
      handlers: {
        'call.ended': async (e: AnyBusEvent) => {
          ended.set(e.workflow_id, (ended.get(e.workflow_id) ?? new Set()).add(e.id));
        },
      },
    });
    return new FaultStack(edge, ended, workers, runs, bus, consumer);
  }

  /** A call with audio through the edge: the simulated caller says `script`. */
  async audioCall(from: string, script: CallerScriptItem[]): Promise<PlacedCall> {
    const report = await callStack(this.edge, script, { from, pace: PACE });
    const callerTurns = report.turns.filter((t) => t.item !== undefined);
    return {
      callSid: report.callSid,
      workflowId: report.workflowId,
      turnMs: callerTurns.flatMap((t) =>
        t.voiceToVoiceMs === undefined ? [] : [t.voiceToVoiceMs],
      ),
      silentTurns: report.turns.filter((t) => t.noReply || t.agentAudioMs === 0).length,
      outcome: this.outcome(report.workflowId),
    };
  }

  /** A call as text through the workflow (what the edge sends, without audio). */
  async textCall(from: string, script: CallerScriptItem[]): Promise<PlacedCall> {
    const { client } = await localEnv();
    const call = await startCall(client, { from });
    const turnMs: number[] = [];
    let silentTurns = 0;
    const heard = (text: string) => void (text.trim() === '' && silentTurns++);
    heard((await call.bridge.streamStarted()).text);
    for (const item of script) {
      const t0 = performance.now();
      if (item.kind === 'say') heard((await call.bridge.utterance(item.text)).text);
      else if (item.kind === 'dtmf') heard((await call.bridge.dtmf({ digits: item.digits })).text);
      else continue;
      turnMs.push(performance.now() - t0);
    }
    await call.handle.signal(callStatusSignal, 'completed');
    return {
      callSid: call.callSid,
      workflowId: call.handle.workflowId,
      turnMs,
      silentTurns,
      outcome: this.outcome(call.handle.workflowId),
    };
  }

  /** The post-call workflows of these calls closed (a queued call log written), or the deadline. */
  async postCallsSettled(calls: PlacedCall[], deadlineMs: number): Promise<void> {
    const { client } = await localEnv();
    await Promise.all(
      calls.map((c) =>
        Promise.race([
          client.workflow
            .getHandle(postCallWorkflowId(c.callSid))
            .result()
            .catch(() => undefined),
          new Promise((r) => setTimeout(r, Math.max(0, deadlineMs - Date.now()))),
        ]),
      ),
    );
  }

  private async outcome(workflowId: string): Promise<'completed' | 'failed'> {
    const { client } = await localEnv();
    try {
      await client.workflow.getHandle(workflowId).result();
      return 'completed';
    } catch {
      return 'failed';
    }
  }

  async stop(): Promise<void> {
    await this.consumer.close();
    await this.edge.stop();
    this.workers.forEach((w) => w.shutdown());
    await Promise.all(this.runs);
    await this.bus.close();
  }
}

/** Call logs, payments and call.ended events of `calls`: each call's missing or extra ones. */
export async function leftovers(
  db: Pool,
  stack: FaultStack,
  calls: PlacedCall[],
): Promise<{
  callLogs: { lost: number; doubled: number };
  events: { lost: number; doubled: number };
  payments: { lost: number; doubled: number; charged: number };
}> {
  const sids = calls.map((c) => c.callSid);
  const logs = await db.query<{ call_sid: string; n: string }>(
    'SELECT call_sid, count(*) AS n FROM call_logs WHERE call_sid = ANY($1) GROUP BY call_sid',
    [sids],
  );
  const logCount = new Map(logs.rows.map((r) => [r.call_sid, Number(r.n)]));
  const count = (xs: number[]) => ({
    lost: xs.filter((n) => n === 0).length,
    doubled: xs.filter((n) => n > 1).length,
  });
  let lost = 0;
  let doubled = 0;
  let charged = 0;
  for (const c of calls) {
    const { payments, charges, refunds } = await paymentsOf(db, c.workflowId);
    charged += payments;
    if (charges - refunds !== payments) lost++; // a charge standing without its payment, or back
    if (payments > 1 || charges - refunds > 1) doubled++;
  }
  return {
    callLogs: count(calls.map((c) => logCount.get(c.callSid) ?? 0)),
    events: count(calls.map((c) => stack.ended.get(c.workflowId)?.size ?? 0)),
    payments: { lost, doubled, charged },
  };
}
