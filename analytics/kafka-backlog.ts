// What a consumer group has left to read on Kafka: the topics' end offsets at one moment,
// compared with the group's committed offsets. `warehouse load --once` (and the report)
// drain exactly what was on the topics when they started, then stop.
import { Admin } from '@platformatic/kafka';
import type { EventType } from '../contracts/events';
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
  const admin = new Admin(bus.clientOptions('-backlog'));
  const topics = types.map((t) => bus.topicOf(t));
  /** Offsets of every partition of the topics at `timestamp` (-1n: the end, -2n: the start). */
  const offsetsAt = async (timestamp: bigint): Promise<Offsets> => {
    const meta = await admin.metadata({ topics, forceUpdate: true });
    const listed = await admin.listOffsets({
      topics: topics.map((name) => ({
        name,
        partitions: [...(meta.topics.get(name)?.partitions.keys() ?? [])].map((partitionIndex) => ({
          partitionIndex,
          timestamp,
        })),
      })),
    });
    const out: Offsets = new Map();
    for (const t of listed)
      for (const p of t.partitions) out.set(`${t.name}:${p.partitionIndex}`, p.offset);
    return out;
  };
  return {
    async mark() {
      const [ends, starts] = [await offsetsAt(-1n), await offsetsAt(-2n)];
      const mark: Offsets = new Map();
      for (const [k, high] of ends) if (high > (starts.get(k) ?? 0n)) mark.set(k, high);
      return mark;
    },
    async remaining(mark) {
      const committed: Offsets = new Map();
      const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      for (const t of group?.topics ?? [])
        for (const p of t.partitions)
          committed.set(`${t.name}:${p.partitionIndex}`, p.committedOffset);
      let left = 0n;
      for (const [k, end] of mark) {
        const at = committed.get(k) ?? -1n;
        if (at < end) left += at < 0n ? end : end - at; // -1: nothing committed yet
      }
      return Number(left);
    },
    close: () => admin.close(),
  };
}
