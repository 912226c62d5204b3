// Admin chores of the Kafka tests and the loader bench, on whatever broker they run against.
import { type Admin, Kafka, logLevel } from 'kafkajs';

export async function withKafkaAdmin<T>(
  brokers: string[],
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Removes a run's topics (`<prefix>…`). */
export const deleteTopicsWithPrefix = (brokers: string[], prefix: string): Promise<void> =>
  withKafkaAdmin(brokers, async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics });
  });

/** Messages a topic holds now, over its partitions. */
export const messagesOn = (brokers: string[], topic: string): Promise<number> =>
  withKafkaAdmin(brokers, async (admin) =>
    (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0),
  );
