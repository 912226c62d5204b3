// The fake EventBus, in process memory, for unit tests of publishers and consumers that
// must not depend on a broker; `failures` makes its publish and subscribe fail on demand. It keeps Kafka's contract where callers can tell: events go through
// the same codec (validated on publish and on consume, as JSON bytes), one call's events
// stay in order on one partition, each consumer group has its own committed offsets that
// advance only after a handler succeeded, a failed handler sees the same event (or batch)
// again, and invalid messages are dead-lettered.
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_TOPIC_PREFIX, TOPICS } from './catalog';
import { EventCodec } from './codec';
import { FakeFailures } from '../fake-failures';
import type { AnyBusEvent, EventDraft, EventType } from '../../contracts/events';
import {
  type BatchSubscribeOptions,
  type Delivery,
  type EventBus,
  type EventSubscription,
  EventValidationError,
  type InvalidDelivery,
  type SubscribeOptions,
} from './port';

export interface FakeEventBusOptions {
  topicPrefix?: string;
  partitions?: number;
  /** Wait before a failed handler sees its event again. */
  retryDelayMs?: number;
  codec?: EventCodec;
}

interface StoredMessage {
  key?: string;
  value: Buffer | null;
}

type AnyHandler = (event: AnyBusEvent, delivery: Delivery) => Promise<void>;

export class FakeEventBus implements EventBus {
  readonly name = 'fake-events';
  readonly failures = new FakeFailures(this.name);
  readonly codec: EventCodec;
  /** Messages per full topic name and partition, as bytes. */
  readonly topics = new Map<string, StoredMessage[][]>();
  /** Invalid messages consumers skipped, in the order they met them. */
  readonly deadLetters: InvalidDelivery[] = [];
  /** What handlers threw (each such event was delivered again). */
  readonly handlerErrors: unknown[] = [];
  private readonly committed = new Map<string, number>(); // `${group}|${topic}|${partition}`
  private readonly activeGroups = new Set<string>();
  private readonly subscriptions = new Set<EventSubscription>();
  private wake: () => void = () => {};
  private appended: Promise<void> = this.nextAppend();
  private readonly prefix: string;
  private readonly partitions: number;
  private readonly retryDelayMs: number;

  constructor(opts: FakeEventBusOptions = {}) {
    this.prefix = opts.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    this.partitions = opts.partitions ?? 3;
    this.retryDelayMs = opts.retryDelayMs ?? 20;
    this.codec = opts.codec ?? new EventCodec();
  }

  topicOf(type: EventType): string {
    return this.prefix + TOPICS[type];
  }

  async publish(drafts: EventDraft[]): Promise<AnyBusEvent[]> {
    const events = drafts.map((d) => this.codec.build(d)); // all valid, or nothing is sent
    await this.failures.check();
    for (const e of events) this.append(this.topicOf(e.type), e.call_id, this.codec.encode(e));
    return events;
  }

  /** Appends bytes as they are (for tests of what consumers do with bad messages). */
  appendRaw(topic: string, key: string | undefined, value: Buffer | null): void {
    this.append(topic, key, value);
  }

  async subscribe(opts: SubscribeOptions): Promise<EventSubscription> {
    await this.failures.check();
    const types = Object.keys(opts.handlers) as EventType[];
    const handlers = opts.handlers as Partial<Record<EventType, AnyHandler>>;
    return this.consume(opts.groupId, types, opts.fromBeginning, async (type, at, log) => {
      const delivery: Delivery = { ...at, offset: String(at.offset) };
      const ok = await this.deliver(log[at.offset]!, type, delivery, handlers[type]!, opts);
      return ok ? at.offset + 1 : undefined;
    });
  }

  async subscribeBatches(opts: BatchSubscribeOptions): Promise<EventSubscription> {
    if (opts.types.length === 0) throw new Error('subscribeBatches needs at least one type');
    await this.failures.check();
    const max = opts.maxBatch ?? 500;
    return this.consume(opts.groupId, opts.types, opts.fromBeginning, async (type, at, log) => {
      const batch = log.slice(at.offset, at.offset + max);
      const events = batch.flatMap((msg, i) => {
        const event = this.decodeOrDeadLetter(msg, type, { ...at, offset: String(at.offset + i) }, opts); // prettier-ignore
        return event ? [event] : [];
      });
      try {
        if (events.length) await opts.handleBatch(events);
        return at.offset + batch.length;
      } catch (err) {
        this.handlerErrors.push(err);
        return undefined; // the whole batch again after retryDelayMs
      }
    });
  }

