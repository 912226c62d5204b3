// The grounding check before an answer sentence is spoken: every number (amounts,
// percentages, speeds, durations), date and plan name in it must appear in the
// retrieved documents or the CRM facts, else the sentence is refused. A small model
// invents figures fluently; this catches the invented ones without another model.
//
// Forms are normalised before comparing: "$65" = "65 dollars" = "sixty-five dollars";
// "March 7" = "2026-03-07" = "the seventh of March"; "20%" = "twenty percent".

export const NOT_CONFIDENT = 'I am not confident in that answer. Let me connect you to an agent.';

export interface GroundingSources {
  /** Retrieved document texts. */
  documents: string[];
  /** CRM facts as plain text ("balance $42.50", "due 2026-12-05", "plan Fiber 500"). */
  facts: string[];
  /** Known plan names (e.g. from the knowledge base); added to those found in documents. */
  planNames?: string[];
}

export interface GroundingResult {
  ok: boolean;
  /** The claims in the sentence that no source supports, as written in the sentence. */
  unsupported: string[];
}

/** One checkable statement in a text: a normalised key and the words it came from. */
export interface Claim {
  key: string;
  text: string;
}

// ---------------------------------------------------------------- number words

const UNIT_WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS_WORDS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const ORDINAL_WORDS: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
  thirteenth: 13,
  fourteenth: 14,
  fifteenth: 15,
  sixteenth: 16,
  seventeenth: 17,
  eighteenth: 18,
  nineteenth: 19,
  twentieth: 20,
  thirtieth: 30,
};

