// The event catalogue: each type's topic and its schemas by version, with the upcasters that
// lift an event of the previous version to the current one. A new version of a type adds a
// schema file <type>.v<N>.json and an upcaster N-1 → N here; consumers then accept both
// while producers move over (docs/events.md, "Versioning").
import type { AnyBusEvent, EventDataByType, EventType } from '../../contracts/events';
import callActivityRetriedV1 from './schemas/call.activity_retried.v1.json';
import callAnalyzedV1 from './schemas/call.analyzed.v1.json';
import callEndedV1 from './schemas/call.ended.v1.json';
import callLogStatusV1 from './schemas/call_log.status.v1.json';
import providerFallbackV1 from './schemas/provider.fallback.v1.json';
import providerFallbackSummaryV1 from './schemas/provider.fallback_summary.v1.json';
import providerHealthChangedV1 from './schemas/provider.health_changed.v1.json';
import recordingCompletedV1 from './schemas/recording.completed.v1.json';
import transcriptLineV1 from './schemas/transcript.line.v1.json';
import turnMetricsV1 from './schemas/turn.metrics.v1.json';

export const EVENT_TYPES = [
  'transcript.line',
  'recording.completed',
  'call.ended',
  'turn.metrics',
  'provider.fallback',
  'call.analyzed',
  'call_log.status',
  'provider.health_changed',
  'provider.fallback_summary',
  'call.activity_retried',
] as const satisfies readonly EventType[];

/** Topic names without the bus's prefix (`switchboard.` by default). */
export const TOPICS: Record<EventType, string> = {
  'transcript.line': 'transcripts',
  'recording.completed': 'recordings',
  'call.ended': 'dispositions',
  'turn.metrics': 'turn-metrics',
  'provider.fallback': 'provider-fallbacks',
  'call.analyzed': 'call-analyses',
  'call_log.status': 'call-logs',
  'provider.health_changed': 'provider-health',
  'provider.fallback_summary': 'provider-fallback-summaries',
  'call.activity_retried': 'call-activity-retries',
};

/** Where consumers put messages that are not valid events (raw bytes + the reason). */
export const DEAD_LETTER_TOPIC = 'dead-letters';

/** Default topic prefix: topics are `switchboard.transcripts`, … */
export const DEFAULT_TOPIC_PREFIX = 'switchboard.';

/** A JSON object as parsed from the wire, before it is known to be an event. */
export type JsonObject = Record<string, unknown>;

/** Lifts an event of version N-1 to version N (returns a new object). */
export type Upcaster = (event: JsonObject) => JsonObject;

export interface TypeVersions {
  /** JSON Schema of each version; the highest is current. */
  schemas: Record<number, object>;
  /** upcasters[N] turns an N-1 event into an N event. */
  upcasters?: Record<number, Upcaster>;
  /**
   * The version producers write; default the highest. Pin it to N-1 for the release that
   * introduces N, so consumers still running the release before can read what is sent.
   */
  produce?: number;
}

export type EventRegistry = Record<EventType, TypeVersions>;

export const EVENT_REGISTRY: EventRegistry = {
  'transcript.line': { schemas: { 1: transcriptLineV1 } },
  'recording.completed': { schemas: { 1: recordingCompletedV1 } },
  'call.ended': { schemas: { 1: callEndedV1 } },
  'turn.metrics': { schemas: { 1: turnMetricsV1 } },
  'provider.fallback': { schemas: { 1: providerFallbackV1 } },
  'call.analyzed': { schemas: { 1: callAnalyzedV1 } },
  'call_log.status': { schemas: { 1: callLogStatusV1 } },
  'provider.health_changed': { schemas: { 1: providerHealthChangedV1 } },
  'provider.fallback_summary': { schemas: { 1: providerFallbackSummaryV1 } },
  'call.activity_retried': { schemas: { 1: callActivityRetriedV1 } },
};

/** The `data` fields of a type whose values are strings. */
type StringField<T extends EventType> = {
  [K in keyof EventDataByType[T]]-?: EventDataByType[T][K] extends string | undefined ? K : never;
}[keyof EventDataByType[T]] &
  string;

/**
 * The `data` fields that carry words people or models said or wrote (caller and agent
 * lines, summaries, error messages): the only fields redacted before an event is
 * published. Every other field — ids, keys, providers, dispositions, timestamps, amounts —
 * is written by the system and leaves as it is: a CallSid whose hex holds a Luhn-valid run
 * is still the CallSid. A new field that carries words is added here.
 */
export const FREE_TEXT_FIELDS: { [T in EventType]: readonly StringField<T>[] } = {
  'transcript.line': ['text'],
  'recording.completed': [],
  'call.ended': [],
  'turn.metrics': [],
  'provider.fallback': ['reason'],
  'call.analyzed': ['summary'],
  'call_log.status': [],
  'provider.health_changed': ['last_error', 'reason'],
  'provider.fallback_summary': [],
  'call.activity_retried': [],
};

export function currentVersion(registry: EventRegistry, type: EventType): number {
  return Math.max(...Object.keys(registry[type].schemas).map(Number));
}

/** The version producers stamp on new events of a type. */
export function producedVersion(registry: EventRegistry, type: EventType): number {
  return registry[type].produce ?? currentVersion(registry, type);
}

/** Consumers accept the current version and the one before it (when it exists). */
export function acceptedVersions(registry: EventRegistry, type: EventType): number[] {
  const current = currentVersion(registry, type);
  return [current, current - 1].filter((v) => registry[type].schemas[v] !== undefined);
}

export const isEventType = (t: unknown): t is EventType =>
  typeof t === 'string' && (EVENT_TYPES as readonly string[]).includes(t);

/** The deterministic event id: workflow id + type + sequence. */
export const eventId = (e: Pick<AnyBusEvent, 'workflow_id' | 'type' | 'seq'>): string =>
  `${e.workflow_id}:${e.type}:${e.seq}`;
