// Process entry of the call worker: call workflows and their activities.
import { NativeConnection } from '@temporalio/worker';
import { createKnowledgeAnswerer } from '../conversation/answers/knowledge-answerer';
import { FallbackEventBus } from '../providers/events/fallback';
import { healthPolicyFromEnv } from '../providers/health/policy';
import { sharedProviderHealth } from '../providers/health/provider-health';
import { startHealthChecks } from '../providers/health/health-checker';
import { KafkaEventBus } from '../providers/events/kafka';
import { createCallWorker } from './call-worker-factory';
import { loadWorkerConfig } from './config';
import { installCompactLogging } from './logging';
import { postgresDeps } from './postgres-deps';
import { deploymentVersionFromEnv } from './versioning';
import { publishHealthEvents } from './health-events';
import { telephonyFromEnv } from '../providers/telephony/select';

async function main(): Promise<void> {
  installCompactLogging();
  const config = loadWorkerConfig();
  const log = (line: string) => console.log(`[worker] ${line}`);
  const policy = healthPolicyFromEnv();
  const health = sharedProviderHealth(config.REDIS_URL, { policy, log });
  const deps = await postgresDeps(config.DATABASE_URL, health);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const kafka = new KafkaEventBus({
    brokers: config.KAFKA_BROKERS,
    topicPrefix: config.EVENTS_TOPIC_PREFIX,
  });
  const events = new FallbackEventBus(
    [{ provider: kafka.name, port: kafka }],
    health.forFamily('events'),
  );
  const healthEvents = publishHealthEvents(health, kafka, policy, log);
  // Without Twilio credentials a transfer fails (the caller is told) and is logged here.
  const telephony = telephonyFromEnv(health.forFamily('telephony'), log);
  // The chains above registered their providers' checks: breakers move without callers.
  const checks = startHealthChecks(health, log);
  const worker = await createCallWorker({
    telephony,
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    deps,
    events,
    answerer: await createKnowledgeAnswerer({ log, health }),
    taskQueue: config.CALL_TASK_QUEUE,
    deployment: deploymentVersionFromEnv(),
  });
  console.log(
    `[worker] polling ${config.CALL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS} (namespace ${config.TEMPORAL_NAMESPACE})`,
  );
  // worker.run() stops on SIGINT/SIGTERM after in-flight tasks finish.
  await worker.run();
  await connection.close();
  await deps.pool.end();
  await checks?.close();
  await healthEvents.close();
  await events.close();
  await health.close();
  // The answerer's models (ONNX, llama.cpp) hold native handles that keep the event loop
  // alive: every task is finished, so leave now rather than wait to be killed.
  process.exit(0);
}

main().catch((err) => {
  console.error('[worker] failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
