// media-edge process entry: config from the environment, Temporal client, the audio
// runtime with its host-bound worker, and the HTTP/WebSocket server. SIGTERM/SIGINT stop
// accepting calls, close open streams, let in-flight work finish, then exit.
import { pinoRedaction } from '../conversation/safety/redact';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createKnowledgeAnswerer } from '../conversation/answers/knowledge-answerer';
import { healthPolicyFromEnv } from '../providers/health/policy';
import { sharedProviderHealth } from '../providers/health/provider-health';
import { startHealthChecks } from '../providers/health/health-checker';
import { installCompactLogging } from '../workers/logging';
import { publishHealthEvents } from '../workers/health-events';
import { KafkaEventBus } from '../providers/events/kafka';
import { kafkaEnvFields } from '../providers/events/kafka-env';
import { parseEnvConfig } from '../providers/env-config';
import { telephonyFromEnv } from '../providers/telephony/select';
import { z } from 'zod';
import { historyDataConverter } from '../infra/payload-codec';
import { loadEdgeConfig } from './config';
import { deskFromEnv } from './desk/desk-setup';
import { createEdgeRuntime } from './edge-runtime';
import { MediaPlane } from './media/media-plane';
import { loadMediaPlaneConfig } from './media/media-plane-config';
import { buildEdgeServer } from './server';
import { loadEdgeSpeechConfig } from './speech-config';

async function main(): Promise<void> {
  const logger = pino({
    ...pinoRedaction,
    name: 'media-edge',
    level: process.env.LOG_LEVEL ?? 'info',
  });
  const config = loadEdgeConfig();
  const speech = loadEdgeSpeechConfig();
  const dataConverter = historyDataConverter(); // no keys: refused before anything connects
  installCompactLogging('WARN');
  const connection = await Connection.connect({ address: config.temporal.address });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const temporalClient = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter,
  });
  const policy = healthPolicyFromEnv();
  const health = sharedProviderHealth(speech.REDIS_URL, {
    policy,
    log: (line) => logger.warn(line),
  });
  // The edge's TTS and ASR chains move breakers too: their moves and fallbacks go to Kafka.
  const kafkaEnv = parseEnvConfig(z.object(kafkaEnvFields), process.env, 'media-edge events');
  const kafka = new KafkaEventBus({
    brokers: kafkaEnv.KAFKA_BROKERS,
    topicPrefix: kafkaEnv.EVENTS_TOPIC_PREFIX,
    clientId: 'switchboard-media-edge',
  });
  const healthEvents = publishHealthEvents(health, kafka, policy, (line) => logger.warn(line));
  const mediaConfig = loadMediaPlaneConfig();
  // A missing worker binary fails the start here, naming the command that builds it.
  const media = mediaConfig.enabled
    ? await MediaPlane.start(mediaConfig, (msg, fields) => logger.warn(fields ?? {}, msg))
    : undefined;
  const runtime = await createEdgeRuntime({
    config,
    speech,
    client: temporalClient,
    connection: nativeConnection,
    // Audio calls' knowledge answers are generated here, next to the socket that speaks them.
    answerer: await createKnowledgeAnswerer({ log: (line) => logger.info(line), health }),
    health,
    ...(media && { media }),
    log: (msg, fields) => logger.info(fields ?? {}, msg),
  });
  const checks = startHealthChecks(health, (line) => logger.warn(line));
  const desk = deskFromEnv(process.env, {
    client: temporalClient,
    recordings: runtime.recordingsStore,
    log: (msg, fields) => logger.info(fields ?? {}, msg),
  });
  if ('off' in desk) logger.warn(desk.off);
  const app = await buildEdgeServer({
    config,
    temporalClient,
    logger,
    telephony: telephonyFromEnv(health.forFamily('telephony'), (line) => logger.warn(line)),
    onStream: runtime.calls.onStream,
    ...(media && { callMedia: { calls: media, listenInfo: media.webRtcListenInfo } }),
    ...('routes' in desk && { desk: desk.routes }),
  });
  const hostWorkerRun = runtime.hostWorker.run();

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await app.close();
      // The SDK's worker stops itself on SIGINT/SIGTERM; shut it down only if it has not.
      if (runtime.hostWorker.getState() === 'RUNNING') runtime.hostWorker.shutdown();
      await hostWorkerRun;
      // Plain lines for whoever stopped us (the launcher prints them): what we still wait for.
      await runtime.close((pending) =>
        console.error(
          `draining ${pending.length} call task(s) before exit: ${pending.slice(0, 5).join(', ')}` +
            (pending.length > 5 ? ` and ${pending.length - 5} more` : ''),
        ),
      );
      await media?.close();
      await checks?.close();
      await healthEvents.close();
      await kafka.close();
      await health.close();
      await nativeConnection.close();
      await connection.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
  logger.info(
    {
      publicUrl: config.publicUrl,
      hostTaskQueue: config.hostTaskQueue,
      namespace: config.temporal.namespace,
    },
    'media-edge listening',
  );
}

main().catch((err: unknown) => {
  // Config errors name the variable, never its value; print them plainly.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
