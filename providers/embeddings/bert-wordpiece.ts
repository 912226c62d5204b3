// BERT uncased WordPiece tokenization (what all-MiniLM-L6-v2 was trained with), read from a
// Hugging Face tokenizer.json: normalize (clean, lowercase, strip accents), split on
// whitespace and punctuation, then greedy longest-match sub-words with a "##" prefix.
// Small enough to own; it saves a tokenizer dependency for one fixed, well-known scheme.
import fs from 'node:fs';

interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; max_input_chars_per_word?: number };
}

export interface Encoding {
  ids: number[];
}

export class BertWordPiece {
  private readonly vocab: Map<string, number>;
  private readonly maxCharsPerWord: number;
  readonly cls: number;
  readonly sep: number;
  readonly unk: number;

  constructor(
    json: TokenizerJson,
    /** Tokens per sequence including [CLS] and [SEP]; longer input is cut. */
    private readonly maxLength = 128,
  ) {
    if (json.model.type !== 'WordPiece')
      throw new Error(`expected a WordPiece tokenizer, got ${json.model.type}`);
    this.vocab = new Map(Object.entries(json.model.vocab));
    this.maxCharsPerWord = json.model.max_input_chars_per_word ?? 100;
    this.cls = this.id('[CLS]');
    this.sep = this.id('[SEP]');
    this.unk = this.id('[UNK]');
  }

  static fromFile(file: string, maxLength?: number): BertWordPiece {
    return new BertWordPiece(JSON.parse(fs.readFileSync(file, 'utf8')) as TokenizerJson, maxLength);
  }

  private id(token: string): number {
    const id = this.vocab.get(token);
    if (id === undefined) throw new Error(`tokenizer vocabulary lacks ${token}`);
    return id;
  }

  /** [CLS] tokens… [SEP], cut to maxLength. */
  encode(text: string): Encoding {
    const ids: number[] = [this.cls];
    for (const word of preTokenize(normalize(text))) {
      for (const id of this.wordPiece(word)) {
        if (ids.length >= this.maxLength - 1) break;
        ids.push(id);
      }
    }
    ids.push(this.sep);
    return { ids };
  }

  private wordPiece(word: string): number[] {
    const chars = Array.from(word);
    if (chars.length > this.maxCharsPerWord) return [this.unk];
    const out: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        found = this.vocab.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unk]; // BERT: an unsplittable word is one [UNK]
      out.push(found);
      start = end;
    }
    return out;
  }
}

/** BertNormalizer: drop control chars, whitespace to spaces, space out CJK, lowercase, strip accents. */
function normalize(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || (isControl(ch) && !/\s/.test(ch))) continue;
    if (/\s/.test(ch)) out += ' ';
    else if (isCjk(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '');
}

/**
 * BertPreTokenizer: split on whitespace; every punctuation character (Unicode P*, plus all
 * ASCII symbols such as $ and +) is its own token.
 */
function preTokenize(text: string): string[] {
  return text.match(/[^\s\p{P}!-/:-@[-`{-~]+|[\p{P}!-/:-@[-`{-~]/gu) ?? [];
}

const isControl = (ch: string) => /\p{Cc}|\p{Cf}/u.test(ch);

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}
