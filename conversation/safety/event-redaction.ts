// Redaction of events before they leave the system: only the fields the catalogue
// declares as free text (FREE_TEXT_FIELDS) go through the redactor; the envelope (id,
// call_id, workflow_id, seq, occurred_at) and every other data field are identifiers or
// values the system wrote, and are published as they are.
import type { EventDraft } from '../../contracts/events';
import { redactText } from './redact';
import { FREE_TEXT_FIELDS } from '../../providers/events/catalog';

/** A copy of the draft with its free-text fields redacted. */
export function redactEventText<E extends EventDraft>(draft: E): E {
  const fields: readonly string[] = FREE_TEXT_FIELDS[draft.type] ?? [];
  if (!fields.length) return draft;
  const data: Record<string, unknown> = { ...draft.data };
  for (const field of fields) {
    const value = data[field];
    if (typeof value === 'string') data[field] = redactText(value);
  }
  return { ...draft, data };
}

/** Every draft of a batch, redacted (see redactEventText). */
export const redactEventsText = <E extends EventDraft>(drafts: readonly E[]): E[] =>
  drafts.map((d) => redactEventText(d));
