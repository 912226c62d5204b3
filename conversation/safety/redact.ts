// Redaction of payment and identity secrets from what people and models say (caller
// text, answers, prompts, summaries, free-text log messages) before it is stored, logged,
// prompted or signalled: card numbers, CVV and PINs never reach LLMs, logs, events or
// history. Pure and synchronous so every boundary can call it.
//
// ASR spells digits as words ("four one one one", "oh" for zero, "double five"), so
// the text is first read as runs of digits, written or spoken; each run is then
// classified: a 13–19 digit Luhn-valid run is a card wherever it appears, so is any run
// of 20 digits or more (a card number a recognizer heard with extra digits), and any run
// of 12 or more near a card word; an SSN-shaped written run (123-45-6789) is an SSN, and
// the rest only count as secrets near a keyword (cvv, pin, routing …). Ordinary numbers — amounts, phone numbers, dates —
// stay as they are.
//
// Identifiers are never redacted. Two layers keep them intact:
// - structured: callers redact free-text fields only — events the fields the catalogue
//   declares as words (providers/events), logs everything but identifier fields
//   (`redactLogFields`: workflowId, callSid, taskQueue, event ids, keys, hashes …);
// - token level: a digit run glued to letters (the hex of `CAb4111111111111111dca…` in
//   `call-CA…`, a sha256, `24T10` in a timestamp) or a uuid is one identifier token, never
//   a number, so an id quoted in free text survives too. People write and say card
//   numbers apart from letters ("4111 1111 1111 1111", "4111-1111-…", "four one one …"):
//   those are redacted as before.

import { format } from 'node:util';
import type { LoggerOptions } from 'pino';

export type RedactionKind =
  'card' | 'cvv' | 'expiry' | 'pin' | 'ssn' | 'bank_account' | 'routing_number';

export interface Redaction {
  kind: RedactionKind;
  /** Offsets in the input text (end exclusive). */
  start: number;
  end: number;
}

export interface Redacted {
  text: string;
  redactions: Redaction[];
}

export interface RedactOptions {
  /**
   * Text said just before this one (e.g. the caller's previous utterance or the
   * agent's question): a keyword at its end ("my pin is") covers digits at the
   * start of this text.
   */
  contextBefore?: string;
}

/** Stable placeholders: they contain no digits, so redaction is idempotent. */
export const PLACEHOLDERS: Record<RedactionKind, string> = {
  card: '[card]',
  cvv: '[cvv]',
  expiry: '[expiry]',
  pin: '[pin]',
  ssn: '[ssn]',
  bank_account: '[bank account]',
  routing_number: '[routing number]',
};

// ---------------------------------------------------------------- tokens

interface Token {
  text: string; // lower-cased
  start: number;
  end: number;
}

/** The text of an identifier token: no digit, no number word, no keyword. */
const IDENTIFIER_TOKEN = '\u0000id';

/** A word mixing letters and digits: `CAb4111…dca`, `24T10`, a hash `e3b0c442…`. */
const MIXED_WORD = /^(?=[A-Za-z0-9]*[A-Za-z])(?=[A-Za-z0-9]*\d)[A-Za-z0-9]+$/;
/** A uuid, even one whose groups are all digits (its dashes would join them into a run). */
const UUID =
  /(?<![A-Za-z0-9])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![A-Za-z0-9])/gi;

/**
 * Words and numbers of the text. A digit run glued to letters is part of an identifier,
 * not a number anyone said (`CAb4111111111111111dca…` in `call-CAb…:transcript.line:3`),
 * and a uuid is one too: each is one opaque token, so its digits never join a run and its
 * letters are never a keyword. Numbers people say or write stand apart from letters.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const uuids = Array.from(text.matchAll(UUID), (m): [number, number] => [
    m.index,
    m.index + m[0].length,
  ]);
  for (const m of text.matchAll(/[A-Za-z0-9]+/g)) {
    const start = m.index;
    const end = start + m[0].length;
    const uuid = uuids.find(([a, b]) => a <= start && end <= b);
    if (uuid) {
      if (start === uuid[0]) tokens.push({ text: IDENTIFIER_TOKEN, start, end: uuid[1] });
    } else if (MIXED_WORD.test(m[0])) {
      tokens.push({ text: IDENTIFIER_TOKEN, start, end });
    } else {
      tokens.push({ text: m[0].toLowerCase(), start, end });
    }
  }
  return tokens;
}

const UNITS: Record<string, string> = {
  zero: '0',
  oh: '0',
  o: '0',
  nought: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
};
/** ASR homophones of digits: digits only between other digits (see trimWeak). */
const WEAK_UNITS: Record<string, string> = {
  oh: '0',
  o: '0',
  to: '2',
  too: '2',
  for: '4',
  won: '1',
  ate: '8',
};
const TEENS: Record<string, string> = {
  ten: '10',
  eleven: '11',
  twelve: '12',
  thirteen: '13',
  fourteen: '14',
  fifteen: '15',
  sixteen: '16',
  seventeen: '17',
  eighteen: '18',
  nineteen: '19',
};
const TENS: Record<string, string> = {
  twenty: '2',
  thirty: '3',
  forty: '4',
  fifty: '5',
  sixty: '6',
  seventy: '7',
  eighty: '8',
  ninety: '9',
};
const REPEAT: Record<string, number> = { double: 2, triple: 3 };

