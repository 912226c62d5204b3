// The whole audio stack in the test process: a call worker on the test database, and a
// media-edge (webhooks, Media Streams WebSocket, speech, recordings, host-bound worker)
// listening on 127.0.0.1 — against the shared dev server, the real Redis and object store.
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { textToSpeechFromEnv } from '../providers/tts/config';
import type { FallbackTextToSpeech } from '../providers/tts/fallback';
import type { FallbackSpeechToText } from '../providers/stt/fallback';
import type { ProviderHealth } from '../providers/health/provider-health';
import type { Answerer } from '../conversation/answers/answerer';
import { objectStoreConfig, redisUrl } from '../infra';
import { loadEdgeConfig, type EdgeConfig } from '../media-edge/config';
import { deskFromEnv } from '../media-edge/desk/desk-setup';
import { createEdgeRuntime, type EdgeRuntime } from '../media-edge/edge-runtime';
import type { MediaPlane } from '../media-edge/media/media-plane';
import { buildEdgeServer } from '../media-edge/server';
import { loadEdgeSpeechConfig } from '../media-edge/speech-config';
import type { CallerScriptItem } from '../simulator/caller-script';
import {
  placeAudioCall,
  type AudioCallOptions,
  type AudioCallReport,
} from '../simulator/twilio-caller';
import { callWorker } from './calls';
import { localEnv } from './platform';

export interface EdgeStack {
  config: EdgeConfig;
  /** Where the edge listens (the simulator connects here; signatures use config.publicUrl). */
  edgeUrl: string;
  runtime: EdgeRuntime;
  /** One call's edge log lines (the last 500 lines the runtime logged), for a failure's message. */
  logOf(callSid: string): string;
  stop(): Promise<void>;
}

const KEPT_LOG_LINES = 500;

export async function startEdgeStack(
  opts: {
    stt?: FallbackSpeechToText;
    env?: Record<string, string>;
    /** One call worker per process and task queue: a second edge shares the first's. */
    callWorker?: boolean;
    /** Knowledge answers, on the edge (audio calls) and the call worker (text calls). */
    answerer?: Answerer;
    /** The edge's TTS chain; default the local voice, then the prerecorded prompts and pieces. */
    chain?: FallbackTextToSpeech;
    /** The edge's provider health (its breakers); default none. */
    health?: ProviderHealth;
    /** The edge's media plane (its calls bridged into a mediasoup router); default none. */
    media?: MediaPlane;
  } = {},
): Promise<EdgeStack> {
  const env = await localEnv();
  const store = objectStoreConfig('audio');
  const config = loadEdgeConfig({
    TWILIO_AUTH_TOKEN: randomBytes(16).toString('hex'),
    STREAM_TOKEN_SECRET: randomBytes(32).toString('hex'),
    EDGE_PUBLIC_URL: 'https://edge.switchboard.test',
    EDGE_HOST_ID: `test-${randomBytes(4).toString('hex')}`,
    EDGE_PORT: '0',
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    ...opts.env,
  });
  const speech = loadEdgeSpeechConfig({
    REDIS_URL: redisUrl(),
    S3_ENDPOINT: store.endpoint,
    S3_ACCESS_KEY_ID: store.accessKeyId,
    S3_SECRET_ACCESS_KEY: store.secretAccessKey,
    S3_AUDIO_BUCKET: store.bucket,
    S3_RECORDINGS_BUCKET: objectStoreConfig('recordings').bucket,
    ...opts.env,
  });
  const logger = pino({ level: process.env.LOG_LEVEL?.toLowerCase() ?? 'silent' });
  const kept: Array<{ callSid?: unknown; line: string }> = [];
  const log = (msg: string, fields?: Record<string, unknown>) => {
    logger.info(fields ?? {}, msg);
    kept.push({ callSid: fields?.callSid, line: `${msg} ${JSON.stringify(fields ?? {})}` });
    if (kept.length > KEPT_LOG_LINES) kept.shift();
  };
  const runtime = await createEdgeRuntime({
    config,
    speech,
    client: env.client,
    connection: env.nativeConnection,
    chain: opts.chain ?? textToSpeechFromEnv({ TTS_CHAIN: 'local,prerecorded,pieces' }),
    ...(opts.stt && { stt: opts.stt }),
    ...(opts.answerer && { answerer: opts.answerer }),
    ...(opts.health && { health: opts.health }),
    ...(opts.media && { media: opts.media }),
    log,
  });
  const desk = deskFromEnv(opts.env ?? {}, {
    client: env.client,
    recordings: runtime.recordingsStore,
    log: (msg, fields) => logger.info(fields ?? {}, msg),
  });
  const app: FastifyInstance = await buildEdgeServer({
    config,
    temporalClient: env.client,
    logger,
    onStream: runtime.calls.onStream,
    ...(opts.media && {
      callMedia: { calls: opts.media, listenInfo: opts.media.webRtcListenInfo },
    }),
    // The agent desk, when the env names its users (DESK_USERS, DESK_SESSION_SECRET).
    ...('routes' in desk && { desk: desk.routes }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const worker: Worker | undefined =
    opts.callWorker === false
      ? undefined
      : await callWorker(env, undefined, undefined, opts.answerer);
  const runs = [runtime.hostWorker.run(), ...(worker ? [worker.run()] : [])];
  return {
    config,
    edgeUrl: `http://127.0.0.1:${port}`,
    runtime,
    logOf: (callSid) =>
      kept
        .filter((l) => l.callSid === callSid)
        .map((l) => l.line)
        .join('\n'),
    async stop() {
      await app.close();
      worker?.shutdown();
      runtime.hostWorker.shutdown();
      await Promise.all(runs);
      await runtime.close();
      opts.stt?.dispose(); // the stack's recognizer lives as long as the stack
    },
  };
}

/** A simulated caller (a demo customer by default) saying `lines` to this stack's edge. */
export function callStack(
  stack: EdgeStack,
  script: CallerScriptItem[],
  opts: Partial<AudioCallOptions> = {},
): Promise<AudioCallReport> {
  return placeAudioCall({
    edgeUrl: stack.edgeUrl,
    publicUrl: stack.config.publicUrl,
    authToken: stack.config.twilioAuthToken,
    from: '+15550100001',
    to: '+15550009999',
    script,
    print: () => undefined,
    ...opts,
  });
}

/** Demo customers with an open bill, for calls placed side by side. */
export const CALLERS_WITH_A_BILL = ['+15550100001', '+15550100002', '+15550100004'];

export const saying = (lines: string[]): CallerScriptItem[] =>
  lines.map((text) => ({ kind: 'say', text }));
