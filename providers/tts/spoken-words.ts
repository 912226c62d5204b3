// Text as the words a voice says, for speech assembled from prerecorded pieces: amounts,
// dates, ordinals and plain numbers are spelled out ("$42.17" → forty two dollars and
// seventeen cents, "2026-12-05" and "December 5" → december fifth), the rest is lower-cased
// words and pauses. Pure. What it cannot spell out is a NotSpeakableError, never a guess.

/** A word (lower case, apostrophes kept), or a pause: ',' short, '.' between sentences. */
export type SpokenToken = string;
export const SHORT_PAUSE = ',';
export const LONG_PAUSE = '.';

/** Why text cannot be spoken from pieces; the message never carries the text itself. */
export class NotSpeakableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotSpeakableError';
  }
}

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES: [number, string][] = [
  [1_000_000, 'million'],
  [1_000, 'thousand'],
];
const ORDINAL_ONES = [
  '',
  'first',
  'second',
  'third',
  'fourth',
  'fifth',
  'sixth',
  'seventh',
  'eighth',
  'ninth',
  'tenth',
  'eleventh',
  'twelfth',
  'thirteenth',
  'fourteenth',
  'fifteenth',
  'sixteenth',
  'seventeenth',
  'eighteenth',
  'nineteenth',
];
export const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
export const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
];

/** The largest whole number said (the pieces hold "million" as the largest scale). */
export const MAX_NUMBER = 999_999_999;
/** Days of the month have ordinal pieces; larger ordinals are not said. */
export const MAX_ORDINAL = 31;

function below1000(n: number): string[] {
  const words: string[] = [];
  if (n >= 100) {
    words.push(ONES[Math.floor(n / 100)]!, 'hundred');
    n %= 100;
    if (n === 0) return words;
  }
  if (n < 20) return [...words, ONES[n]!];
  words.push(TENS[Math.floor(n / 10)]!);
  if (n % 10) words.push(ONES[n % 10]!);
  return words;
}

/** 0 … 999,999,999 as words: 1205 → one thousand two hundred five. */
export function numberWords(n: number): string[] {
  if (!Number.isInteger(n)) throw new NotSpeakableError(`not a whole number`);
  if (n < 0) throw new NotSpeakableError('negative numbers are not said');
  if (n > MAX_NUMBER) throw new NotSpeakableError(`numbers above ${MAX_NUMBER} are not said`);
  if (n === 0) return ['zero'];
  const words: string[] = [];
  for (const [scale, name] of SCALES) {
    if (n >= scale) {
      words.push(...below1000(Math.floor(n / scale)), name);
      n %= scale;
    }
  }
  return n > 0 ? [...words, ...below1000(n)] : words;
}

/** 1 … 31 as an ordinal: 21 → twenty first. */
export function ordinalWords(n: number): string[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ORDINAL) {
    throw new NotSpeakableError(`ordinals are said from 1 to ${MAX_ORDINAL} only`);
  }
  if (n < 20) return [ORDINAL_ONES[n]!];
  if (n % 10 === 0) return [n === 20 ? 'twentieth' : 'thirtieth'];
  return [TENS[Math.floor(n / 10)]!, ORDINAL_ONES[n % 10]!];
}

/** Cents as money: 4217 → forty two dollars and seventeen cents; 5 → five cents. */
export function amountWords(cents: number): string[] {
  if (!Number.isInteger(cents)) throw new NotSpeakableError('an amount in fractions of a cent');
  if (cents < 0) throw new NotSpeakableError('negative amounts are not said');
  const dollars = Math.floor(cents / 100);
  const rest = cents % 100;
  const d = [...numberWords(dollars), dollars === 1 ? 'dollar' : 'dollars'];
  if (rest === 0) return d;
  const c = [...numberWords(rest), rest === 1 ? 'cent' : 'cents'];
  return dollars === 0 ? c : [...d, 'and', ...c];
}

/** A month (1-based) and day: december fifth. */
export function dateWords(month: number, day: number): string[] {
  const name = MONTHS[month - 1];
  if (!name || !Number.isInteger(month)) throw new NotSpeakableError('no such month');
  if (day < 1 || day > 31) throw new NotSpeakableError('no such day of the month');
  return [name, ...ordinalWords(day)];
}

