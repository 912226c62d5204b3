// EventBus on Apache Kafka (@platformatic/kafka). Publishing: validated first, key = call id
// (Java's murmur2 partitioner: one call's events of a type share a partition, so they stay in
// order), acks from all in-sync replicas, an idempotent producer (the broker de-duplicates
// the client's own retries). While the broker is away a publish keeps retrying with backoff
// up to `publishTimeoutMs`, then fails with EventBusUnavailableError so the activity is
// retried later with the same ids. Consuming: a consumer group per subscriber; each
// message's offset (or, with subscribeBatches, a batch's last) is committed right after its
// handler succeeded, so a restart resumes there; a failing handler gets the same message
// again with backoff; a consumer whose stream fails is started again from the committed
// offsets; a message that is not a valid event is copied to the dead-letter topic and
// skipped.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  type BaseOptions,
  compatibilityPartitioner,
  Consumer,
  type Message,
  type MessagesStream,
  type MessageToProduce,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka';
import { DEAD_LETTER_TOPIC, DEFAULT_TOPIC_PREFIX, EVENT_TYPES, TOPICS } from './catalog';
import { EventCodec } from './codec';
import type { AnyBusEvent, EventDraft, EventType } from '../../contracts/events';
import {
  type BatchSubscribeOptions,
  type Delivery,
  type EventBus,
  EventBusUnavailableError,
  type EventSubscription,
  EventValidationError,
  type InvalidDelivery,
  type SubscribeOptions,
} from './port';

export type EventBusLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** Connection options passed to every client as they are (TLS, SASL for a production cluster). */
export type KafkaClientOptions = Partial<
  Pick<BaseOptions, 'tls' | 'sasl' | 'connectTimeout' | 'requestTimeout'>
>;

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
  /** Client warnings/errors and the bus's own retry notices; default: console. */
  log?: EventBusLog;
  codec?: EventCodec;
  kafka?: KafkaClientOptions;
}

const defaultLog: EventBusLog = (level, message) =>
  (level === 'info' ? console.log : console.warn)(`[events] ${level} ${message}`);

type AnyHandler = (event: AnyBusEvent, delivery: Delivery) => Promise<void>;
type Msg = Message<Buffer, Buffer, Buffer, Buffer>;

/** Handler retries: the same message again after this backoff, for as long as it fails. */
const HANDLER_BACKOFF = { initialMs: 300, maxMs: 5_000 };

interface RunningConsumer {
  close(): Promise<void>;
}

export class KafkaEventBus implements EventBus {
  readonly name = 'kafka';
  readonly codec: EventCodec;
  private readonly prefix: string;
  private readonly partitions: number;
  private readonly publishTimeoutMs: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly log: EventBusLog;
  private producer?: Producer;
  private ready?: Promise<Producer>;
  private topicsReady?: Promise<void>;
  private readonly consumers = new Set<RunningConsumer>();
  private closed = false;

  constructor(readonly opts: KafkaEventBusOptions) {
    if (opts.brokers.length === 0) throw new Error('KafkaEventBus needs at least one broker');
    this.prefix = opts.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    this.partitions = opts.partitions ?? 3;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 120_000;
    this.backoff = opts.backoff ?? { initialMs: 250, maxMs: 5_000 };
    this.log = opts.log ?? defaultLog;
    this.codec = opts.codec ?? new EventCodec();
  }

