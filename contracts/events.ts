// The call's events, as they leave the system on Kafka: their types and the envelope. Field
// names are the wire's (snake_case, as warehouse columns); each type's JSON Schema is
// providers/events/schemas/<type>.v<N>.json. Shared by the workflows (which draft them),
// the event bus and its consumers; imports nothing of ours.

export type EventType =
  | 'transcript.line'
  | 'recording.completed'
  | 'call.ended'
  | 'turn.metrics'
  | 'provider.fallback'
  | 'call.analyzed'
  | 'call_log.status'
  | 'provider.health_changed'
  | 'provider.fallback_summary'
  | 'call.activity_retried';

/** The pipeline stages that have provider chains and latencies. */
export type PipelineStage = 'asr' | 'intent' | 'retrieval' | 'llm' | 'tts';

/** One line of the live transcript (caller or agent), already redacted. */
export interface TranscriptLineData {
  turn_id: number;
  speaker: 'caller' | 'agent';
  text: string;
  /** ASR confidence of a caller line, in [0, 1]. */
  confidence?: number;
  intent?: string;
  reason?: 'greeting' | 'reply' | 'no_input' | 'end' | 'handoff';
  /** Set on an agent line the caller talked over: how much of it they heard. */
  interrupted_heard_ms?: number;
  /** Which recognizer served a caller line. */
  asr_provider?: string;
}

/** The call's two-channel recording is in the object store. */
export interface RecordingCompletedData {
  bucket: string;
  object_key: string;
  duration_ms: number;
  truncated: boolean;
  size_bytes?: number;
}

/** A non-primary provider served some of the call's turns at a stage. */
export interface FallbackUse {
  stage: PipelineStage;
  provider: string;
  turns: number;
}

/** The call is over: its disposition and what it took. */
export interface CallEndedData {
  disposition: string;
  /** The intent path, in order. */
  intents: string[];
  turns: number;
  duration_ms: number;
  fallbacks_used: FallbackUse[];
  customer_id?: string;
  recording_key?: string;
  call_log_id?: string;
}

/** Per-turn timings and providers: the source of the latency and cost report. */
export interface TurnMetricsData {
  turn_id: number;
  /** Milliseconds per stage; end_to_end is caller-stops-speaking → first reply audio. */
  latency_ms: Partial<Record<PipelineStage, number>> & { end_to_end: number };
  providers: Partial<Record<PipelineStage, string>>;
  /** Billable units, priced by the report's price table. */
  usage?: {
    asr_audio_ms?: number;
    tts_characters?: number;
    llm_input_tokens?: number;
    llm_output_tokens?: number;
  };
  tts_cache_hit?: boolean;
  barge_in?: boolean;
  /** No synthesizer voiced the turn: said from prerecorded pieces, or a line replaced by the apology. */
  spoken_as?: 'pieces' | 'apology';
  /** A line of the reply was not said: the reply (in the transcript) is owed by SMS. */
  sms_follow_up?: boolean;
}

/** A provider failed and the chain moved on (or could not): for ops alerts. */
export interface ProviderFallbackData {
  stage: PipelineStage;
  failed_provider: string;
  reason: string;
  /** The provider that served instead; absent: none could. */
  served_by?: string;
  turn_id?: number;
}

/** The post-call workflow's analysis of a finished call (summary, QA flags). */
export interface CallAnalyzedData {
  /** One or two sentences, redacted. */
  summary: string;
  disposition: string;
  /** e.g. escalated, low_confidence, fallback_used, refused_answers (docs/events.md). */
  qa_flags: string[];
  /** The LLM that wrote the summary, or `template` (the deterministic fallback). */
  summary_provider: string;
  /** The batch recognizer of the recording, or `none` (no recording). */
  transcription_provider: string;
  transcript_words: number;
}

/**
 * A call log that was not written at hang-up, for ops: `pending` (the CRM was away; queued in
 * the post-call workflow until it is back), then `written` by the post-call workflow; or
 * `refused` (the CRM refused it for good; the call is flagged for review). A call log written
 * at hang-up has no event.
 */
