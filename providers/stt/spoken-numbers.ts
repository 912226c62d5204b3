// Moonshine and Whisper write what they hear the way a captioner would: "$42.50", "4792",
// "25%", "twenty-five". The rest of the system reads transcripts as spoken words (the intent model
// is trained on them, the grammar engine and the corpus speak them), and the redactor reads
// both forms but counts digits: so numerals are spelled out as a caller says them.
//
// - Amounts ($42.50) become "forty two dollars and fifty cents".
// - Runs of four or more digits, and any run with a leading zero, are codes — card,
//   account and PIN digits — said one digit at a time: "4792" → "four seven nine two".
//   The engines sometimes write more or fewer digits than were said; spelling them keeps
//   each one, so the redactor still sees the whole run.
// - Shorter numbers are quantities said as numbers: "24" → "twenty four", "500" → "five
//   hundred"; decimals say "point"; "%" says "percent".
// The text is lower-cased with punctuation dropped (apostrophes kept), the form the local
// grammar engine gives.

import { MAX_NUMBER, numberWords } from '../tts/spoken-words';

/** A whole number up to 999 999 999 as words (as the pieces say it); larger ones digit by digit. */
export function cardinal(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_NUMBER) return digitByDigit(String(n));
  return numberWords(n).join(' ');
}

export function digitByDigit(digits: string): string {
  return Array.from(digits.replace(/\D/g, ''), (d) => numberWords(Number(d))[0]).join(' ');
}

/** A number as said: codes digit by digit, quantities as numbers. */
function spokenNumber(raw: string): string {
  const [whole = '', fraction] = raw.split('.');
  const plain = whole.replace(/,/g, '');
  // A thousands separator says it is a quantity ("1,200"), never a code.
  const code = !whole.includes(',') && (plain.length >= 4 || /^0\d/.test(plain));
  const said = code ? digitByDigit(plain) : cardinal(Number(plain));
  return fraction ? `${said} point ${digitByDigit(fraction)}` : said;
}

function amount(dollars: string, cents: string | undefined): string {
  const d = cardinal(Number(dollars.replace(/,/g, '')));
  const c = cents ? Number(cents.padEnd(2, '0')) : 0;
  const unit = dollars === '1' ? 'dollar' : 'dollars';
  if (!c) return `${d} ${unit}`;
  return `${d} ${unit} and ${cardinal(c)} ${c === 1 ? 'cent' : 'cents'}`;
}

/** Moonshine's text in the spoken form the transcript's readers expect. */
export function spokenForm(text: string): string {
  return text
    .replace(
      /\$\s?(\d[\d,]*)(?:\.(\d{1,2}))?\b/g,
      (_, d: string, c?: string) => ` ${amount(d, c)} `,
    )
    .replace(/(\d)\s?%/g, '$1 percent')
    .replace(/\d[\d,]*(?:\.\d+)?/g, (m) => {
      const trimmed = m.replace(/,+$/, ''); // a comma after a number is punctuation
      return ` ${spokenNumber(trimmed)} ${m.slice(trimmed.length)}`;
    })
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/[^\p{L}' ]+/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}
