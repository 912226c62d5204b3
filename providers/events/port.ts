// The event-bus family. The events' types are contracts (contracts/events.ts).
import type { AnyBusEvent, BusEvent, EventDraft, EventType } from '../../contracts/events';
import { ProviderError } from '../provider-error';

/** Where a consumed event came from (Kafka coordinates; the memory bus mimics them). */
export interface Delivery {
  topic: string;
  partition: number;
  offset: string;
}

export type EventHandlers = {
  [T in EventType]?: (event: BusEvent<T>, delivery: Delivery) => Promise<void>;
};

/** A consumed message that is not a valid event: it is dead-lettered, never handled. */
export interface InvalidDelivery extends Delivery {
  key?: string;
  value: Buffer | null;
  error: EventValidationError;
}

export interface SubscribeOptions {
  /** Consumer group: offsets are committed per group, after each handler succeeds. */
  groupId: string;
  /** Subscribes to the topics of the handled types only. */
  handlers: EventHandlers;
  /** Where a new group starts: the earliest retained event (default) or only new ones. */
  fromBeginning?: boolean;
  /** Told about each invalid message before it is dead-lettered and skipped. */
  onInvalid?: (invalid: InvalidDelivery) => void;
}

/**
 * Consuming in batches (the warehouse loader: one transaction and one offset commit per
 * batch instead of per event). A batch holds the valid events of one partition, in order;
 * its offsets are committed after `handleBatch` returns, and a batch that throws is
 * delivered again, whole.
 */
export interface BatchSubscribeOptions {
  groupId: string;
  types: readonly EventType[];
  handleBatch: (events: AnyBusEvent[]) => Promise<void>;
  /** Events per batch at most (default 500). */
  maxBatch?: number;
  fromBeginning?: boolean;
  onInvalid?: (invalid: InvalidDelivery) => void;
}

export interface EventSubscription {
  /** Stops consuming; offsets of handled events are committed already. */
  close(): Promise<void>;
}

/**
 * At-least-once both ways: publish resolves once the broker has every event (it retries
 * while the broker is away, up to the adapter's deadline), a consumer may see an event twice
 * (a retried publish, a redelivery after a crash) and drops repeats by id
 * (providers/events/dedupe.ts).
 */
export interface EventBus {
  readonly name: string;
  /**
   * Validates every draft first (EventValidationError, nothing sent), then delivers them;
   * EventBusUnavailableError when the broker stayed away past the deadline.
   */
  publish(drafts: EventDraft[]): Promise<AnyBusEvent[]>;
  subscribe(opts: SubscribeOptions): Promise<EventSubscription>;
  subscribeBatches(opts: BatchSubscribeOptions): Promise<EventSubscription>;
  close(): Promise<void>;
}

/**
 * An event that breaks its schema (on produce: the caller's bug, never retried; on consume:
 * dead-lettered). Found by the codec, before any bus is asked.
 */
export class EventValidationError extends ProviderError {
  constructor(message: string) {
    super('event-codec', 'bad_input', message);
    this.name = 'EventValidationError';
  }
}

/** The broker could not be reached before the publish deadline: retry later (same ids). */
export class EventBusUnavailableError extends ProviderError {
  constructor(provider: string, message: string, options: { cause?: unknown } = {}) {
    super(provider, 'unavailable', message, options);
    this.name = 'EventBusUnavailableError';
  }
}