  /**
   * A group's consumer loop over the types' partitions: `step` handles what waits at the
   * committed offset and returns the next offset to commit, or undefined to retry later.
   */
  private consume(
    groupId: string,
    types: readonly EventType[],
    fromBeginning: boolean | undefined,
    step: (
      type: EventType,
      at: { topic: string; partition: number; offset: number },
      log: StoredMessage[],
    ) => Promise<number | undefined>,
  ): EventSubscription {
    if (this.activeGroups.has(groupId)) {
      throw new Error(`group ${groupId} already has a consumer on this fake bus`);
    }
    this.activeGroups.add(groupId);
    for (const type of types) {
      const topic = this.topicOf(type);
      this.partitionsOf(topic).forEach((log, p) => {
        const k = `${groupId}|${topic}|${p}`;
        if (!this.committed.has(k)) this.committed.set(k, (fromBeginning ?? true) ? 0 : log.length);
      });
    }
    let closed = false;
    const loop = (async () => {
      while (!closed) {
        const appended = this.appended;
        let progressed = false;
        for (const type of types) {
          const topic = this.topicOf(type);
          for (const [partition, log] of this.partitionsOf(topic).entries()) {
            if (closed) break;
            const k = `${groupId}|${topic}|${partition}`;
            const offset = this.committed.get(k) ?? 0;
            if (!log[offset]) continue;
            progressed = true;
            const next = await step(type, { topic, partition, offset }, log);
            if (next !== undefined) this.committed.set(k, next);
            else await sleep(this.retryDelayMs);
          }
        }
        if (!progressed && !closed) await appended;
      }
    })();
    const sub: EventSubscription = {
      close: async () => {
        if (closed) return;
        closed = true;
        this.wake();
        await loop;
        this.activeGroups.delete(groupId);
        this.subscriptions.delete(sub);
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }

  /** True when the offset may be committed: handled, or dead-lettered. */
  private async deliver(
    msg: StoredMessage,
    type: EventType,
    delivery: Delivery,
    handler: AnyHandler,
    opts: SubscribeOptions,
  ): Promise<boolean> {
    const event = this.decodeOrDeadLetter(msg, type, delivery, opts);
    if (!event) return true;
    try {
      await handler(event, delivery);
      return true;
    } catch (err) {
      this.handlerErrors.push(err);
      return false; // redelivered after retryDelayMs, like a Kafka consumer that did not commit
    }
  }

  private decodeOrDeadLetter(
    msg: StoredMessage,
    type: EventType,
    delivery: Delivery,
    opts: { onInvalid?: (invalid: InvalidDelivery) => void },
  ): AnyBusEvent | undefined {
    try {
      return this.codec.decode(msg.value, { type, key: msg.key });
    } catch (err) {
      if (!(err instanceof EventValidationError)) throw err;
      const invalid: InvalidDelivery = { ...delivery, key: msg.key, value: msg.value, error: err };
      opts.onInvalid?.(invalid);
      this.deadLetters.push(invalid);
      return undefined;
    }
  }

  private append(topic: string, key: string | undefined, value: Buffer | null): void {
    const parts = this.partitionsOf(topic);
    parts[key === undefined ? 0 : hash(key) % parts.length]!.push({ key, value });
    this.wake();
  }

  private partitionsOf(topic: string): StoredMessage[][] {
    let parts = this.topics.get(topic);
    if (!parts) {
      parts = Array.from({ length: this.partitions }, () => []);
      this.topics.set(topic, parts);
    }
    return parts;
  }

  private nextAppend(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.appended = this.nextAppend();
        resolve();
      };
    });
  }
}

/** FNV-1a: a stable key → partition mapping (Kafka uses murmur2; any stable hash will do). */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
