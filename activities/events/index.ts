// Events: the catalogue (topics, schemas, versions), the codec that validates them on both
// ends, and the consumers' de-duplication. docs/events.md describes the wire format.
import { FailureType, failure } from '../errors';
import { EventBusUnavailableError, EventValidationError } from '../ports';

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
export { redactEventsText, redactEventText } from './redaction';

/**
 * A publishing activity's error as the failure workflows branch on: an invalid event is
 * BadInput (retrying cannot help); an unreachable broker is retried by Temporal with the
 * same deterministic ids.
 */
export function eventFailure(err: unknown): unknown {
  if (err instanceof EventValidationError) return failure(FailureType.BadInput, err.message, err);
  if (err instanceof EventBusUnavailableError) {
    return failure(FailureType.ProviderUnavailable, err.message, err);
  }
  return err;
}
