// The event bus's env fields, alike for every process that produces or consumes events.
import { z } from 'zod';

export const kafkaEnvFields = {
  /** Comma-separated bootstrap brokers. */
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:19092')
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  EVENTS_TOPIC_PREFIX: z.string().default('switchboard.'),
};