/** One spoken or written number inside a digit run. */
interface Group {
  digits: string;
  first: number; // token index
  last: number; // token index, inclusive
  weak: boolean;
  numeral: boolean; // written with digits
  word: string; // the first token, lower-cased
}

const unitAt = (tokens: Token[], i: number): string | undefined => {
  const t = tokens[i]?.text;
  if (t === undefined) return undefined;
  if (/^\d$/.test(t)) return t;
  return UNITS[t];
};

/** Two-digit spoken forms: "forty two", "forty", "twelve". */
function tensAt(tokens: Token[], i: number): { digits: string; last: number } | undefined {
  const t = tokens[i]?.text;
  if (t === undefined) return undefined;
  if (TEENS[t]) return { digits: TEENS[t], last: i };
  const tens = TENS[t];
  if (!tens) return undefined;
  const next = tokens[i + 1]?.text;
  const unit = next !== undefined ? UNITS[next] : undefined;
  if (unit && unit !== '0') return { digits: tens + unit, last: i + 1 };
  return { digits: `${tens}0`, last: i };
}

function groupAt(tokens: Token[], i: number): Group | undefined {
  const t = tokens[i]!.text;
  if (/^\d+$/.test(t)) return { digits: t, first: i, last: i, weak: false, numeral: true, word: t };
  const times = REPEAT[t];
  if (times) {
    const unit = unitAt(tokens, i + 1);
    if (unit === undefined) return undefined;
    return {
      digits: unit.repeat(times),
      first: i,
      last: i + 1,
      weak: false,
      numeral: false,
      word: t,
    };
  }
  const unit = UNITS[t];
  if (unit !== undefined && tokens[i + 1]?.text === 'hundred') {
    // "four hundred twelve" → 412, "four hundred" → 400.
    let j = i + 2;
    if (tokens[j]?.text === 'and') j += 1;
    const rest = tensAt(tokens, j);
    if (rest)
      return {
        digits: unit + rest.digits,
        first: i,
        last: rest.last,
        weak: false,
        numeral: false,
        word: t,
      };
    const u = UNITS[tokens[j]?.text ?? ''];
    if (u !== undefined && tokens[j]?.text !== 'o' && tokens[j]?.text !== 'oh')
      return { digits: `${unit}0${u}`, first: i, last: j, weak: false, numeral: false, word: t };
    return { digits: `${unit}00`, first: i, last: i + 1, weak: false, numeral: false, word: t };
  }
  const tens = tensAt(tokens, i);
  if (tens)
    return { digits: tens.digits, first: i, last: tens.last, weak: false, numeral: false, word: t };
  if (unit !== undefined)
    return { digits: unit, first: i, last: i, weak: t in WEAK_UNITS, numeral: false, word: t };
  const weak = WEAK_UNITS[t];
  if (weak !== undefined)
    return { digits: weak, first: i, last: i, weak: true, numeral: false, word: t };
  return undefined;
}

/** What may stand between two numbers of one run: spaces, commas, dashes, slashes, ". ". */
const JOINER = /^(?:[\s,\-–—/]|\.(?=\s))*$/;

interface Run {
  groups: Group[];
}

function digitRuns(text: string, tokens: Token[]): Run[] {
  const runs: Run[] = [];
  let current: Group[] = [];
  const flush = () => {
    const trimmed = trimWeak(current);
    if (trimmed.length) runs.push({ groups: trimmed });
    current = [];
  };
  for (let i = 0; i < tokens.length;) {
    const g = groupAt(tokens, i);
    if (!g) {
      flush();
      i += 1;
      continue;
    }
    const prev = current[current.length - 1];
    if (prev && !JOINER.test(text.slice(tokens[prev.last]!.end, tokens[g.first]!.start))) flush();
    current.push(g);
    i = g.last + 1;
  }
  flush();
  return runs;
}

