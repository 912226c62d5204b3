// Refuses answer sentences that disclose someone else's account or contact data, or a
// secret. The answer path only ever holds the caller's own profile, so another
// customer's data can reach the model only through a poisoned document or the
// caller's own words; this check stops the model from repeating it.
import { hasSensitive } from './redact';

export type PrivacyKind = 'secret' | 'solicits_secret' | 'phone' | 'email' | 'third_party';

export type PrivacyCheck = { ok: true } | { ok: false; kind: PrivacyKind; phrase: string };

export interface PrivacyContext {
  /** The caller's own name: statements about their account are fine. */
  callerName?: string;
  /** Phone numbers the company publishes (e.g. in the KB), in any format. */
  allowedPhones?: string[];
}

const digits = (s: string): string => s.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');

const PHONE = /(?:\+?\d[\d\s().-]{8,}\d)/g;
const EMAIL = /\b[\w.+-]+@[\w-]+\.[\w.]+\b/;
// "Grace owes …", "Grace's balance", "the account of Grace", "customer Grace Hopper".
const ACCOUNT_WORDS =
  '(?:bill|balance|account|payment|invoice|phone|number|address|plan|due date|card|pin)';
const THIRD_PARTY = [
  new RegExp(
    `\\b([A-Z][a-z]+)(?:\\s+[A-Z][a-z]+)?(?:'s|’s)\\s+(?:\\w+\\s+)?${ACCOUNT_WORDS}\\b`,
    'g',
  ),
  /\b([A-Z][a-z]+)(?:(?:,\s*|\s+and\s+|\s+)[A-Z][a-z]+)*\s+(?:owes?|owed|still owes?|has (?:a|an) (?:open |outstanding |unpaid )?(?:balance|bill)|has paid|paid (?:her|his|their))\b/g,
  new RegExp(`\\b${ACCOUNT_WORDS} (?:of|for) ([A-Z][a-z]+)\\b`, 'g'),
  /\b(?:[Cc]ustomer|[Aa]ccount holder|[Cc]aller)\s+([A-Z][a-z]+)\b/g,
];
/** Capitalised words that are not people: the company, products, sentence starters. */
const NOT_PEOPLE = new Set(
  'Your You The This That It Our We Northwind Basic Fiber Gigabit Talk Text Unlimited Standard Green Time Essential Plus Pro Visa Mastercard Discover American Express Autopay Paperless Internet Mobile Power Each Every Any No Yes Customer Caller Account'.split(
    ' ',
  ),
);

// Asking the caller for a secret: the agent never does (a poisoned document may tell it to).
const SOLICITS = new RegExp(
  "\\b(?:tell|give|read|say|provide|enter|confirm|spell|share|need|what is|what's)\\b[^.?!]{0,40}" +
    '\\b(?:card number|card details|pin|cvv|cvc|security code|social security|ssn|password|passcode|routing number|bank account number)\\b',
  'i',
);

export function checkPrivacy(sentence: string, ctx: PrivacyContext = {}): PrivacyCheck {
  if (hasSensitive(sentence)) return { ok: false, kind: 'secret', phrase: '(redacted)' };
  const allowed = new Set((ctx.allowedPhones ?? []).map(digits));
  for (const m of sentence.matchAll(PHONE)) {
    const d = digits(m[0]);
    // Ten digits or more: a phone number, not an amount or a date.
    if (d.length >= 10 && !allowed.has(d)) return { ok: false, kind: 'phone', phrase: m[0].trim() };
  }
  const asks = SOLICITS.exec(sentence);
  if (asks && !/\b(?:never|not|don't|do not|won't)\b/i.test(asks[0]))
    return { ok: false, kind: 'solicits_secret', phrase: asks[0] };
  const email = EMAIL.exec(sentence);
  if (email) return { ok: false, kind: 'email', phrase: email[0] };
  const caller = ctx.callerName?.split(/\s+/)[0]?.toLowerCase();
  for (const re of THIRD_PARTY) {
    for (const m of sentence.matchAll(re)) {
      // Every name in "Grace, Katherine and Ada owe" counts, not only the first.
      const names = m[0].match(/\b[A-Z][a-z]+\b/g) ?? [];
      const other = names.find((n) => !NOT_PEOPLE.has(n) && n.toLowerCase() !== caller);
      if (other) return { ok: false, kind: 'third_party', phrase: m[0] };
    }
  }
  return { ok: true };
}

/** Said instead of an answer that would disclose someone's data or ask for a secret. */
export const PRIVACY_REFUSAL =
  'I can only help with your own account, and I will never ask for your card number or PIN. Let me connect you to an agent.';
