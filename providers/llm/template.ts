// The last link of the LLM chain: no model at all. The answer is one or two sentences of the
// best retrieved chunk — the sentence that shares the most words with the question (the
// first one when none does), plus the next one when it is short. Built only from document
// text, so it is grounded by construction; it cannot fail while a document exists.
import { SentenceChunker } from './sentence-chunker';
import type { LanguageModel, Prompt } from './port';
import { chunkHeading, type ScoredChunk } from '../vectors/port';

export const NO_DOCUMENT_ANSWER =
  "I don't have that information in front of me. Let me connect you to an agent.";

const STOPWORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from as is are was were be been it its ' +
    'this that these those i you your my me we our us do does did can could would should will ' +
    'what when where which who how why there here have has had not no so than then just about ' +
    'into out up down any all some get much many'
  ).split(' '),
);

export class TemplateLanguageModel implements LanguageModel {
  readonly name: string;

  constructor(opts: { name?: string } = {}) {
    this.name = opts.name ?? 'template';
  }

  async *stream(
    prompt: Prompt,
    opts: { signal?: AbortSignal; maxTokens?: number } = {},
  ): AsyncIterable<string> {
    opts.signal?.throwIfAborted();
    const words = templateAnswer(prompt.request.question, prompt.request.documents).split(' ');
    // Roughly a token per word: a cap given in tokens is honoured in words.
    const capped =
      opts.maxTokens !== undefined ? words.slice(0, Math.max(1, opts.maxTokens)) : words;
    const text = capped.join(' ');
    const chunker = new SentenceChunker();
    const parts = [...chunker.push(text), ...chunker.flush()];
    for (const [i, part] of parts.entries()) {
      opts.signal?.throwIfAborted();
      yield i === 0 ? part : ` ${part}`;
    }
    opts.signal?.throwIfAborted(); // an abort while the reader held the last piece
  }
}

/** The answer text for a question from its retrieved documents. */
export function templateAnswer(question: string, documents: readonly ScoredChunk[]): string {
  const best = [...documents].sort((a, b) => b.score - a.score)[0];
  if (!best) return NO_DOCUMENT_ANSWER;
  // A chunk may open with its section title ("Late fee."): a title is not an answer.
  const sentences = splitSentences(plainText(chunkHeading(best.text).body)).filter(
    (s) => s.split(' ').length >= 4,
  );
  if (sentences.length === 0) return NO_DOCUMENT_ANSWER;
  const asked = contentWords(question);
  let pick = 0;
  let bestOverlap = 0;
  sentences.forEach((s, i) => {
    const overlap = [...contentWords(s)].filter((w) => asked.has(w)).length;
    if (overlap > bestOverlap) [pick, bestOverlap] = [i, overlap];
  });
  const first = sentences[pick]!;
  const next = sentences[pick + 1];
  const wordCount = (s: string) => s.split(' ').length;
  if (next && wordCount(first) < 12 && wordCount(first) + wordCount(next) <= 40) {
    return `${first} ${next}`;
  }
  return first;
}

/** Markdown to speakable prose: no headings, list markers, emphasis or link targets. */
function plainText(markdown: string): string {
  return markdown
    .split('\n')
    .filter((line) => !/^\s*#/.test(line)) // headings are titles, not answers
    .map((line) => line.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, ''))
    .map((line) => (line.trim() && !/[.!?:]\s*$/.test(line) ? `${line.trim()}.` : line))
    .join('\n')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/[*_`]+/g, '');
}

function splitSentences(text: string): string[] {
  const chunker = new SentenceChunker();
  return [...chunker.push(text), ...chunker.flush()].filter((s) => /\p{L}/u.test(s));
}

function contentWords(text: string): Set<string> {
  return new Set(
    (text.toLowerCase().match(/[\p{L}\p{N}$]+/gu) ?? [])
      .filter((w) => !STOPWORDS.has(w) && w.length > 1)
      .map((w) => w.slice(0, 5)), // a crude stem: "outages" meets "outage"
  );
}