/**
 * Homophones ("for", "to", "oh") count only inside a run: "oh, four one one …" and
 * "pay for 1 month" must not gain a digit. A trailing "oh" stays (numbers end in zero).
 */
function trimWeak(groups: Group[]): Group[] {
  let a = 0;
  let b = groups.length;
  while (a < b && groups[a]!.weak) a += 1;
  while (b > a && groups[b - 1]!.weak && !['oh', 'o'].includes(groups[b - 1]!.word)) b -= 1;
  const kept = groups.slice(a, b);
  return kept.some((g) => !g.weak) ? kept : [];
}

// ---------------------------------------------------------------- checks

/** The Luhn checksum every payment card number satisfies. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

interface Keyword {
  kind: RedactionKind | 'card_context';
  pattern: RegExp;
}

// Each pattern is matched on the whole lower-cased text; "pin" must be a word of its own.
const KEYWORDS: Keyword[] = [
  {
    kind: 'card_context',
    pattern:
      /\b(?:card|credit|debit|visa|master ?card|amex|american express|discover|card number)\b/g,
  },
  {
    kind: 'cvv',
    pattern:
      /\b(?:cvv2?|cvc2?|cid|csc|security (?:code|number)|card code|verification (?:code|number|value)|(?:three|four|3|4)[ -]digit (?:code|number)|(?:on )?the back of (?:the|my) card)\b/g,
  },
  { kind: 'expiry', pattern: /\b(?:expir(?:y|es|ation|ing)|exp date|valid (?:thru|through))\b/g },
  {
    kind: 'pin',
    pattern: /\b(?:pin(?: number| code)?s?|pass ?codes?|passwords?|access codes?)\b/g,
  },
  { kind: 'ssn', pattern: /\b(?:ssn|social security(?: number)?|social)\b/g },
  { kind: 'routing_number', pattern: /\b(?:routing(?: number)?|aba|transit number)\b/g },
  {
    kind: 'bank_account',
    pattern: /\b(?:bank account|checking(?: account)?|savings(?: account)?|account number|iban)\b/g,
  },
];

/** How many digits each kind may have when a keyword names it. */
const LENGTHS: Record<Exclude<RedactionKind, 'card'>, (n: number) => boolean> = {
  cvv: (n) => n === 3 || n === 4,
  expiry: (n) => n >= 3 && n <= 6,
  pin: (n) => n >= 4 && n <= 12,
  ssn: (n) => n === 9 || n === 4,
  routing_number: (n) => n === 9,
  bank_account: (n) => n >= 4 && n <= 17,
};

/** The longest card number: a longer run is a card number heard with digits to spare. */
const LONGEST_CARD = 19;

/** Keyword within this many word tokens before a run's start, or after its end. */
const WINDOW_BEFORE = 8;
const WINDOW_AFTER = 4;

interface KeywordHit {
  kind: Keyword['kind'];
  first: number; // token index
  last: number;
}

function keywordHits(text: string, tokens: Token[]): KeywordHit[] {
  const lower = text.toLowerCase();
  const tokenAt = (offset: number, fromEnd: boolean): number => {
    const i = tokens.findIndex((t) => (fromEnd ? t.end >= offset : t.start >= offset));
    return i === -1 ? tokens.length - 1 : i;
  };
  const hits: KeywordHit[] = [];
  for (const k of KEYWORDS) {
    for (const m of lower.matchAll(k.pattern)) {
      // Our own placeholders ("[pin]") are not keywords: redaction stays idempotent.
      if (lower[m.index - 1] === '[') continue;
      hits.push({
        kind: k.kind,
        first: tokenAt(m.index, false),
        last: tokenAt(m.index + m[0].length, true),
      });
    }
  }
  return hits;
}

/** Amounts and units right beside a number make it an amount, not a secret. */
function looksLikeQuantity(text: string, tokens: Token[], first: Group, last: Group): boolean {
  const before = text.slice(
    Math.max(0, tokens[first.first]!.start - 2),
    tokens[first.first]!.start,
  );
  if (/\$\s?$/.test(before)) return true;
  const next = tokens[last.last + 1];
  const gap = next ? text.slice(tokens[last.last]!.end, next.start) : '';
  if (/^\s*%/.test(text.slice(tokens[last.last]!.end))) return true;
  return (
    !!next &&
    /^\s*$/.test(gap) &&
    /^(?:dollars?|bucks|cents?|percent|mbps|gbps|gb|kwh|am|pm|days?|months?|hours?|minutes?|years?)$/.test(
      next.text,
    )
  );
}

