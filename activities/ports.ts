// Ports: what the activities need from the outside world. One adapter per vendor
// under providers/<port>/<vendor>.ts; each adapter passes its port's conformance suite.
import type { Intent, IntentName } from '../workflows/definitions';

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

// --- speech (issue 3) -------------------------------------------------------------------

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

// --- language (issue 4) -----------------------------------------------------------------

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
  /** The answer's text as it is generated, in pieces of any size. */
  stream(
    prompt: Prompt,
    opts?: { signal?: AbortSignal; maxTokens?: number },
  ): AsyncIterable<string>;
}
