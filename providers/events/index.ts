// Events: the catalogue (topics, schemas, versions), the codec that validates them on both
// ends, and the consumers' de-duplication. docs/events.md describes the wire format.
export {
  acceptedVersions,
  currentVersion,
  DEAD_LETTER_TOPIC,
  DEFAULT_TOPIC_PREFIX,
  EVENT_REGISTRY,
  EVENT_TYPES,
  eventId,
  FREE_TEXT_FIELDS,
  producedVersion,
  TOPICS,
} from './catalog';
export type { EventRegistry, JsonObject, TypeVersions, Upcaster } from './catalog';
export { EventCodec } from './codec';
export { BoundedSeenEvents, dedupeById, type SeenEvents } from './dedupe';
