// Events to and from the wire: a draft gets its deterministic id and the current schema
// version and is validated before it is sent; bytes from the wire are parsed, checked
// against the schema of their version, lifted to the current version, checked again.
// Every failure is an EventValidationError that says which event and which field.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { AnyBusEvent, EventDraft, EventType } from '../../contracts/events';
import { EventValidationError } from './port';
import {
  acceptedVersions,
  currentVersion,
  EVENT_REGISTRY,
  type EventRegistry,
  eventId,
  isEventType,
  type JsonObject,
  producedVersion,
} from './catalog';

/** At most this many field errors in a message. */
const MAX_ERRORS = 5;

export class EventCodec {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly registry: EventRegistry = EVENT_REGISTRY) {
    // verbose: errors carry their schema, so a refused pattern can quote its description.
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
    for (const [type, versions] of Object.entries(registry)) {
      for (const [version, schema] of Object.entries(versions.schemas)) {
        this.validators.set(`${type}@${version}`, ajv.compile(schema));
      }
    }
  }

  currentVersion(type: EventType): number {
    return currentVersion(this.registry, type);
  }

  /** The event a draft becomes: id derived, the produced version stamped, validated. */
  build(draft: EventDraft): AnyBusEvent {
    if (!isEventType(draft.type)) {
      throw new EventValidationError(`unknown event type ${JSON.stringify(draft.type)}`);
    }
    const { type, call_id, workflow_id, seq, occurred_at, data } = draft;
    const event = {
      id: eventId(draft),
      type,
      schema_version: producedVersion(this.registry, type),
      call_id,
      workflow_id,
      seq,
      occurred_at,
      data,
    };
    this.check(event, type, event.schema_version, 'cannot publish');
    return event as AnyBusEvent;
  }

  encode(event: AnyBusEvent): Buffer {
    return Buffer.from(JSON.stringify(event));
  }

  /**
   * Bytes from the wire → an event of the current version. `expect` adds the transport's
   * view: the topic's type and the message key (must be the call id, or ordering breaks).
   */
  decode(value: Buffer | null, expect: { type?: EventType; key?: string } = {}): AnyBusEvent {
    if (!value || value.length === 0) throw new EventValidationError('empty message');
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch (err) {
      throw new EventValidationError(`message is not JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new EventValidationError('message is not a JSON object');
    }
    let event = parsed as JsonObject;
    const { type, schema_version: version } = event;
    const what = `event ${typeof event.id === 'string' ? event.id : '(no id)'}`;
    if (!isEventType(type)) {
      throw new EventValidationError(`${what} has unknown type ${JSON.stringify(type)}`);
    }
    if (expect.type && type !== expect.type) {
      throw new EventValidationError(`${what} is a ${type} event on the ${expect.type} topic`);
    }
    const accepted = acceptedVersions(this.registry, type);
    if (typeof version !== 'number' || !accepted.includes(version)) {
      const current = this.currentVersion(type);
      const why =
        typeof version === 'number' && version > current
          ? 'is newer than this consumer knows: upgrade the consumer'
          : 'is not accepted';
      throw new EventValidationError(
        `${what}: schema_version ${JSON.stringify(version)} of ${type} ${why} ` +
          `(accepted: ${accepted.join(', ')})`,
      );
    }
    this.check(event, type, version, 'invalid');
    for (let v = version + 1; v <= this.currentVersion(type); v++) {
      const upcast = this.registry[type].upcasters?.[v];
      if (!upcast) throw new EventValidationError(`no upcaster of ${type} from v${v - 1} to v${v}`);
      event = { ...upcast(event), schema_version: v };
      this.check(event, type, v, `invalid after the upcast from v${v - 1}`);
    }
    const ok = event as unknown as AnyBusEvent;
    if (ok.id !== eventId(ok)) {
      throw new EventValidationError(`${what}: id is not ${eventId(ok)} (workflow_id:type:seq)`);
    }
    if (expect.key !== undefined && expect.key !== ok.call_id) {
      throw new EventValidationError(`${what}: message key ${expect.key} is not its call_id`);
    }
    return ok;
  }

  private check(event: object, type: EventType, version: number, verb: string): void {
    const validate = this.validators.get(`${type}@${version}`);
    if (!validate) throw new EventValidationError(`no schema for ${type} v${version}`);
    if (validate(event)) return;
    const id = (event as { id?: unknown }).id;
    throw new EventValidationError(
      `${verb} ${type} v${version} event ${typeof id === 'string' ? id : '(no id)'}: ` +
        describeErrors(validate.errors ?? []),
    );
  }
}

function describeErrors(errors: ErrorObject[]): string {
  const lines = errors.slice(0, MAX_ERRORS).map((e) => {
    const at = e.instancePath || '(event)';
    if (e.keyword === 'additionalProperties') {
      return `${at} has unknown field ${String(e.params.additionalProperty)}`;
    }
    if (e.keyword === 'not') {
      const desc = (e.schema as { description?: string } | undefined)?.description;
      return `${at} is refused${desc ? `: ${desc}` : ''}`;
    }
    if (e.keyword === 'const') return `${at} must be ${JSON.stringify(e.params.allowedValue)}`;
    if (e.keyword === 'enum')
      return `${at} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    return `${at} ${e.message}`;
  });
  const more = errors.length > MAX_ERRORS ? ` (+${errors.length - MAX_ERRORS} more)` : '';
  return lines.join('; ') + more;
}
