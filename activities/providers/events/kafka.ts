// EventBus on Apache Kafka (kafkajs). Publishing: validated first, key = call id (one call's
// events of a type share a partition, so they stay in order), acks from all in-sync
// replicas, an idempotent producer (kafkajs de-duplicates its own retries; needs one
// request in flight). While the broker is away a publish keeps retrying with backoff up to
// `publishTimeoutMs`, then fails with EventBusUnavailableError so the activity is retried
// later with the same ids. Consuming: a consumer group per subscriber; each message's
// offset (or, with subscribeBatches, a batch's last) is committed right after its handler
// succeeded, so a restart resumes there; a message that is not a valid event is copied to
// the dead-letter topic and skipped.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Consumer,
  type ConsumerRunConfig,
  type IHeaders,
  type KafkaMessage,
  Kafka,
  type KafkaConfig,
  type LogEntry,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { DEAD_LETTER_TOPIC, DEFAULT_TOPIC_PREFIX, EVENT_TYPES, TOPICS } from '../../events/catalog';
import { EventCodec } from '../../events/codec';
import {
  type AnyBusEvent,
  type BatchSubscribeOptions,
  type Delivery,
  type EventBus,
  EventBusUnavailableError,
  type EventDraft,
  type EventSubscription,
  type EventType,
  EventValidationError,
  type InvalidDelivery,
  type SubscribeOptions,
} from '../../ports';

export type EventBusLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface KafkaEventBusOptions {
  /** `host:port` of the bootstrap brokers (infra: kafkaBrokers()). */
  brokers: string[];
  clientId?: string;
  /** Topics are `<prefix><name>`; tests use their own prefix. */
  topicPrefix?: string;
  /** Partitions of the topics this bus creates when they are missing. */
  partitions?: number;
  /** How long one publish keeps trying while the broker is unreachable. */
  publishTimeoutMs?: number;
  /** A consumer that stops heartbeating (crashed) loses its partitions after this long. */
  sessionTimeoutMs?: number;
  /** Backoff between publish attempts: doubles from initialMs up to maxMs. */
  backoff?: { initialMs: number; maxMs: number };
  /** kafkajs warnings/errors and the bus's own retry notices; default: console. */
  log?: EventBusLog;
  codec?: EventCodec;
  /** Passed to kafkajs as is (TLS, SASL for a production cluster). */
  kafka?: Partial<KafkaConfig>;
}

/** The offset to commit after handling `offset`: Kafka commits the next one to read. */
const next = (offset: string): string => (BigInt(offset) + 1n).toString();

const defaultLog: EventBusLog = (level, message) =>
  (level === 'info' ? console.log : console.warn)(`[events] ${level} ${message}`);

type AnyHandler = (event: AnyBusEvent, delivery: Delivery) => Promise<void>;

export class KafkaEventBus implements EventBus {
  readonly name = 'kafka';
  readonly codec: EventCodec;
  private readonly kafka: Kafka;
  private readonly prefix: string;
  private readonly partitions: number;
  private readonly publishTimeoutMs: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly log: EventBusLog;
  private producer?: Producer;
  private ready?: Promise<Producer>;
  private topicsReady?: Promise<void>;
  private readonly consumers = new Set<Consumer>();
  private closed = false;

  constructor(readonly opts: KafkaEventBusOptions) {
    if (opts.brokers.length === 0) throw new Error('KafkaEventBus needs at least one broker');
    this.prefix = opts.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    this.partitions = opts.partitions ?? 3;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 120_000;
    this.backoff = opts.backoff ?? { initialMs: 250, maxMs: 5_000 };
    this.log = opts.log ?? defaultLog;
    this.codec = opts.codec ?? new EventCodec();
    this.kafka = new Kafka({
      clientId: opts.clientId ?? 'switchboard',
      brokers: opts.brokers,
      connectionTimeout: 3_000,
      requestTimeout: 15_000,
      // Short inner retries: the publish loop below owns the long wait.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.kafkajsLog(entry),
      ...opts.kafka,
    });
  }

  topicOf(type: EventType): string {
    return this.prefix + TOPICS[type];
  }

  get deadLetterTopic(): string {
    return this.prefix + DEAD_LETTER_TOPIC;
  }

