// Worker configuration from the environment, validated once at start-up.
import { z } from 'zod';
import { kafkaEnvFields } from '../providers/events/kafka-env';

const WorkerEnv = z.object({
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('switchboard'),
  DATABASE_URL: z.string().url().default('postgres://switchboard@127.0.0.1:5433/switchboard'),
  CALL_TASK_QUEUE: z.string().default('switchboard-calls'),
  /** The fleet's provider health. */
  REDIS_URL: z.string().default('redis://127.0.0.1:6380'),
  ...kafkaEnvFields,
});

export type WorkerConfig = z.infer<typeof WorkerEnv>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = WorkerEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid worker configuration: ${problems}`);
  }
  return parsed.data;
}
