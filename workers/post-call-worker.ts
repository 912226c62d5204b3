// Process entry of the post-call worker: post-call workflows and their activities (batch
// transcription, summaries, QA flags, the call.analyzed event, the call's cached speech
// removed). Configuration from env.
import { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { parseEnvConfig } from '../providers/env-config';
import { warmUpLlmChain } from '../conversation/answers/prompt';
import { languageModelFromEnv } from '../providers/llm/config';
import { FallbackEventBus } from '../providers/events/fallback';
import { healthPolicyFromEnv } from '../providers/health/policy';
import { sharedProviderHealth } from '../providers/health/provider-health';
import { startHealthChecks } from '../providers/health/health-checker';
import { KafkaEventBus } from '../providers/events/kafka';
import { FallbackObjectStore } from '../providers/object-store/fallback';
import { kafkaEnvFields } from '../providers/events/kafka-env';
import { S3ObjectStore, s3Options } from '../providers/object-store/s3';
import { FallbackCache } from '../providers/cache/fallback';
import { RedisCache, redisCacheClient } from '../providers/cache/redis';
import { TtsCache, ttsCacheNamespaceField } from '../providers/tts/cache';
import { DeepgramPrerecordedSpeechToText } from '../providers/stt/deepgram-prerecorded';
import { EngineProcessSpeechToText } from '../providers/stt/engine-process';
import type { SpeechToText } from '../providers/stt/port';
import { expectedPhrases } from '../workflows/call-state';
import { POST_CALL_TASK_QUEUE } from '../contracts/post-call';
import { installCompactLogging } from './logging';
import { createPostCallWorker } from './post-call-worker-factory';
import { deploymentVersionFromEnv } from './versioning';
import { publishHealthEvents } from './health-events';
import { runIncidentWatcher } from './incident-watcher';

const PostCallEnv = z.object({
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('switchboard'),
  POST_CALL_TASK_QUEUE: z.string().default(POST_CALL_TASK_QUEUE),
  /** The batch recognizer: the local engine, or Deepgram's pre-recorded API (production). */
  POST_CALL_STT: z.enum(['pocketsphinx', 'deepgram']).default('pocketsphinx'),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_RECORDINGS_BUCKET: z.string().default('switchboard-recordings'),
  /**
   * The edge's TTS cache (Redis + the audio bucket): each call's personal entries are removed;
   * and the fleet's provider health.
   */
  REDIS_URL: z.string().default('redis://127.0.0.1:6380'),
  S3_AUDIO_BUCKET: z.string().default('switchboard-audio'),
  TTS_CACHE_NAMESPACE: ttsCacheNamespaceField,
  ...kafkaEnvFields,
  /**
   * The summary's LLM chain (LLM_CHAIN's providers and settings otherwise). No `local` by
   * default: SmolLM2-135M, measured on call transcripts, invents content instead of
   * summarising; the deterministic summary is the honest fallback.
   */
  POST_CALL_LLM_CHAIN: z.string().default('openai,secondary,template'),
});

export type PostCallWorkerConfig = z.infer<typeof PostCallEnv>;

export function loadPostCallConfig(env: NodeJS.ProcessEnv = process.env): PostCallWorkerConfig {
  return parseEnvConfig(PostCallEnv, env, 'post-call worker');
}

function batchRecognizer(config: PostCallWorkerConfig, log: (line: string) => void): SpeechToText {
  if (config.POST_CALL_STT === 'deepgram') return new DeepgramPrerecordedSpeechToText();
  // In its own process: a recording that trips the engine fails its activity, not the worker.
  // Lowest priority: a finished call's transcript waits for every live call on the machine.
  return new EngineProcessSpeechToText('pocketsphinx', { poolSize: 1, log, niceness: 19 });
}

async function main(): Promise<void> {
  installCompactLogging();
  const config = loadPostCallConfig();
  const log = (line: string) => console.log(`[post-call] ${line}`);
  const policy = healthPolicyFromEnv();
  const health = sharedProviderHealth(config.REDIS_URL, { policy, log });
  const llm = languageModelFromEnv(
    { ...process.env, LLM_CHAIN: config.POST_CALL_LLM_CHAIN },
    log,
    health.forFamily('llm'),
  );
  await warmUpLlmChain(llm);
  const kafka = new KafkaEventBus({
    brokers: config.KAFKA_BROKERS,
    topicPrefix: config.EVENTS_TOPIC_PREFIX,
    clientId: 'switchboard-post-call',
  });
  await kafka.ensureTopics();
  const events = new FallbackEventBus(
    [{ provider: kafka.name, port: kafka }],
    health.forFamily('events'),
  );
  const healthEvents = publishHealthEvents(health, kafka, policy, log);
  const store = (bucket: string) => new S3ObjectStore(s3Options(config, bucket));
  const redis = redisCacheClient(config.REDIS_URL);
  const incidents = await runIncidentWatcher(kafka, redis, health, log);
  const speechCache = new TtsCache({
    cache: new FallbackCache(
      [{ provider: 'redis', port: new RedisCache(redis) }],
      health.forFamily('cache'),
    ),
    store: store(config.S3_AUDIO_BUCKET),
    namespace: config.TTS_CACHE_NAMESPACE,
  });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const checks = startHealthChecks(health, log);
  const worker = await createPostCallWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.POST_CALL_TASK_QUEUE,
    deployment: deploymentVersionFromEnv(),
    deps: {
      recordings: new FallbackObjectStore(
        [{ provider: 's3', port: store(config.S3_RECORDINGS_BUCKET) }],
        health.forFamily('object-store'),
      ),
      speechCache,
      stt: batchRecognizer(config, log),
      llm,
      events,
      // The caller's side in grammar mode (what callers say here), the agent's in dictation.
      hints: { caller: expectedPhrases('idle') },
      log,
    },
  });
  log(
    `polling ${config.POST_CALL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS} ` +
      `(namespace ${config.TEMPORAL_NAMESPACE}, recognizer ${config.POST_CALL_STT})`,
  );
  // worker.run() stops on SIGINT/SIGTERM after in-flight tasks finish.
  await worker.run();
  await connection.close();
  await checks?.close();
  await incidents.close();
  await healthEvents.close();
  await events.close();
  await health.close();
  redis.disconnect();
}

if (require.main === module) {
  main().catch((err) => {
    console.error('[post-call] failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