  /** Creates the bus's topics that are missing (the broker does not auto-create them). */
  ensureTopics(): Promise<void> {
    this.topicsReady ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const wanted = [...EVENT_TYPES.map((t) => this.topicOf(t)), this.deadLetterTopic];
        const missing = wanted.filter((t) => !existing.has(t));
        if (missing.length > 0) {
          // False when another process created them meanwhile: fine either way.
          await admin.createTopics({
            topics: missing.map((topic) => ({ topic, numPartitions: this.partitions })),
            waitForLeaders: true,
          });
        }
      } finally {
        await admin.disconnect();
      }
    })().catch((err) => {
      this.topicsReady = undefined;
      throw err;
    });
    return this.topicsReady;
  }

  async publish(drafts: EventDraft[]): Promise<AnyBusEvent[]> {
    const events = drafts.map((d) => this.codec.build(d)); // all valid, or nothing is sent
    if (events.length === 0) return events;
    const byTopic = new Map<string, Message[]>();
    for (const e of events) {
      const topic = this.topicOf(e.type);
      const messages = byTopic.get(topic) ?? [];
      messages.push({ key: e.call_id, value: this.codec.encode(e), headers: headersOf(e) });
      byTopic.set(topic, messages);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await this.withRetry(`publishing ${events.length} event(s)`, async () => {
      const producer = await this.connectProducer();
      await producer.sendBatch({ topicMessages, acks: -1 });
    });
    return events;
  }

  async subscribe(opts: SubscribeOptions): Promise<EventSubscription> {
    const handlers = opts.handlers as Partial<Record<EventType, AnyHandler>>;
    const types = (Object.keys(handlers) as EventType[]).filter((t) => handlers[t]);
    if (types.length === 0) throw new Error('subscribe needs at least one handler');
    return this.consume(opts.groupId, types, opts.fromBeginning, (consumer, typeOfTopic) => ({
      autoCommit: false, // committed per message below, only after its handler succeeded
      eachMessage: async ({ topic, partition, message }) => {
        const type = typeOfTopic.get(topic);
        if (!type) return;
        const event = await this.decodeOrDeadLetter(type, { topic, partition, message }, opts);
        if (event) await handlers[type]!(event, { topic, partition, offset: message.offset });
        await consumer.commitOffsets([{ topic, partition, offset: next(message.offset) }]);
      },
    }));
  }

  async subscribeBatches(opts: BatchSubscribeOptions): Promise<EventSubscription> {
    if (opts.types.length === 0) throw new Error('subscribeBatches needs at least one type');
    const max = opts.maxBatch ?? 500;
    return this.consume(opts.groupId, opts.types, opts.fromBeginning, (consumer, typeOfTopic) => ({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const { topic, partition } = batch;
        const type = typeOfTopic.get(topic);
        if (!type) return;
        let events: AnyBusEvent[] = [];
        let last: string | undefined;
        const flush = async () => {
          if (events.length) await opts.handleBatch(events);
          if (last !== undefined) {
            payload.resolveOffset(last); // the consumer's fetch position (kafkajs keeps it apart)
            await consumer.commitOffsets([{ topic, partition, offset: next(last) }]);
          }
          events = [];
          last = undefined;
          await payload.heartbeat();
        };
        for (const message of batch.messages) {
          // Stopping or rebalanced: what is not handled yet is delivered again.
          if (!payload.isRunning() || payload.isStale()) return;
          const event = await this.decodeOrDeadLetter(type, { topic, partition, message }, opts);
          if (event) events.push(event);
          last = message.offset;
          if (events.length >= max) await flush();
        }
        await flush();
      },
    }));
  }

  /** A consumer in `groupId` on the types' topics, running `run` (its handlers). */
  private async consume(
    groupId: string,
    types: readonly EventType[],
    fromBeginning: boolean | undefined,
    run: (consumer: Consumer, typeOfTopic: Map<string, EventType>) => ConsumerRunConfig,
  ): Promise<EventSubscription> {
    this.assertOpen();
    const typeOfTopic = new Map(types.map((t) => [this.topicOf(t), t]));
    await this.withRetry(`preparing topics for group ${groupId}`, () => this.ensureTopics());
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: this.opts.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1_000,
      // Short fetch waits: leaving the group (close, `warehouse load --once`) takes ≈ 0.5 s, not 5.
      maxWaitTimeInMs: 500,
      // A failing handler is retried (same message) with backoff, then the consumer restarts.
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.consumers.add(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...typeOfTopic.keys()], fromBeginning: fromBeginning ?? true }); // prettier-ignore
      await consumer.run(run(consumer, typeOfTopic));
    } catch (err) {
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => {});
      throw new EventBusUnavailableError(
        `cannot start consumer group ${groupId} on ${this.opts.brokers.join(',')}: ` +
          (err as Error).message,
        { cause: err },
      );
    }
    return {
      close: async () => {
        if (!this.consumers.delete(consumer)) return;
        await consumer.disconnect(); // waits for the running handler, leaves the group
      },
    };
  }

  /** The message as an event, or undefined after copying it to the dead-letter topic. */
  private async decodeOrDeadLetter(
    type: EventType,
    { topic, partition, message }: { topic: string; partition: number; message: KafkaMessage },
    opts: { groupId: string; onInvalid?: (invalid: InvalidDelivery) => void },
  ): Promise<AnyBusEvent | undefined> {
    const key = message.key?.toString('utf8');
    try {
      return this.codec.decode(message.value, { type, key });
    } catch (err) {
      if (!(err instanceof EventValidationError)) throw err;
      const delivery = { topic, partition, offset: message.offset };
      await this.deadLetter({ ...delivery, key, value: message.value, error: err }, opts);
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const consumers = [...this.consumers];
    this.consumers.clear();
    await Promise.all(consumers.map((c) => c.disconnect().catch(() => {})));
    await this.producer?.disconnect().catch(() => {});
    this.producer = undefined;
    this.ready = undefined;
  }

  private async deadLetter(
    invalid: InvalidDelivery,
    opts: { groupId: string; onInvalid?: (invalid: InvalidDelivery) => void },
  ): Promise<void> {
    opts.onInvalid?.(invalid);
    this.log(
      'warn',
      `dead-lettering ${invalid.topic}[${invalid.partition}]@${invalid.offset} ` +
        `(group ${opts.groupId}): ${invalid.error.message}`,
    );
    const message: Message = {
      key: invalid.key ?? null,
      value: invalid.value,
      headers: {
        'dead-letter-reason': invalid.error.message.slice(0, 1_000),
        'original-topic': invalid.topic,
        'original-partition': String(invalid.partition),
        'original-offset': invalid.offset,
        'consumer-group': opts.groupId,
      },
    };
    await this.withRetry('dead-lettering an invalid message', async () => {
      const producer = await this.connectProducer();
      await producer.send({ topic: this.deadLetterTopic, messages: [message], acks: -1 });
    });
  }

  private connectProducer(): Promise<Producer> {
    this.assertOpen();
    this.ready ??= (async () => {
      await this.ensureTopics();
      this.producer ??= this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1, // kafkajs's idempotence needs it; it also keeps retries in order
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner, // Java's murmur2: same key → partition
      });
      await this.producer.connect();
      return this.producer;
    })().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** Runs `op` until it succeeds, backing off while the broker is away, up to the deadline. */
  private async withRetry(what: string, op: () => Promise<void>): Promise<void> {
    const started = Date.now();
    const deadline = started + this.publishTimeoutMs;
    let delay = this.backoff.initialMs;
    let attempts = 0;
    let lastNotice = 0;
    for (;;) {
      this.assertOpen();
      attempts++;
      try {
        await op();
        if (attempts > 1) {
          this.log('info', `${what} succeeded after ${attempts} attempts (${since(started)})`);
        }
        return;
      } catch (err) {
        if (err instanceof EventValidationError) throw err;
        await this.recover(err);
        if (Date.now() + delay > deadline) {
          throw new EventBusUnavailableError(
            `Kafka (${this.opts.brokers.join(',')}) unavailable: ${what} failed for ` +
              `${since(started)} (${attempts} attempts): ${(err as Error).message}`,
            { cause: err },
          );
        }
        if (Date.now() - lastNotice > 10_000) {
          this.log('warn', `${what}: ${(err as Error).message}; retrying (${since(started)})`);
          lastNotice = Date.now();
        }
        await sleep(delay);
        delay = Math.min(delay * 2, this.backoff.maxMs);
      }
    }
  }

  // A producer whose idempotence state the broker no longer knows (fenced, out-of-order
  // sequence) cannot continue: start a new one. Events already sent are repeated at most
  // once more under the same ids, which consumers drop.
  private async recover(err: unknown): Promise<void> {
    const text = `${(err as Error).name} ${(err as Error).message}`;
    if (
      !/OUT_OF_ORDER_SEQUENCE|UNKNOWN_PRODUCER|INVALID_PRODUCER_EPOCH|PRODUCER_FENCED|disconnected/i.test(
        text,
      )
    ) {
      return;
    }
    this.log('warn', `restarting the producer after: ${(err as Error).message}`);
    const old = this.producer;
    this.producer = undefined;
    this.ready = undefined;
    await old?.disconnect().catch(() => {});
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the event bus is closed');
  }

  private kafkajsLog({ level, label, log }: LogEntry): void {
    const { message, ...rest } = log;
    const extra = ['broker', 'groupId', 'topic', 'error']
      .filter((k) => rest[k] !== undefined)
      .map((k) => `${k}=${String(rest[k])}`)
      .join(' ');
    const l = level <= logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'info';
    this.log(l, `kafkajs ${label}: ${message}${extra ? ` (${extra})` : ''}`);
  }
}

function headersOf(e: AnyBusEvent): IHeaders {
  return {
    'event-id': e.id,
    'event-type': e.type,
    'schema-version': String(e.schema_version),
  };
}

const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
