// What a consumer group has left to read on Kafka: the topics' end offsets at one moment,
// compared with the group's committed offsets. `warehouse load --once` (and the report)
// drain exactly what was on the topics when they started, then stop.
import { type Admin, Kafka, logLevel } from 'kafkajs';
import type { EventType } from '../ports';
import type { KafkaEventBus } from '../providers/events/kafka';

/** Offsets per `topic:partition`. */
export type Offsets = Map<string, bigint>;

export interface Backlog {
  /** End offsets now (the next offset to be written) of the partitions that hold messages. */
  mark(): Promise<Offsets>;
  /** Messages before `mark` the group has not committed yet. */
  remaining(mark: Offsets): Promise<number>;
  close(): Promise<void>;
}

export async function kafkaBacklog(
  bus: KafkaEventBus,
  groupId: string,
  types: readonly EventType[],
): Promise<Backlog> {
  const admin: Admin = new Kafka({
    clientId: 'switchboard-backlog',
    brokers: bus.opts.brokers,
    logLevel: logLevel.NOTHING,
    ...bus.opts.kafka,
  }).admin();
  await admin.connect();
  const topics = types.map((t) => bus.topicOf(t));
  return {
    async mark() {
      const mark: Offsets = new Map();
      for (const topic of topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) {
          if (BigInt(p.high) > BigInt(p.low)) mark.set(`${topic}:${p.partition}`, BigInt(p.high));
        }
      }
      return mark;
    },
    async remaining(mark) {
      const committed: Offsets = new Map();
      for (const t of await admin.fetchOffsets({ groupId, topics })) {
        for (const p of t.partitions) committed.set(`${t.topic}:${p.partition}`, BigInt(p.offset));
      }
      let left = 0n;
      for (const [k, end] of mark) {
        const at = committed.get(k) ?? -1n;
        if (at < end) left += at < 0n ? end : end - at; // -1: nothing committed yet
      }
      return Number(left);
    },
    close: () => admin.disconnect(),
  };
}
