// Ports: what the activities need from the outside world. One adapter per vendor
// under providers/<port>/<vendor>.ts; each adapter passes its port's conformance suite.
import type { LlmUsage } from '../contracts/answers';
export type { LlmUsage } from '../contracts/answers';
import type { Intent, IntentName } from '../contracts/call';
import type { AnyBusEvent, BusEvent, EventDraft, EventType } from '../contracts/events';

export interface IntentClassifier {
  readonly name: string;
  classify(text: string): Promise<Intent>;
}

export interface Customer {
  id: string;
  name: string;
  phone: string;
}

export interface Invoice {
  id: string;
  customerId: string;
  amountCents: number;
  dueDate: string;
  status: 'open' | 'paid';
}

export interface Balance {
  customerId: string;
  balanceCents: number;
  /** Oldest open invoice, the one a payment settles. */
  openInvoice?: Invoice;
}

export interface CallLog {
  callSid: string;
  customerId?: string;
  callerNumber: string;
  intentPath: IntentName[];
  disposition: string;
  turns: number;
  durationMs: number;
  /** Object key of the two-channel recording (audio calls). */
  recordingKey?: string;
}

export interface CrmClient {
  findCustomerByPhone(phone: string): Promise<Customer | undefined>;
  getBalance(customerId: string): Promise<Balance>;
  /** Writes the call log once per idempotency key; a repeat returns the first row's id. */
  writeCallLog(idempotencyKey: string, log: CallLog): Promise<{ id: string; created: boolean }>;
}

export interface PaymentReceipt {
  paymentId: string;
  invoiceId: string;
  amountCents: number;
  /** False when this key had already paid: the first payment is returned. */
  created: boolean;
}

export interface Billing {
  /**
   * Pays an open invoice once per idempotency key. Throws PaymentDeclinedError when
   * the invoice is not payable (already paid, wrong amount, unknown).
   */
  payInvoice(
    idempotencyKey: string,
    invoiceId: string,
    amountCents: number,
  ): Promise<PaymentReceipt>;
}

export class PaymentDeclinedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentDeclinedError';
  }
}

// --- speech ----------------------------------------------------------------------------

/** Telephone audio inside the system: 16-bit signed PCM, mono. */
export interface PcmAudio {
  samples: Int16Array;
  sampleRate: number;
}

export interface Transcript {
  text: string;
  /** In [0, 1]; adapters map their engine's score onto it. */
  confidence: number;
  /** Which adapter produced it (for the record of who served each utterance). */
  provider: string;
}

export interface SttStreamOptions {
  /** Sample rate of the PCM written to the stream (8000 from the phone line). */
  sampleRate: number;
  /** Phrases expected in the current dialogue state (keyterms / a grammar's phrases). */
  hints?: string[];
  signal?: AbortSignal;
}

/** One utterance's recognition: audio in while the caller speaks, the final text at the end. */
export interface SttStream {
  write(pcm: Int16Array): void;
  /** The caller stopped: flush and return the final transcript. */
  finish(): Promise<Transcript>;
  /** Abandon (barge-in, hang-up): free the session without a result. */
  abort(): void;
  /** Interim hypotheses, for logs and barge-in decisions; never sent to the workflow. */
  onPartial?: (text: string) => void;
}

export interface SpeechToText {
  readonly name: string;
  open(opts: SttStreamOptions): Promise<SttStream>;
  /** A whole recording at once (post-call transcription, evaluation). */
  transcribe(audio: PcmAudio, opts?: { hints?: string[] }): Promise<Transcript>;
}

/** Synthesized speech, ready for the phone line: 8 kHz μ-law mono. */
export interface SpeechAudio {
  mulaw: Buffer;
  durationMs: number;
  provider: string;
  voice: string;
}

export interface TextToSpeech {
  readonly name: string;
  /** Part of the cache key: the same text in another voice is other audio. */
  readonly voice: string;
  synthesize(text: string, opts?: { signal?: AbortSignal }): Promise<SpeechAudio>;
}