export interface CallLogStatusData {
  status: 'pending' | 'written' | 'refused';
  /** The failure type of a refusal (e.g. BadInput). */
  reason?: string;
  /** The CRM row, once written. */
  call_log_id?: string;
  disposition: string;
}

/** The state of a provider's circuit breaker as ops see it. */
export type BreakerView = 'closed' | 'open' | 'half_open';

/**
 * A provider's breaker moved (published once for the fleet, by the process whose write made
 * the move). Envelope: call_id = the provider (`family:name`, the Kafka key), seq = the
 * transition's time in ms.
 */
export interface ProviderHealthChangedData {
  /** `family:name`, as kept in Redis (`tts:polly`). */
  provider: string;
  family: string;
  from: BreakerView;
  to: BreakerView;
  /** ISO 8601: when the new state began; for open and half-open, when the outage began. */
  since: string;
  /** Why it opened ("5 failures in a row"). */
  reason?: string;
  /** In the breaker's window at the move. */
  failures: number;
  requests: number;
  /** The last error's kind (timeout, unavailable …) and message; never a request's payload. */
  last_error_kind?: string;
  last_error?: string;
}

/**
 * A family's chain fell back from one provider, aggregated: at most one per provider per
 * interval, with the count. Envelope: call_id = the failed provider (`family:name`),
 * workflow_id = the producing process, seq = its interval number for that provider.
 */
export interface ProviderFallbackSummaryData {
  family: string;
  /** `family:name`. */
  failed_provider: string;
  /** Requests in the interval that passed over or failed on it. */
  count: number;
  /** The last one's kind: timeout, unavailable, skipped (breaker open) … */
  kind: string;
  /** The provider that served the last one; absent: none could. */
  served_by?: string;
  /** Of `count`, those no provider of the chain could serve. */
  unserved: number;
  /** ISO 8601: the interval's first and last fallback. */
  first_at: string;
  last_at: string;
}

/**
 * An activity of a call's workflow ran again (attempt > 1): counted per call by the incident
 * watcher. Envelope: call_id = the CallSid, workflow_id = the call's workflow, seq = the
 * activity's id and attempt (one event per attempt, repeated under the same id).
 */
export interface CallActivityRetriedData {
  activity_type: string;
  /** Temporal's activity id within the workflow run. */
  activity_id: string;
  /** The attempt that started (2 = the first retry). */
  attempt: number;
  /** A local activity (retried by the worker itself, within one workflow task or across). */
  local: boolean;
}

export interface EventDataByType {
  'transcript.line': TranscriptLineData;
  'recording.completed': RecordingCompletedData;
  'call.ended': CallEndedData;
  'turn.metrics': TurnMetricsData;
  'provider.fallback': ProviderFallbackData;
  'call.analyzed': CallAnalyzedData;
  'call_log.status': CallLogStatusData;
  'provider.health_changed': ProviderHealthChangedData;
  'provider.fallback_summary': ProviderFallbackSummaryData;
  'call.activity_retried': CallActivityRetriedData;
}

/** An event as it travels; the envelope is the same for every type. */
export interface BusEvent<T extends EventType = EventType> {
  /** `<workflow_id>:<type>:<seq>`: deterministic, so a retried publish repeats the same id. */
  id: string;
  type: T;
  /** Of this type's schema; consumers accept the current and the previous one. */
  schema_version: number;
  /** The Kafka key: one call's events of a type stay in order on one partition. */
  call_id: string;
  workflow_id: string;
  /** Per workflow and type, from workflow state (e.g. transcript seq, turn id). */
  seq: number;
  /** ISO 8601 UTC, from the workflow's clock (the same on a retry). */
  occurred_at: string;
  data: EventDataByType[T];
}

/** Any event, narrowed by `type`. */
export type AnyBusEvent = { [T in EventType]: BusEvent<T> }[EventType];

/** What a producer hands to publish: the bus derives the id and stamps the schema version. */
export type EventDraft = {
  [T in EventType]: Omit<BusEvent<T>, 'id' | 'schema_version'>;
}[EventType];