const MONTH_NAME = MONTHS.join('|');
const ORDINAL_SUFFIX = '(?:st|nd|rd|th)';

/** Rewrites, in order; each replaces a match with its words (spaced, so they stay apart). */
const REWRITES: [RegExp, (...groups: string[]) => string[]][] = [
  [
    // A minus sign, not a hyphen inside a date or a range ("2026-12-05", "5-10").
    /(?<![\w$.])-\s?\$?\d/g,
    () => {
      throw new NotSpeakableError('negative numbers are not said');
    },
  ],
  [
    /\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d|[.,]\d)/g,
    (d, c) => amountWords(Number(d.replace(/,/g, '')) * 100 + (c ? Number(c.padEnd(2, '0')) : 0)),
  ],
  [/\b\d{4}-(\d{2})-(\d{2})(?:T[\d:.]+Z?)?\b/g, (mo, d) => dateWords(Number(mo), Number(d))],
  [/\b(\d{1,2})\/(\d{1,2})\/\d{4}\b/g, (mo, d) => dateWords(Number(mo), Number(d))],
  [
    new RegExp(`\\b(${MONTH_NAME})\\s+(\\d{1,2})(?:${ORDINAL_SUFFIX})?\\b`, 'gi'),
    (m, d) => dateWords(MONTHS.indexOf(m.toLowerCase()) + 1, Number(d)),
  ],
  [new RegExp(`\\b(\\d+)${ORDINAL_SUFFIX}\\b`, 'gi'), (n) => ordinalWords(Number(n))],
  [
    /\b(\d{1,3}(?:,\d{3})+|\d+)\.(\d+)\b/g,
    (w, f) => [
      ...numberWords(Number(w.replace(/,/g, ''))),
      'point',
      ...[...f].flatMap((digit) => numberWords(Number(digit))),
    ],
  ],
  [/\b(\d{1,3}(?:,\d{3})+|\d+)\b/g, (n) => numberWords(Number(n.replace(/,/g, '')))],
];

/**
 * The words and pauses of `text`, numbers spelled out. Throws NotSpeakableError for what has
 * no spoken form here: negative numbers, numbers above MAX_NUMBER, impossible dates,
 * ordinals above MAX_ORDINAL, symbols other than punctuation.
 */
export function spokenWords(text: string): SpokenToken[] {
  let t = text.normalize('NFC').replace(/[‘’]/g, "'");
  for (const [re, words] of REWRITES) {
    t = t.replace(
      re,
      (_m, ...groups: unknown[]) => ` ${words(...(groups as string[])).join(' ')} `,
    );
  }
  const tokens: SpokenToken[] = [];
  for (const raw of t.split(/\s+/).filter(Boolean)) {
    const m = /^["'(]*([A-Za-z]+(?:'[A-Za-z]+)*(?:-[A-Za-z]+)*)["')]*([.,;:!?]*)["')]*$/.exec(raw);
    if (!m) {
      if (/^[.,;:!?]+$/.test(raw)) {
        pause(tokens, /[.!?]/.test(raw) ? LONG_PAUSE : SHORT_PAUSE);
        continue;
      }
      throw new NotSpeakableError('text holds symbols that have no spoken form here');
    }
    tokens.push(...m[1]!.toLowerCase().split('-'));
    if (m[2]) pause(tokens, /[.!?]/.test(m[2]) ? LONG_PAUSE : SHORT_PAUSE);
  }
  while (isPause(tokens[tokens.length - 1])) tokens.pop();
  return tokens;
}

export const isPause = (t: SpokenToken | undefined): boolean =>
  t === SHORT_PAUSE || t === LONG_PAUSE;

/** A pause after a word; a longer one replaces a shorter one, none at the start. */
function pause(tokens: SpokenToken[], p: SpokenToken): void {
  const last = tokens[tokens.length - 1];
  if (last === undefined) return;
  if (isPause(last)) {
    if (p === LONG_PAUSE) tokens[tokens.length - 1] = LONG_PAUSE;
    return;
  }
  tokens.push(p);
}