export interface ObjectStore {
  /** With ifAbsent, an existing object is kept and created is false (a conditional put). */
  put(
    key: string,
    body: Buffer,
    opts?: { contentType?: string; ifAbsent?: boolean },
  ): Promise<{ created: boolean }>;
  get(key: string): Promise<Buffer | undefined>;
  delete(key: string): Promise<void>;
}

// --- language -------------------------------------------------------------------------

/** Sentence embeddings, unit length, so a dot product is the cosine similarity. */
export interface Embedder {
  readonly name: string;
  readonly dimensions: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** Knowledge-base topics: a retrieval payload filter and the KB intents' target. */
export type KbTopic = 'billing' | 'plans' | 'outages' | 'policies';

export interface KbChunk {
  /** Stable across re-ingests: `<docId>#<n>`; upserts by it never duplicate. */
  id: string;
  /** Source file, relative to the knowledge-base folder. */
  docId: string;
  title: string;
  topic: KbTopic;
  text: string;
}

export interface ScoredChunk extends KbChunk {
  /** Cosine similarity to the query, higher is closer. */
  score: number;
}

export interface VectorIndex {
  readonly name: string;
  /** Creates the collection/table if missing; idempotent. */
  ensureCollection(dimensions: number): Promise<void>;
  /** Inserts or replaces by chunk id. */
  upsert(points: { chunk: KbChunk; vector: Float32Array }[]): Promise<void>;
  search(vector: Float32Array, opts: { topK: number; topic?: KbTopic }): Promise<ScoredChunk[]>;
  /** Removes a document's chunks whose ids are not in keep (a shorter re-ingested doc). */
  pruneDocument(docId: string, keep: string[]): Promise<number>;
  count(): Promise<number>;
  /** Documents with chunks in the index (ingest prunes the ones deleted from the folder). */
  documentIds(): Promise<string[]>;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What a grounded answer is built from; every field is untrusted data, already redacted. */
export interface AnswerRequest {
  question: string;
  intent: string;
  documents: ScoredChunk[];
  profile?: { name: string; balanceCents?: number; dueDate?: string; plan?: string };
  recentTurns: { speaker: 'caller' | 'agent'; text: string }[];
}

/** The composed messages for chat models plus the request they came from (for templates). */
export interface Prompt {
  messages: ChatMessage[];
  request: AnswerRequest;
}

export type LlmFailureKind = 'timeout' | 'rate_limit' | 'unavailable' | 'error';

/** Thrown (or raised from the stream) by a LanguageModel adapter; the chain falls through on it. */
export class LanguageModelError extends Error {
  constructor(
    readonly kind: LlmFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'LanguageModelError';
  }
}

export interface LanguageModel {
  readonly name: string;
  /** It bills by the token and reports them (`onUsage`); a cut-off answer's are estimated. */
  readonly reportsUsage?: boolean;
  /**
   * The answer's text as it is generated, in pieces of any size. A provider that reports
   * its token usage calls `onUsage` before the stream ends.
   */
  stream(
    prompt: Prompt,
    opts?: { signal?: AbortSignal; maxTokens?: number; onUsage?: (usage: LlmUsage) => void },
  ): AsyncIterable<string>;
}

// --- events ---------------------------------------------------------------------------
// The events' types are contracts (contracts/events.ts); re-exported for the bus's adapters
// and consumers.
export type * from '../contracts/events';

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

/** An event that breaks its schema (on produce: the caller's bug; on consume: dead-lettered). */
export class EventValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventValidationError';
  }
}

/** The broker could not be reached before the publish deadline: retry later (same ids). */
export class EventBusUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventBusUnavailableError';
  }
}

// --- payments -------------------------------------------------------------------------
// pay_bill is a saga (workflows/payment-saga.ts): reserve the invoice in billing → charge the
// card at the processor → commit the payment in billing (Billing.payInvoice). Every step and
// every compensation takes an idempotency key derived from the workflow id and the step.

