// Streaming text → whole sentences, each released as soon as it is known to have ended, so
// the first sentence can be synthesized and played while the model is still writing.
//
// A period ends a sentence only when whitespace follows and the next word does not say
// otherwise: "$12.50" and "1.5" have no space after the dot; "Mr." and "e.g." never end
// one; "9 a.m." and "etc." end one only before a capital; an ellipsis only before a capital;
// a lowercase next word means an abbreviation we do not know. Hence one piece of lookahead:
// "…due on the 1st." is released when the next non-space character arrives, or at flush().

/** Abbreviations that never end a sentence (the next word belongs to them). */
const NEVER_FINAL = new Set([
  'mr.',
  'mrs.',
  'ms.',
  'dr.',
  'prof.',
  'sr.',
  'jr.',
  'st.',
  'mt.',
  'e.g.',
  'i.e.',
  'vs.',
  'approx.',
  'no.',
  'tel.',
  'ext.',
  'dept.',
]);
/** Abbreviations that may close a sentence: a capital after them starts a new one. */
const MAYBE_FINAL = new Set(['a.m.', 'p.m.', 'etc.', 'inc.', 'ltd.', 'co.', 'corp.']);
const CLOSERS = new Set(['"', "'", '”', '’', ')', ']']);
const TERMINATORS = new Set(['.', '!', '?', '…']);

const isSpace = (c: string) => /\s/.test(c);
const isUpper = (c: string) => /\p{Lu}/u.test(c);
const isLower = (c: string) => /\p{Ll}/u.test(c);
/** A sentence says something: "1." (a list number) or "$12." alone does not. */
const hasWord = (s: string) => /\p{L}/u.test(s);

export class SentenceChunker {
  private buf = '';
  /** Where scanning resumes: text before it holds no undecided terminator. */
  private scanned = 0;

  /** Adds streamed text; returns the sentences it completed (often none). */
  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    for (;;) {
      const end = this.nextBoundary();
      if (end < 0) break;
      const sentence = tidy(this.buf.slice(0, end));
      this.buf = this.buf.slice(end);
      this.scanned = 0;
      if (sentence) out.push(sentence);
    }
    return out;
  }

  /** The stream ended: whatever is left is the last sentence. */
  flush(): string[] {
    const rest = tidy(this.buf);
    this.buf = '';
    this.scanned = 0;
    return rest ? [rest] : [];
  }

  /**
   * Index just past the first decided sentence end, or -1 when there is none yet. A
   * terminator whose fate depends on text not yet received stops the scan there.
   */
  private nextBoundary(): number {
    const b = this.buf;
    for (let i = this.scanned; i < b.length; i++) {
      const c = b[i]!;
      if (c === '\n') {
        // A line break ends a line of a list or a paragraph, if the line said anything.
        if (hasWord(b.slice(0, i))) return i + 1;
        continue;
      }
      if (!TERMINATORS.has(c)) continue;
      let j = i + 1;
      while (j < b.length && (TERMINATORS.has(b[j]!) || CLOSERS.has(b[j]!))) j++;
      if (j >= b.length) {
        this.scanned = i; // undecided: wait for what follows
        return -1;
      }
      if (!isSpace(b[j]!)) {
        i = j - 1; // "12.50", "a.m" mid-token, "?!" inside a word: not an end
        continue;
      }
      let k = j;
      while (k < b.length && isSpace(b[k]!) && b[k] !== '\n') k++;
      if (k >= b.length) {
        this.scanned = i;
        return -1;
      }
      if (endsSentence(b.slice(0, j), b[k]!) && hasWord(b.slice(0, i))) return j;
      i = j - 1;
    }
    this.scanned = b.length;
    return -1;
  }
}

/** Decides whether `head` (ending in its terminator run) closes a sentence before `next`. */
function endsSentence(head: string, next: string): boolean {
  if (next === '\n') return true;
  const run = /[.!?…"'”’)\]]+$/.exec(head)![0];
  if (run.includes('!') || run.includes('?')) return true;
  if (run.includes('…') || run.includes('...')) return isUpper(next);
  const word = /(\S+)$/
    .exec(head)![1]!
    .toLowerCase()
    .replace(/["'”’)\]]+$/, '');
  const bare = word.replace(/^[("'“‘[]+/, '');
  if (NEVER_FINAL.has(bare)) return false;
  if (MAYBE_FINAL.has(bare)) return isUpper(next);
  // A lowercase word after "approx." or "no." we did not list: not a new sentence.
  return !isLower(next);
}

function tidy(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** The sentences of a whole text. */
export function splitSentences(text: string): string[] {
  const chunker = new SentenceChunker();
  return [...chunker.push(text), ...chunker.flush()];
}

/** Sentences from a stream of text pieces, each yielded as soon as it is complete. */
export async function* sentences(pieces: AsyncIterable<string>): AsyncIterable<string> {
  const chunker = new SentenceChunker();
  for await (const piece of pieces) yield* chunker.push(piece);
  yield* chunker.flush();
}