const SSN_SHAPE = (text: string, tokens: Token[], gs: Group[]): boolean =>
  gs.length === 3 &&
  gs.every((g) => g.numeral) &&
  gs.map((g) => g.digits.length).join() === '3,2,4' &&
  /^[\s-]$/.test(text.slice(tokens[gs[0]!.last]!.end, tokens[gs[1]!.first]!.start)) &&
  /^[\s-]$/.test(text.slice(tokens[gs[1]!.last]!.end, tokens[gs[2]!.first]!.start));

/** 2026-12-05 or 12/05/2026: a written date, never a secret. */
const DATE_SHAPE = (gs: Group[]): boolean =>
  gs.length === 3 &&
  gs.every((g) => g.numeral) &&
  ['4,2,2', '2,2,4', '1,2,4', '2,1,4', '1,1,4'].includes(gs.map((g) => g.digits.length).join());

interface Found {
  kind: RedactionKind;
  first: number; // group index in the run
  last: number;
}

function classify(text: string, tokens: Token[], hits: KeywordHit[], groups: Group[]): Found[] {
  if (!groups.length) return [];
  const digits = groups.map((g) => g.digits).join('');
  const firstTok = groups[0]!.first;
  const lastTok = groups[groups.length - 1]!.last;
  const near = (kind: KeywordHit['kind']): number | undefined => {
    let best: number | undefined;
    for (const h of hits) {
      if (h.kind !== kind) continue;
      const d =
        h.last < firstTok
          ? firstTok - h.last <= WINDOW_BEFORE
            ? firstTok - h.last
            : undefined
          : h.first > lastTok && h.first - lastTok <= WINDOW_AFTER
            ? h.first - lastTok + 0.5 // a keyword before wins a tie
            : undefined;
      if (d !== undefined && (best === undefined || d < best)) best = d;
    }
    return best;
  };
  const whole = (kind: RedactionKind): Found[] => [{ kind, first: 0, last: groups.length - 1 }];

  if (SSN_SHAPE(text, tokens, groups)) return whole('ssn');
  if (DATE_SHAPE(groups)) return [];
  if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) return whole('card');
  // Mis-heard card numbers fail Luhn but are still mostly right: near a card word the
  // whole run goes, however many digits the recognizer wrote (Moonshine wrote 29 for a
  // spoken 16).
  if (digits.length >= 12 && near('card_context') !== undefined) return whole('card');
  // Longer than any card number, and longer than what else callers say (phone, account and
  // reference numbers): a card number heard with digits to spare, wherever it is. The whole
  // run goes — a Luhn-valid window inside it would leave the rest of the number behind.
  if (digits.length > LONGEST_CARD) return whole('card');
  if (digits.length >= 13) {
    // A card number with more digits spoken around it: the longest Luhn-valid window.
    for (let len = Math.min(groups.length, 19); len >= 1; len -= 1) {
      for (let a = 0; a + len <= groups.length; a += 1) {
        const w = groups
          .slice(a, a + len)
          .map((g) => g.digits)
          .join('');
        if (w.length >= 13 && w.length <= 19 && luhnValid(w)) {
          return [
            ...classify(text, tokens, hits, groups.slice(0, a)),
            { kind: 'card', first: a, last: a + len - 1 },
            ...classify(text, tokens, hits, groups.slice(a + len)).map((f) => ({
              ...f,
              first: f.first + a + len,
              last: f.last + a + len,
            })),
          ];
        }
      }
    }
  }
  if (looksLikeQuantity(text, tokens, groups[0]!, groups[groups.length - 1]!)) return [];
  let best: { kind: RedactionKind; d: number } | undefined;
  for (const kind of Object.keys(LENGTHS) as (keyof typeof LENGTHS)[]) {
    if (!LENGTHS[kind](digits.length)) continue;
    const d = near(kind);
    if (d !== undefined && (!best || d < best.d)) best = { kind, d };
  }
  return best ? whole(best.kind) : [];
}

// ---------------------------------------------------------------- public API

export function redact(input: string, options: RedactOptions = {}): Redacted {
  const prefix = options.contextBefore ? `${options.contextBefore}\n` : '';
  const text = prefix + input;
  const tokens = tokenize(text);
  const hits = keywordHits(text, tokens);
  const spans: Redaction[] = [];
  for (const run of digitRuns(text, tokens)) {
    for (const f of classify(text, tokens, hits, run.groups)) {
      const start = tokens[run.groups[f.first]!.first]!.start - prefix.length;
      const end = tokens[run.groups[f.last]!.last]!.end - prefix.length;
      if (end <= 0) continue; // inside the context text
      spans.push({ kind: f.kind, start: Math.max(0, start), end });
    }
  }
  spans.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += input.slice(at, s.start) + PLACEHOLDERS[s.kind];
    at = s.end;
  }
  out += input.slice(at);
  return { text: out, redactions: spans };
}