const MONTHS = [
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
const MONTH_RE =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const monthIndex = (name: string): number =>
  MONTHS.findIndex((m) => m.startsWith(name.toLowerCase().slice(0, 3))) + 1;
const isMonth = (word: string): boolean => new RegExp(`^${MONTH_RE}$`, 'i').test(word);

/** Words after which a lone "one" is a quantity ("one business day"), not a pronoun. */
const UNIT_AFTER =
  /^(?:business|day|days|week|weeks|month|months|year|years|hour|hours|minute|minutes|dollar|dollars|cent|cents|percent|gb|gbps|mbps|gigabit|megabit|foot|feet|time|times)$/i;

/**
 * Number words → numerals: "sixty-five" → "65", "one hundred fifty" → "150",
 * "twenty-first of" / "March seventh" → "21" / "March 7". A lone "one" stays a word
 * unless a unit follows ("one business day" → "1 business day").
 */
export function numeralize(text: string): string {
  const words = Array.from(text.matchAll(/[A-Za-z]+/g));
  let out = '';
  let at = 0;
  for (let i = 0; i < words.length;) {
    const parsed = parseNumberWords(text, words, i);
    if (!parsed) {
      i += 1;
      continue;
    }
    const { value, next, ordinal } = parsed;
    const first = words[i]!;
    const last = words[next - 1]!;
    const after = words[next]?.[0] ?? '';
    const before = words[i - 1]?.[0] ?? '';
    const lone = next === i + 1;
    const keep =
      (lone && first[0].toLowerCase() === 'one' && !UNIT_AFTER.test(after)) ||
      (ordinal && !(/^of$/i.test(after) || new RegExp(`^${MONTH_RE}$`, 'i').test(before)));
    if (!keep) {
      out += text.slice(at, first.index) + String(value);
      at = last.index + last[0].length;
    }
    i = next;
  }
  return out + text.slice(at);
}

function parseNumberWords(
  text: string,
  words: RegExpMatchArray[],
  i: number,
): { value: number; next: number; ordinal: boolean } | undefined {
  let total = 0;
  let current = 0;
  let j = i;
  let seen = false;
  let ordinal = false;
  let lastKind: 'unit' | 'tens' | 'hundred' | 'thousand' | undefined;
  const joined = (k: number) => {
    // Number words of one number are separated by a space or a hyphen only.
    const prev = words[k - 1];
    const w = words[k];
    if (!prev || !w) return false;
    return /^[\s-]$/.test(text.slice(prev.index! + prev[0].length, w.index));
  };
  while (j < words.length && !ordinal) {
    if (seen && !joined(j)) break;
    const w = words[j]![0].toLowerCase();
    if (w === 'and' && seen && lastKind === 'hundred' && words[j + 1]) {
      const n = words[j + 1]![0].toLowerCase();
      if (n in UNIT_WORDS || n in TENS_WORDS) {
        j += 1;
        continue;
      }
      break;
    }
    if (w in UNIT_WORDS && lastKind !== 'unit') {
      if (lastKind === 'tens' && UNIT_WORDS[w]! >= 10) break;
      current += UNIT_WORDS[w]!;
      lastKind = 'unit';
    } else if (w in TENS_WORDS && lastKind !== 'unit' && lastKind !== 'tens') {
      current += TENS_WORDS[w]!;
      lastKind = 'tens';
    } else if (w in ORDINAL_WORDS && lastKind !== 'unit') {
      if (lastKind === 'tens' && ORDINAL_WORDS[w]! >= 10) break;
      current += ORDINAL_WORDS[w]!;
      ordinal = true;
    } else if (w === 'hundred' && (seen || lastKind === undefined) && lastKind !== 'hundred') {
      current = (current || 1) * 100;
      lastKind = 'hundred';
    } else if (w === 'thousand' && seen) {
      total += current * 1000;
      current = 0;
      lastKind = 'thousand';
    } else break;
    seen = true;
    j += 1;
  }
  if (!seen || (j === i + 1 && /^(?:hundred|thousand)$/i.test(words[i]![0]))) return undefined;
  return { value: total + current, next: j, ordinal };
}

// ---------------------------------------------------------------- claims

const STOP_CAPS = new Set(
  'the our your a an this that these those my it its call dial press pay about within up in on at by over under only just yes no if you we i for and or but please also then so with from to when is are was'.split(
    ' ',
  ),
);
const PLAN_WORD = /^(?:plans?|packages?|tiers?|bundles?|rates?|options?)$/i;
/** Words that make a capitalised phrase look like a product name. */
const GENERIC_PLAN_VOCAB = [
  'basic',
  'fiber',
  'gigabit',
  'unlimited',
  'essential',
  'plus',
  'pro',
  'premium',
  'ultra',
  'max',
  'lite',
  'saver',
  'choice',
  'gold',
  'silver',
  'platinum',
  'family',
  'starter',
  'standard',
  'advantage',
  'elite',
];

const cents = (amount: string): number => Math.round(Number(amount.replace(/,/g, '')) * 100);
const num = (n: string): string => String(Number(n.replace(/,/g, '')));
const pad = (n: number): string => String(n).padStart(2, '0');

/** Replaces [start,end) with spaces so later passes do not count it again. */
const mask = (s: string, start: number, end: number): string =>
  s.slice(0, start) + ' '.repeat(end - start) + s.slice(end);

/**
 * The checkable claims in a text. `planNames` are recognised as whole names (their
 * digits are not checked again); `planVocab` words make other capitalised phrases
 * plan-looking.
 */
export function extractClaims(
  text: string,
  plans: { planNames?: string[]; planVocab?: string[] } = {},
): Claim[] {
  const claims: Claim[] = [];
  let s = numeralize(text);
  const add = (key: string, m: RegExpExecArray | RegExpMatchArray) => {
    claims.push({ key, text: m[0].trim() });
    s = mask(s, m.index!, m.index! + m[0].length);
  };
  const each = (re: RegExp, f: (m: RegExpExecArray) => void) => {
    for (const m of Array.from(s.matchAll(re))) {
      // An earlier match of this pass may have masked this one.
      if (s.slice(m.index, m.index + m[0].length) !== m[0]) continue;
      f(m);
    }
  };

  // Plan names: known ones first, then plan-looking capitalised phrases.
  for (const name of [...(plans.planNames ?? [])].sort((a, b) => b.length - a.length)) {
    each(new RegExp(`\\b${escapeRe(name)}\\b`, 'gi'), (m) => add(`plan:${norm(name)}`, m));
  }
  const vocab = new Set([...GENERIC_PLAN_VOCAB, ...(plans.planVocab ?? [])]);
  each(/\b([A-Z][A-Za-z]*(?:(?:\s+&)?\s+[A-Z][A-Za-z]*)*)(?:\s+(\d+))?\b/g, (m) => {
    let phrase = m[1]!;
    const words = phrase.split(/\s+/);
    while (words.length && STOP_CAPS.has(words[0]!.toLowerCase())) words.shift();
    if (!words.length) return;
    phrase = words.join(' ');
    const after = s.slice(m.index + m[0].length).match(/^\s+([A-Za-z]+)/)?.[1] ?? '';
    const withNumber = m[2] !== undefined;
    const planLike =
      withNumber ||
      (PLAN_WORD.test(after) && !PLAN_WORD.test(words[words.length - 1]!)) ||
      (words.length >= 2 && words.some((w) => vocab.has(w.toLowerCase()))) ||
      phrase.includes('&');
    if (!planLike || (withNumber && isMonth(words[words.length - 1]!))) return;
    const full = withNumber ? `${phrase} ${m[2]}` : phrase;
    // Skip the stop words dropped from the front: they stay unmasked.
    const dropped = m[1]!.split(/\s+/).length - words.length;
    let offset = 0;
    for (let k = 0; k < dropped; k += 1) offset = m[0].indexOf(' ', offset) + 1;
    offset = m[0].indexOf(words[0]!, offset);
    claims.push({ key: `plan:${norm(full)}`, text: full });
    s = mask(s, m.index + offset, m.index + m[0].length);
  });

  // Phone numbers: the digits as one claim.
  each(/(?:\+?1[\s.-]?)?\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b|\+\d{10,15}\b/g, (m) =>
    add(`phone:${m[0].replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '')}`, m),
  );

  // Dates.
  each(/\b(\d{4})-(\d{2})-(\d{2})\b/g, (m) => {
    add(`date:${m[2]}-${m[3]}`, m);
    claims.push({ key: `year:${m[1]}`, text: m[0] });
  });
  each(/\b(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})\b/g, (m) => {
    add(`date:${pad(Number(m[1]))}-${pad(Number(m[2]))}`, m);
    claims.push({ key: `year:${m[3]!.length === 2 ? `20${m[3]}` : m[3]}`, text: m[0] });
  });
  each(
    new RegExp(
      `\\b${MONTH_RE}\\.?\\s+(?:the\\s+)?(\\d{1,2})(?:st|nd|rd|th)?\\b(?:,?\\s+(\\d{4}))?`,
      'gi',
    ),
    (m) => {
      add(`date:${pad(monthIndex(m[1]!))}-${pad(Number(m[2]))}`, m);
      if (m[3]) claims.push({ key: `year:${m[3]}`, text: m[0] });
    },
  );
  each(
    new RegExp(
      `\\b(?:the\\s+)?(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH_RE}\\b(?:,?\\s+(\\d{4}))?`,
      'gi',
    ),
    (m) => {
      add(`date:${pad(monthIndex(m[2]!))}-${pad(Number(m[1]))}`, m);
      if (m[3]) claims.push({ key: `year:${m[3]}`, text: m[0] });
    },
  );

  // Money: "$42.50", "42 dollars and 50 cents", "14 cents", "$0.14".
  const AMOUNT = '(\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.(\\d{1,2}))?';
  each(new RegExp(`\\$\\s?${AMOUNT}`, 'g'), (m) =>
    add(`money:${cents(`${m[1]}.${m[2] ?? '0'}`)}`, m),
  );
  each(
    new RegExp(
      `\\b${AMOUNT}\\s*(?:dollars?|bucks|usd)\\b(?:,?\\s*(?:and\\s+)?(\\d{1,2})\\s*cents?\\b)?`,
      'gi',
    ),
    (m) => add(`money:${cents(`${m[1]}.${m[2] ?? '0'}`) + (m[3] ? Number(m[3]) : 0)}`, m),
  );
  each(/\b(\d+(?:\.\d+)?)\s*(?:cents?\b|¢)/gi, (m) => add(`money:${Math.round(Number(m[1]))}`, m));

  // Percentages.
  each(/\b(\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)/gi, (m) => add(`pct:${num(m[1]!)}`, m));

  // Every other number: speeds, durations, distances, counts, times of day.
  each(/\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?/g, (m) => add(`num:${num(m[0])}`, m));
  return claims;
}

