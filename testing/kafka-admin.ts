// Admin chores of the Kafka tests and the loader bench, on whatever broker they run against.
import { Admin } from '@platformatic/kafka';

export async function withKafkaAdmin<T>(
  brokers: string[],
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Admin({ clientId: 'switchboard-test-admin', bootstrapBrokers: brokers });
  try {
    return await use(admin);
  } finally {
    await admin.close();
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
  withKafkaAdmin(brokers, async (admin) => {
    const meta = await admin.metadata({ topics: [topic], forceUpdate: true });
    const partitions = [...(meta.topics.get(topic)?.partitions.keys() ?? [])];
    // Offsets at timestamp -1 (the end) and -2 (the earliest retained).
    const at = async (timestamp: bigint) =>
      (
        await admin.listOffsets({
          topics: [
            {
              name: topic,
              partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })),
            },
          ],
        })
      ).flatMap((t) => t.partitions.map((p) => p.offset));
    const [high, low] = [await at(-1n), await at(-2n)];
    return high.reduce((n, h, i) => n + Number(h - (low[i] ?? 0n)), 0);
  });