/** The invoice held for one payment while its card is charged; its status is the saga's pivot. */
export interface PaymentReservation {
  /** The key the commit (Billing.payInvoice) will pay with. */
  paymentKey: string;
  invoiceId: string;
  customerId: string;
  amountCents: number;
  status: 'held' | 'committed' | 'released';
  chargeId?: string;
  /** False when this key had reserved already: the first reservation is returned. */
  created: boolean;
}

/**
 * Billing's side of the saga. Implemented by the Billing adapters; kept apart from Billing
 * so a Billing that only pays (older callers, test doubles) still satisfies that port.
 */
export interface PaymentReservations {
  /**
   * Holds an open invoice for one payment, once per key (a repeat returns the first
   * reservation, whatever its status now). PaymentDeclinedError when the invoice is unknown,
   * paid, differently priced or held by another live reservation.
   */
  reserve(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string; amountCents: number; holdMs: number },
  ): Promise<PaymentReservation>;
  /** Notes the charge made for a held reservation (idempotent), so the payment records it. */
  attachCharge(idempotencyKey: string, chargeId: string): Promise<void>;
  /**
   * The compensation: ends a held reservation. Atomic with payInvoice: returns 'committed'
   * with the payment when the commit won (then nothing may be refunded), else 'released';
   * a key never reserved is recorded as released, so a late reserve with it holds nothing.
   */
  release(
    idempotencyKey: string,
    req: { paymentKey: string; invoiceId: string },
  ): Promise<{ status: 'released' } | { status: 'committed'; payment: PaymentReceipt }>;
}

/** A charge at the card processor (Stripe's PaymentIntent/Charge, reduced to what we use). */
export interface GatewayCharge {
  chargeId: string;
  amountCents: number;
  /** 'voided': the key was cancelled before any charge with it landed; no money moved. */
  status: 'succeeded' | 'refunded' | 'voided';
  /** False when this key had been used already: the first charge is returned. */
  created: boolean;
}

export interface ChargeRequest {
  /** The processor's customer whose card on file is charged (card data never passes here). */
  customerId: string;
  amountCents: number;
  currency: 'usd';
  description: string;
  metadata: Record<string, string>;
}

export interface PaymentGateway {
  readonly name: string;
  /**
   * Charges once per idempotency key, like Stripe's Idempotency-Key: a repeat (a retry after
   * a timeout) returns the first charge with created false and never charges again.
   * CardDeclinedError when the processor refuses the card.
   */
  charge(idempotencyKey: string, req: ChargeRequest): Promise<GatewayCharge>;
  /** The charge made with this key, if any (to decide after an unknown outcome). */
  findCharge(idempotencyKey: string): Promise<GatewayCharge | undefined>;
  /**
   * The compensation: refunds the charge made with chargeKey in full, once per refund key.
   * With no such charge the key is voided, so a charge still in flight with it cannot land.
   */
  refund(
    refundKey: string,
    chargeKey: string,
  ): Promise<{ status: 'refunded' | 'voided'; chargeId?: string; created: boolean }>;
}

/** The processor refused the card (insufficient funds, expired, …): final, not retried. */
export class CardDeclinedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CardDeclinedError';
  }
}

// --- warehouse ------------------------------------------------------------------------
// Events land in an analytics store: a raw table keyed by event id (the whole event as
// JSON) plus typed projections for reports. Loads are idempotent by event id, so the
// at-least-once bus (retried publishes, redeliveries after a crash) never doubles a row.

export interface WarehouseLoadResult {
  /** Events handed to load. */
  received: number;
  /** Events whose id was new (the rest were already loaded and left as they were). */
  inserted: number;
}

export interface Warehouse {
  readonly name: string;
  /**
   * Stores the events whose ids are not stored yet, in one transaction (all or none of the
   * batch); events already stored are skipped unchanged.
   */
  load(events: AnyBusEvent[]): Promise<WarehouseLoadResult>;
  /** Stored events, of one type or of all. */
  count(type?: EventType): Promise<number>;
  close(): Promise<void>;
}