const norm = (s: string): string => s.toLowerCase().replace(/\s+/g, ' ').trim();
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Plan names stated in documents: quoted names ("Fiber 500") and capitalised names
 * followed by a number or by "plan".
 */
export function extractPlanNames(documents: string[]): string[] {
  const names = new Set<string>();
  for (const doc of documents) {
    for (const m of doc.matchAll(/["“]([A-Z][^"”\n]{1,40})["”]/g)) names.add(m[1]!.trim());
    for (const m of doc.matchAll(
      /\b([A-Z][A-Za-z]*(?:\s+(?:&\s+)?[A-Z][A-Za-z]*)*)(?:\s+(\d+)|(?=\s+plan\b))/g,
    )) {
      const words = m[1]!.split(/\s+/).filter((w) => !STOP_CAPS.has(w.toLowerCase()));
      if (!words.length || isMonth(words[words.length - 1]!)) continue;
      names.add(m[2] ? `${words.join(' ')} ${m[2]}` : words.join(' '));
    }
  }
  return [...names];
}

/** The sources' supported claim keys, built once and reused for every sentence of an answer. */
export class GroundingIndex {
  private readonly keys = new Set<string>();
  private readonly planNames: string[];
  private readonly planVocab: string[];
  private readonly corpus: string;

  constructor(sources: GroundingSources) {
    const texts = [...sources.documents, ...sources.facts];
    this.planNames = [...new Set([...(sources.planNames ?? []), ...extractPlanNames(texts)])];
    this.planVocab = [
      ...new Set(this.planNames.flatMap((n) => n.toLowerCase().split(/\s+/))),
    ].filter((w) => /^[a-z]{3,}$/.test(w));
    this.corpus = norm(texts.join('\n'));
    // Real plan names are grounded as names; their prices still need a source.
    for (const name of this.planNames) this.keys.add(`plan:${norm(name)}`);
    for (const text of texts) {
      for (const c of extractClaims(text, { planNames: this.planNames })) {
        this.keys.add(c.key);
        // A figure supports the same bare number: "$65" lets "65 a month" through.
        const [kind, value] = c.key.split(':') as [string, string];
        if (kind === 'money') this.keys.add(`num:${Number(value) / 100}`);
        if (kind === 'money' || kind === 'pct') this.keys.add(`num:${value}`);
        if (kind === 'date') {
          const [mm, dd] = value.split('-');
          this.keys.add(`num:${Number(dd)}`);
          this.keys.add(`num:${Number(mm)}`);
        }
        if (kind === 'year') this.keys.add(`num:${value}`);
        if (kind === 'num') this.keys.add(`year:${value}`);
      }
    }
  }

  check(sentence: string): GroundingResult {
    const unsupported: string[] = [];
    for (const c of extractClaims(sentence, {
      planNames: this.planNames,
      planVocab: this.planVocab,
    })) {
      if (this.supports(c)) continue;
      if (!unsupported.includes(c.text)) unsupported.push(c.text);
    }
    return { ok: unsupported.length === 0, unsupported };
  }

  private supports(c: Claim): boolean {
    if (this.keys.has(c.key)) return true;
    // A plan-looking phrase said word for word in a source is not invented.
    if (c.key.startsWith('plan:'))
      return new RegExp(`(?:^|[^a-z0-9])${escapeRe(c.key.slice(5))}(?:$|[^a-z0-9])`).test(
        this.corpus,
      );
    return false;
  }
}

export function checkGrounding(sentence: string, sources: GroundingSources): GroundingResult {
  return new GroundingIndex(sources).check(sentence);
}
