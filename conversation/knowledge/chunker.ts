// Markdown → knowledge-base chunks. A chunk never crosses a heading, holds whole paragraphs
// while it can (a paragraph is cut at sentences only when it alone is too long), and gets
// the id `<docId>#<n>` from its position, so re-ingesting an unchanged file yields the
// same ids and an upsert replaces instead of duplicating.
import { parse as parseYaml } from 'yaml';
import type { KbChunk, KbTopic } from '../../providers/vectors/port';

export interface ChunkerOptions {
  /** Upper bound on a chunk's text (characters); ≈ 100 words keeps one fact cluster. */
  maxChars: number;
}

export const DEFAULT_CHUNKER: ChunkerOptions = { maxChars: 700 };

export interface KbDocument {
  /** Path relative to the knowledge-base folder, `/`-separated. */
  docId: string;
  topic: KbTopic;
  /** Raw markdown (or plain text) with optional YAML front-matter. */
  source: string;
}

interface Section {
  heading?: string;
  paragraphs: string[];
}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/;
const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;

/** Splits a document into chunks; the title comes from front-matter, the first `#` heading or the file name. */
export function chunkDocument(doc: KbDocument, opts: ChunkerOptions = DEFAULT_CHUNKER): KbChunk[] {
  if (opts.maxChars < 80) throw new Error(`maxChars must be at least 80, not ${opts.maxChars}`);
  let body = doc.source.replace(/^\uFEFF/, '');
  let title: string | undefined;
  const fm = FRONT_MATTER.exec(body);
  if (fm) {
    const meta: unknown = parseYaml(fm[1]!);
    if (meta && typeof meta === 'object' && 'title' in meta && typeof meta.title === 'string')
      title = meta.title.trim();
    body = body.slice(fm[0].length);
  }
  const sections = splitSections(body);
  // A leading `# Title` names the document rather than a section.
  const first = sections[0];
  if (first?.heading && first.level === 1) {
    title ??= first.heading;
    if (first.heading === title) first.heading = undefined;
  }
  title ??= fileTitle(doc.docId);

  const texts: string[] = [];
  for (const s of sections) {
    const paragraphs = s.paragraphs.flatMap((p) => splitLong(p, opts.maxChars));
    const head = s.heading ? `${s.heading}\n` : '';
    let current: string[] = [];
    const flush = () => {
      if (current.length) texts.push(head + current.join('\n'));
      current = [];
    };
    for (const p of paragraphs) {
      const size = head.length + [...current, p].join('\n').length;
      if (current.length && size > opts.maxChars) flush();
      current.push(p);
    }
    flush();
  }
  return texts.map((text, n) => ({
    id: `${doc.docId}#${n}`,
    docId: doc.docId,
    title,
    topic: doc.topic,
    text,
  }));
}

/** What gets embedded: the title gives a short section its context. */
export function embeddingText(chunk: KbChunk): string {
  return `${chunk.title}. ${chunk.text}`;
}

function splitSections(body: string): (Section & { level?: number })[] {
  const sections: (Section & { level?: number })[] = [];
  let current: Section & { level?: number } = { paragraphs: [] };
  let para: string[] = [];
  let inFence = false;
  const endParagraph = () => {
    const text = cleanInline(para.join(' '));
    if (text) current.paragraphs.push(text);
    para = [];
  };
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('```')) {
      inFence = !inFence;
      continue;
    }
    const h = inFence ? null : HEADING.exec(line);
    if (h) {
      endParagraph();
      if (current.heading || current.paragraphs.length) sections.push(current);
      current = { heading: cleanInline(h[2]!), level: h[1]!.length, paragraphs: [] };
    } else if (!line) {
      endParagraph();
    } else if (/^([-*+]|\d+[.)])\s+/.test(line)) {
      // A list item is its own line inside the paragraph that holds the list.
      endParagraph();
      para.push(line.replace(/^([-*+]|\d+[.)])\s+/, '- '));
      endParagraph();
    } else {
      para.push(line);
    }
  }
  endParagraph();
  if (current.heading || current.paragraphs.length) sections.push(current);
  return mergeLists(sections);
}

/** Consecutive list items and the sentence that introduces them stay one paragraph. */
function mergeLists<T extends Section>(sections: T[]): T[] {
  for (const s of sections) {
    const merged: string[] = [];
    for (const p of s.paragraphs) {
      const last = merged.length - 1;
      if (p.startsWith('- ') && last >= 0) merged[last] = `${merged[last]}\n${p}`;
      else merged.push(p);
    }
    s.paragraphs = merged;
  }
  return sections;
}

/** Markdown emphasis, code and links → plain words (the text is read aloud and embedded). */
function cleanInline(s: string): string {
  return s
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^\w*])[*_]([^*_\s][^*_]*?)[*_](?=[^\w*]|$)/g, '$1$2')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A paragraph longer than the bound is cut at sentence ends (or, failing that, at spaces). */
function splitLong(p: string, maxChars: number): string[] {
  if (p.length <= maxChars) return [p];
  const sentences = p.match(/[^.!?]+(?:[.!?]+["')\]]*|$)\s*/g) ?? [p];
  const out: string[] = [];
  let cur = '';
  for (const raw of sentences) {
    for (const piece of hardWrap(raw.trim(), maxChars)) {
      if (cur && cur.length + 1 + piece.length > maxChars) {
        out.push(cur);
        cur = piece;
      } else cur = cur ? `${cur} ${piece}` : piece;
    }
  }
  if (cur) out.push(cur);
  return out;
}

function hardWrap(s: string, maxChars: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (rest.length > maxChars) {
    const cut = rest.lastIndexOf(' ', maxChars);
    const at = cut > 0 ? cut : maxChars;
    out.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) out.push(rest);
  return out;
}

function fileTitle(docId: string): string {
  const base = docId
    .split('/')
    .pop()!
    .replace(/\.[^.]+$/, '');
  const words = base.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
