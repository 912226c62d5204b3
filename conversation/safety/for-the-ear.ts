// Replies for the ear: what reads well on a screen sounds wrong on the phone. Keeps
// at most two sentences, speaks amounts, dates and units in words a TTS voice says
// naturally, drops markdown, and uses the caller's name now and then. Pure: the
// same text, name and turn give the same reply (it runs on replayed turns too).
import { spokenAmount, spokenDate } from '../../contracts/spoken';

export interface EarOptions {
  /** The caller's first name, when known. */
  name?: string;
  /** The caller's turn number in the call (1-based); the name is used every `nameEvery` turns. */
  turn?: number;
  /** Use the name on turns where `turn % nameEvery === 0`; default 3. 0 = never. */
  nameEvery?: number;
  /** Names that keep their capital after the caller's name (e.g. the KB's plan names). */
  properNouns?: string[];
  /** Sentences kept; default 2. */
  maxSentences?: number;
}

const UNITS: [RegExp, string][] = [
  [/\s*\/\s*(?:month|mo)\b/gi, ' a month'],
  [/\s*\/\s*(?:year|yr)\b/gi, ' a year'],
  [/\s*\/\s*day\b/gi, ' a day'],
  [/\s*\/\s*kwh\b/gi, ' per kilowatt hour'],
  [/\bper\s+kwh\b/gi, 'per kilowatt hour'],
  [/\bkwh\b/gi, 'kilowatt hours'],
  [/\bmbps\b/gi, 'megabits per second'],
  [/\bgbps\b/gi, 'gigabits per second'],
  [/(\d)\s*gb\b/gi, '$1 gigabytes'],
  [/(\d)\s*mb\b/gi, '$1 megabytes'],
  [/(\d)\s*%/g, '$1 percent'],
  [/(\d)\s*(?:hrs?)\b\.?/gi, '$1 hours'],
  [/(\d)\s*mins?\b\.?/gi, '$1 minutes'],
  [/(\d)\s*ft\b\.?/gi, '$1 feet'],
  [/\be\.g\.,?/gi, 'for example'],
  [/\bi\.e\.,?/gi, 'that is'],
  [/\betc\./gi, 'and so on'],
  [/\bapprox\./gi, 'about'],
  [/\s&\s/g, ' and '],
];

/** "$42.50" → "42 dollars and 50 cents", "$65" → "65 dollars", "$0.14" → "14 cents". */
const speakMoney = (text: string): string =>
  text.replace(
    /\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d)/g,
    (_m, d: string, c?: string) =>
      spokenAmount(Number(d.replace(/,/g, '')) * 100 + (c ? Number(c.padEnd(2, '0')) : 0)),
  );

/** ISO and US dates → "December 5" (the year is dropped: callers know it). */
const speakDates = (text: string): string =>
  text
    .replace(/\b(\d{4}-\d{2}-\d{2})(?:T[\d:.]+Z?)?\b/g, (_m, iso: string) => spokenDate(iso))
    .replace(/\b(\d{1,2})\/(\d{1,2})\/(\d{4})\b/g, (_m, mo: string, d: string, y: string) =>
      spokenDate(`${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}`),
    );

/** Markdown, lists and URLs, said as words or dropped. */
const plainSpeech = (text: string): string =>
  text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\*\*|__|\*|#+\s*/g, '')
    .replace(/^\s*(?:[-•]|\d+\.)\s+/gm, '')
    // A list item or line without an end mark becomes a sentence of its own.
    .replace(/([^\s.!?:;,])[ \t]*\n+/g, '$1.\n')
    .replace(/\s*\(([^)]*)\)/g, ', $1,')
    .replace(/\[([^\]]+)\]\([^)]+\)/g, '$1')
    .replace(/\bhttps?:\/\//g, '')
    .replace(
      /\b([a-z0-9-]+)\.(example|com|org|net)((?:\/[a-z0-9-]+)*)/gi,
      (_m, host, tld, p) => `${host} dot ${tld}${String(p).replace(/\//g, ' slash ')}`,
    )
    .replace(/(\d)\s*[–—-]\s*(\d)/g, '$1 to $2')
    .replace(/(\d\s*(?:am|pm))\s*[–—]\s*/gi, '$1 to ')
    .replace(/\s*[–—]\s*/g, ', ')
    .replace(/\s*\n+\s*/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .replace(/,\s*([.!?,])/g, '$1')
    .trim();

/** Splits after . ! ? followed by a space and a capital or digit (decimals stay whole). */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=["'(]?[A-Z0-9])/)
    .map((s) => s.trim())
    .filter(Boolean);
}

// First words that read naturally after "Ada, " in lower case.
const COMMON_START =
  /^(?:Your|You|The|It|It's|There|There's|That|That's|This|We|Our|Yes|No|Sure|Most|Bills|Plans|Payments|A|An|To|If|Please|Each|Every|All|Any|Paperless|Autopay|Late|Plan|Outages|Planned|Power|Internet|Mobile|Check|Call|Pay|Visit|Stay|Report|Say|Just|Thanks|Sorry|Unfortunately|Great|Here|Right|Good|Okay|Bills|Payment|Downed|Moving|Refunds|Cancellation)\b/;

/**
 * Whether the sentence's first word is an ordinary word (lower-cased after "Ada, ")
 * rather than a name: "Storm outages" yes; "Fiber 500", "Green Choice", "Time of Use" no.
 */
function startsWithCommonWord(sentence: string, properNouns: string[]): boolean {
  if (properNouns.some((n) => sentence.toLowerCase().startsWith(n.toLowerCase()))) return false;
  if (COMMON_START.test(sentence)) return true;
  if (/^I\b/.test(sentence)) return false;
  return /^[A-Z][a-z']*\s+(?!(?:of|and|&)\s+[A-Z])[a-z]/.test(sentence);
}

/** Prefixes the name to the first sentence on the turns it fits. */
function withName(first: string, text: string, opts: EarOptions): string {
  const every = opts.nameEvery ?? 3;
  const { name, turn } = opts;
  if (!name || !turn || every <= 0 || turn % every !== 0) return first;
  if (new RegExp(`\\b${name.replace(/[^A-Za-z' -]/g, '')}\\b`, 'i').test(text)) return first;
  const start = startsWithCommonWord(first, opts.properNouns ?? [])
    ? first[0]!.toLowerCase() + first.slice(1)
    : first;
  return `${name}, ${start}`;
}

export function forTheEar(text: string, opts: EarOptions = {}): string {
  let t = plainSpeech(speakDates(speakMoney(text)));
  for (const [re, to] of UNITS) t = t.replace(re, to);
  const kept = sentences(t.replace(/\s{2,}/g, ' ')).slice(0, opts.maxSentences ?? 2);
  if (!kept.length) return '';
  kept[0] = withName(kept[0]!, t, opts);
  return kept.join(' ');
}
