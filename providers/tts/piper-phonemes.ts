// Text → Piper phoneme ids for the en_US voices: clauses spoken out (amounts, dates and
// numbers as words), IPA from Debian's espeak-ng (the phonemizer Piper itself wraps), ids
// from the voice's phoneme_id_map the way Piper lays them out: BOS, each phoneme followed
// by the pad id, EOS.
import { spawn } from 'node:child_process';
import { NotSpeakableError, spokenWords } from './spoken-words';

/** One piece synthesized on its own: its words and the punctuation that ends it. */
export interface Clause {
  text: string;
  /** ',' ';' ':' '.' '?' '!' — shapes the model's intonation and the pause after it. */
  end: string;
}

/**
 * Clauses at commas, semicolons, colons and sentence ends (punctuation followed by a space
 * or the end, so "$1,234.50" stays whole): the first audio is a clause away, not a sentence.
 */
export function splitClauses(text: string): Clause[] {
  const clauses: Clause[] = [];
  const re = /([^,;:.!?]*(?:[,;:.!?](?!\s|$)[^,;:.!?]*)*)([,;:.!?]+|$)/g;
  for (const m of text.matchAll(re)) {
    const words = forTheEar(m[1]!.trim());
    if (words) clauses.push({ text: words, end: pickEnd(m[2] ?? '') });
    if (m[0] === '') break;
  }
  return clauses;
}

/** "$42.17" → forty two dollars and seventeen cents, "December 5" → december fifth … */
function forTheEar(clause: string): string {
  if (!clause) return '';
  try {
    return spokenWords(clause)
      .filter((t) => /[a-z]/.test(t))
      .join(' ');
  } catch (err) {
    if (!(err instanceof NotSpeakableError)) throw err;
    return clause; // symbols the spelling rules do not know: espeak-ng reads them itself
  }
}

function pickEnd(punct: string): string {
  for (const p of ['?', '!', '.', ';', ':', ',']) if (punct.includes(p)) return p;
  return '.';
}

/** The voice's phoneme table and layout ids (from its .onnx.json). */
export interface PhonemeTable {
  ids: ReadonlyMap<string, number>;
  bos: number;
  eos: number;
  pad: number;
}

export function phonemeTable(map: Record<string, number[]>): PhonemeTable {
  const ids = new Map(Object.entries(map).map(([k, v]) => [k, v[0]!]));
  const idOf = (p: string) => {
    const id = ids.get(p);
    if (id === undefined) throw new Error(`phoneme_id_map has no '${p}'`);
    return id;
  };
  return { ids, bos: idOf('^'), eos: idOf('$'), pad: idOf('_') };
}

/** Ids for one clause: BOS pad, (phoneme pad)…, EOS. Phonemes the voice lacks are dropped. */
export function phonemeIds(ipa: string, table: PhonemeTable): number[] {
  const out = [table.bos, table.pad];
  for (const ch of ipa.normalize('NFD')) {
    const id = table.ids.get(ch);
    if (id === undefined) continue;
    out.push(id, table.pad);
  }
  out.push(table.eos);
  return out;
}

/**
 * IPA for a clause from `espeak-ng -q --ipa` (text on stdin, so nothing said can be read as an
 * option), its end punctuation appended as Piper's phonemizer keeps it. A process per clause:
 * ≈ 10 ms, small beside the model's run, and no state to corrupt between calls.
 */
export function espeakIpa(
  clause: Clause,
  opts: { command: string; voice: string; signal?: AbortSignal },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.command, ['-q', '--ipa', '-v', opts.voice], {
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: opts.signal,
    });
    let out = '';
    let errText = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (errText += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${opts.command} exited ${code}: ${errText.trim()}`));
      const ipa = out
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .join(' ');
      if (!ipa) return reject(new Error(`${opts.command} gave no phonemes`));
      resolve(ipa + clause.end);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(clause.text);
  });
}