/** The redacted text only. */
export const redactText = (text: string, options?: RedactOptions): string =>
  redact(text, options).text;

/** True when the text holds something `redact` would remove. */
export const hasSensitive = (text: string): boolean => redact(text).redactions.length > 0;

/**
 * Redacts every string inside a JSON-like value whose fields are not known (activity
 * inputs, answer records). Returns a copy; non-plain objects (Buffers, Dates) pass
 * through. Identifiers in the strings survive (token level); where the fields are known,
 * redact only the free-text ones instead (events: conversation/safety/event-redaction.ts, logs:
 * redactLogFields).
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;

/**
 * Field names that hold identifiers the system wrote: `id`, `callSid`, `workflowId`,
 * `runId`, `taskQueue`, `event_id`, `object_key`, `recordingKey`, `sha256`, … Their values
 * are logged as they are, so ops can search logs by them.
 */
export function isIdentifierKey(key: string): boolean {
  if (/^(?:id|ids|sid|key|hash|digest|uuid|sha\d*|etag|checksum|task_?queue)$/i.test(key))
    return true;
  // camelCase (callSid, workflowId, hostTaskQueue) or snake_case (call_id, object_key).
  return (
    /[a-z0-9](?:Id|Ids|Sid|Key|Hash|Digest|Uuid|Queue)$/.test(key) ||
    /_(?:id|ids|sid|key|hash|digest|uuid|queue)$/i.test(key)
  );
}

/** An error's copy with its message and stack (and its cause's) redacted. */
function redactError(err: Error, path: Set<object>): Error {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
  for (const name of Object.getOwnPropertyNames(err)) {
    const d = Object.getOwnPropertyDescriptor(err, name)!;
    if (name === 'message' || name === 'stack') {
      // Read on the original: Node 24's own `stack` accessor reads nothing on a copy.
      const value: unknown = Reflect.get(err, name);
      Object.defineProperty(copy, name, {
        value: typeof value === 'string' ? redactText(value) : value,
        writable: true,
        enumerable: d.enumerable ?? false,
        configurable: true,
      });
      continue;
    }
    if ('value' in d) d.value = redactLogValue(name, d.value, path);
    Object.defineProperty(copy, name, d);
  }
  return copy;
}

/** `path`: the objects above this one, so a cycle ends instead of recursing forever. */
function redactLogValue(key: string, value: unknown, path: Set<object>): unknown {
  if (typeof value === 'string') return isIdentifierKey(key) ? value : redactText(value);
  if (!value || typeof value !== 'object') return value;
  const plain = isPlainObject(value) || Array.isArray(value) || value instanceof Error;
  if (!plain) return value; // Buffers, Dates, requests: serializers print them, not free text
  if (path.has(value)) return '[Circular]';
  path.add(value);
  try {
    if (value instanceof Error) return redactError(value, path);
    if (Array.isArray(value)) return value.map((v) => redactLogValue(key, v, path));
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redactLogValue(k, v, path)]),
    );
  } finally {
    path.delete(value);
  }
}

/**
 * A log line's structured fields, redacted: free text (messages, utterances, answers,
 * error messages and stacks) is, identifier fields (isIdentifierKey) are not. Returns a
 * copy; an Error becomes a copy of the same class with its text redacted.
 */
export function redactLogFields<T>(value: T): T {
  return redactLogValue('', value, new Set()) as T;
}

/**
 * pino options that redact log lines by content (pino's own `redact` censors fields
 * by path only): `pino({ ...pinoRedaction, level }, dest)`. The merging object goes
 * through `formatters.log`, the message and format arguments through `hooks.logMethod`;
 * identifier fields are kept (redactLogFields), child bindings are the caller's ids.
 */
export const pinoRedaction: Pick<LoggerOptions, 'formatters' | 'hooks'> = {
  formatters: { log: (object) => redactLogFields(object) },
  hooks: {
    logMethod(args, method) {
      // Interpolate first: "pin %s" + "1234" is only a secret once joined.
      const [first, ...rest] = args as unknown[];
      const clean =
        typeof first === 'string'
          ? [redactText(format(first, ...rest))]
          : [redactLogFields(first), ...(rest.length ? [redactText(format(...rest))] : [])];
      method.apply(this, clean as typeof args);
    },
  },
};