  /** What every client of this bus shares: brokers, short inner retries, timeouts. */
  clientOptions(suffix = ''): BaseOptions {
    return {
      clientId: (this.opts.clientId ?? 'switchboard') + suffix,
      bootstrapBrokers: this.opts.brokers,
      connectTimeout: 3_000,
      requestTimeout: 15_000,
      // Short inner retries: the publish loop below owns the long wait.
      retries: 2,
      retryDelay: 200,
      ...this.opts.kafka,
    };
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
      const admin = new Admin(this.clientOptions('-admin'));
      try {
        const existing = new Set(await admin.listTopics());
        const wanted = [...EVENT_TYPES.map((t) => this.topicOf(t)), this.deadLetterTopic];
        const missing = wanted.filter((t) => !existing.has(t));
        if (missing.length > 0) {
          await admin
            .createTopics({ topics: missing, partitions: this.partitions, replicas: -1 })
            .catch(async (err: unknown) => {
              // Another process created them meanwhile: fine.
              const now = new Set(await admin.listTopics());
              if (!missing.every((t) => now.has(t))) throw err;
            });
          await this.waitForLeaders(admin, missing);
        }
      } finally {
        await admin.close();
      }
    })().catch((err) => {
      this.topicsReady = undefined;
      throw err;
    });
    return this.topicsReady;
  }

  private async waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const meta = await admin.metadata({ topics, forceUpdate: true }).catch(() => undefined);
      const led = topics.every((t) => {
        const topic = meta?.topics.get(t);
        return topic && topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0);
      });
      if (led || Date.now() > deadline) return;
      await sleep(100);
    }
  }

  async publish(drafts: EventDraft[]): Promise<AnyBusEvent[]> {
    const events = drafts.map((d) => this.codec.build(d)); // all valid, or nothing is sent
    if (events.length === 0) return events;
    const messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = events.map((e) => ({
      topic: this.topicOf(e.type),
      key: Buffer.from(e.call_id),
      value: this.codec.encode(e),
      headers: headersOf(e),
    }));
    await this.withRetry(`publishing ${events.length} event(s)`, async () => {
      const producer = await this.connectProducer();
      await producer.send({ messages, acks: ProduceAcks.ALL });
    });
    return events;
  }

  async subscribe(opts: SubscribeOptions): Promise<EventSubscription> {
    const handlers = opts.handlers as Partial<Record<EventType, AnyHandler>>;
    const types = (Object.keys(handlers) as EventType[]).filter((t) => handlers[t]);
    if (types.length === 0) throw new Error('subscribe needs at least one handler');
    return this.consume(opts.groupId, types, opts.fromBeginning, async (stream, typeOfTopic, c) => {
      for await (const message of stream as AsyncIterable<Msg>) {
        if (!c.isRunning()) return;
        const type = typeOfTopic.get(message.topic);
        if (!type) continue;
        const handled = await c.step(async () => {
          const event = await this.decodeOrDeadLetter(type, message, opts);
          if (event) {
            const delivery = { topic: message.topic, partition: message.partition, offset: String(message.offset) }; // prettier-ignore
            // Stopping: the message comes again to the next consumer.
            if (!(await this.untilHandled(c.isRunning, () => handlers[type]!(event, delivery)))) return false; // prettier-ignore
          }
          await message.commit();
          return true;
        });
        if (!handled) return;
      }
    });
  }

  async subscribeBatches(opts: BatchSubscribeOptions): Promise<EventSubscription> {
    if (opts.types.length === 0) throw new Error('subscribeBatches needs at least one type');
    const max = opts.maxBatch ?? 500;
    return this.consume(
      opts.groupId,
      opts.types,
      opts.fromBeginning,
      async (stream, typeOfTopic, c) => {
        // One batch per partition: its valid events in order, and its last message to commit.
        const batches = new Map<string, { events: AnyBusEvent[]; last: Msg }>();
        const flush = (key: string): Promise<boolean> =>
          c.step(async () => {
            const batch = batches.get(key);
            if (!batch) return true;
            if (batch.events.length) {
              const handled = await this.untilHandled(c.isRunning, () => opts.handleBatch(batch.events)); // prettier-ignore
              if (!handled) return false;
            }
            batches.delete(key);
            await batch.last.commit();
            return true;
          });
        for await (const message of stream as AsyncIterable<Msg>) {
          if (!c.isRunning()) return;
          const type = typeOfTopic.get(message.topic);
          if (!type) continue;
          const key = `${message.topic}:${message.partition}`;
          const event = await this.decodeOrDeadLetter(type, message, opts);
          const batch = batches.get(key) ?? { events: [], last: message };
          if (event) batch.events.push(event);
          batch.last = message;
          batches.set(key, batch);
          if (batch.events.length >= max && !(await flush(key))) return;
          // Nothing more fetched yet: what was collected is a batch.
          if (stream.readableLength === 0) {
            for (const k of [...batches.keys()]) if (!(await flush(k))) return;
          }
        }
      },
    );
  }

  /** Runs `handle` until it succeeds (true) or the consumer stops (false). */
  private async untilHandled(
    isRunning: () => boolean,
    handle: () => Promise<void>,
  ): Promise<boolean> {
    let delay = HANDLER_BACKOFF.initialMs;
    for (;;) {
      try {
        await handle();
        return true;
      } catch (err) {
        if (!isRunning()) return false;
        this.log(
          'warn',
          `handler failed, retrying the same event(s) in ${delay} ms: ${(err as Error).message}`,
        );
        await sleep(delay);
        if (!isRunning()) return false;
        delay = Math.min(delay * 2, HANDLER_BACKOFF.maxMs);
      }
    }
  }

  /**
   * A consumer in `groupId` on the types' topics, running `loop` over its messages; a
   * stream that fails (broker gone, group rebalanced under a commit) is started again from
   * the committed offsets.
   */
  private async consume(
    groupId: string,
    types: readonly EventType[],
    fromBeginning: boolean | undefined,
    loop: (
      stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
      typeOfTopic: Map<string, EventType>,
      c: { isRunning: () => boolean; step: <T>(work: () => Promise<T>) => Promise<T> },
    ) => Promise<void>,
  ): Promise<EventSubscription> {
    this.assertOpen();
    const typeOfTopic = new Map(types.map((t) => [this.topicOf(t), t]));
    await this.withRetry(`preparing topics for group ${groupId}`, () => this.ensureTopics());
    let running = true;
    let busy: Promise<unknown> | undefined;
    const control = {
      isRunning: () => running,
      // A handler and its commit: close() waits for the one running.
      step: <T>(work: () => Promise<T>): Promise<T> => {
        const p = work();
        busy = p;
        return p.finally(() => (busy = undefined));
      },
    };
    const start = async () => {
      const consumer = new Consumer({
        ...this.clientOptions('-consumer'),
        groupId,
        sessionTimeout: this.opts.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: 1_000,
        // Short fetch waits: leaving the group (close, `warehouse load --once`) is quick.
        maxWaitTime: 500,
        autocommit: false, // committed per message (or batch) below, after its handler
      });
      try {
        const stream = await consumer.consume({
          topics: [...typeOfTopic.keys()],
          mode: 'committed',
          fallbackMode: (fromBeginning ?? true) ? 'earliest' : 'latest',
          autocommit: false,
        });
        return { consumer, stream };
      } catch (err) {
        await consumer.close(true).catch(() => {});
        throw err;
      }
    };
    let current: Awaited<ReturnType<typeof start>>;
    try {
      current = await start();
    } catch (err) {
      throw new EventBusUnavailableError(
        this.name,
        `cannot start consumer group ${groupId} on ${this.opts.brokers.join(',')}: ` +
          (err as Error).message,
        { cause: err },
      );
    }
    const done = (async () => {
      let delay = HANDLER_BACKOFF.initialMs;
      while (running) {
        const { consumer, stream } = current;
        try {
          await loop(stream, typeOfTopic, control);
          if (!running) break;
          throw new Error('the message stream ended');
        } catch (err) {
          if (!running) break;
          this.log(
            'warn',
            `consumer group ${groupId}: ${(err as Error).message}; restarting it in ${delay} ms`,
          );
        }
        await stream.close().catch(() => {});
        await consumer.close(true).catch(() => {});
        for (;;) {
          await sleep(delay);
          delay = Math.min(delay * 2, HANDLER_BACKOFF.maxMs);
          if (!running) return;
          try {
            current = await start();
            delay = HANDLER_BACKOFF.initialMs;
            break;
          } catch (err) {
            this.log('warn', `consumer group ${groupId}: ${(err as Error).message}; retrying`);
          }
        }
      }
    })();
    const sub: RunningConsumer = {
      close: async () => {
        if (!this.consumers.delete(sub)) return;
        running = false;
        // The running handler finishes and commits; then the group is left.
        await busy?.catch(() => {});
        await current.stream.close().catch(() => {});
        await done;
        await current.stream.close().catch(() => {});
        await current.consumer.close().catch(() => current.consumer.close(true).catch(() => {}));
      },
    };
    this.consumers.add(sub);
    return sub;
  }

  /** The message as an event, or undefined after copying it to the dead-letter topic. */
  private async decodeOrDeadLetter(
    type: EventType,
    message: Msg,
    opts: { groupId: string; onInvalid?: (invalid: InvalidDelivery) => void },
  ): Promise<AnyBusEvent | undefined> {
    const key = message.key?.toString('utf8');
    const value = message.value ?? null;
    try {
      return this.codec.decode(value, { type, key });
    } catch (err) {
      if (!(err instanceof EventValidationError)) throw err;
      const delivery = {
        topic: message.topic,
        partition: message.partition,
        offset: String(message.offset),
      };
      await this.deadLetter({ ...delivery, key, value, error: err }, opts);
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const consumers = [...this.consumers];
    await Promise.all(consumers.map((c) => c.close().catch(() => {})));
    this.consumers.clear();
    await this.producer?.close().catch(() => {});
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
    const message: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = {
      topic: this.deadLetterTopic,
      ...(invalid.key !== undefined && { key: Buffer.from(invalid.key) }),
      ...(invalid.value && { value: invalid.value }),
      headers: bufferHeaders({
        'dead-letter-reason': invalid.error.message.slice(0, 1_000),
        'original-topic': invalid.topic,
        'original-partition': String(invalid.partition),
        'original-offset': invalid.offset,
        'consumer-group': opts.groupId,
      }),
    };
    await this.withRetry('dead-lettering an invalid message', async () => {
      const producer = await this.connectProducer();
      await producer.send({ messages: [message], acks: ProduceAcks.ALL });
    });
  }

  private connectProducer(): Promise<Producer> {
    this.assertOpen();
    this.ready ??= (async () => {
      await this.ensureTopics();
      this.producer ??= new Producer({
        ...this.clientOptions(),
        idempotent: true,
        acks: ProduceAcks.ALL,
        autocreateTopics: false,
        partitioner: compatibilityPartitioner, // Java's murmur2: same key → partition
      });
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
            this.name,
            `Kafka (${this.opts.brokers.join(',')}) unavailable: ${what} failed for ` +
              `${since(started)} (${attempts} attempts): ${describe(err)}`,
            { cause: err },
          );
        }
        if (Date.now() - lastNotice > 10_000) {
          this.log('warn', `${what}: ${describe(err)}; retrying (${since(started)})`);
          lastNotice = Date.now();
        }
        await sleep(delay);
        delay = Math.min(delay * 2, this.backoff.maxMs);
      }
    }
  }

  // A failed send leaves the producer's idempotence state (sequence numbers, epoch) unknown
  // to us: start a new producer. Events already sent are repeated at most once more under
  // the same ids, which consumers drop.
  private async recover(err: unknown): Promise<void> {
    if (!this.producer) return;
    this.log('info', `restarting the producer after: ${describe(err)}`);
    const old = this.producer;
    this.producer = undefined;
    this.ready = undefined;
    await old.close(true).catch(() => {});
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the event bus is closed');
  }
}

function headersOf(e: AnyBusEvent): Map<Buffer, Buffer> {
  return bufferHeaders({
    'event-id': e.id,
    'event-type': e.type,
    'schema-version': String(e.schema_version),
  });
}

function bufferHeaders(h: Record<string, string>): Map<Buffer, Buffer> {
  return new Map(Object.entries(h).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));
}

/** The error's message with its causes (the client wraps network errors in MultipleErrors). */
function describe(err: unknown): string {
  const e = err as Error & { errors?: unknown[] };
  const inner = e.errors?.length
    ? ` (${e.errors.map((x) => (x as Error).message).join('; ')})`
    : '';
  return `${e.message}${inner}`;
}

const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
