import assert from 'node:assert/strict';
import { chunkDocument, embeddingText } from '../../conversation/knowledge/chunker';

const doc = (source: string, docId = 'billing/pay.md') => ({
  docId,
  topic: 'billing' as const,
  source,
});

describe('knowledge-base chunker', () => {
  const article = [
    '---',
    'title: Ways to pay',
    '---',
    '# Ways to pay',
    '',
    'Intro paragraph about **paying** your bill, see [the app](https://x.example).',
    '',
    '## Cards',
    '',
    'We accept:',
    '- Visa',
    '- Mastercard',
    '',
    '## By mail',
    '',
    'A check posts within 7 days.',
  ].join('\n');

  it('gives one chunk per section with ids <docId>#<n>, the title and the topic', () => {
    const chunks = chunkDocument(doc(article));
    assert.deepEqual(
      chunks.map((c) => c.id),
      ['billing/pay.md#0', 'billing/pay.md#1', 'billing/pay.md#2'],
    );
    assert.ok(chunks.every((c) => c.title === 'Ways to pay' && c.topic === 'billing'));
    assert.equal(chunks[0]!.text, 'Intro paragraph about paying your bill, see the app.');
    assert.equal(chunks[1]!.text, 'Cards\nWe accept:\n- Visa\n- Mastercard');
    assert.equal(chunks[2]!.text, 'By mail\nA check posts within 7 days.');
    assert.equal(embeddingText(chunks[2]!), 'Ways to pay. By mail\nA check posts within 7 days.');
  });

  it('is deterministic: the same file gives the same chunks', () => {
    assert.deepEqual(chunkDocument(doc(article)), chunkDocument(doc(article)));
  });

  it('takes the title from the first heading, else from the file name', () => {
    assert.equal(chunkDocument(doc('# Late fees\n\nText.'))[0]!.title, 'Late fees');
    assert.equal(chunkDocument(doc('Just text.', 'plans/power-rates.md'))[0]!.title, 'Power rates');
  });

  it('bounds chunk size: paragraphs are packed, a long one is cut at sentences', () => {
    const sentence = 'Payments by phone post within 1 business day. ';
    const long = `## Posting\n\n${sentence.repeat(40)}\n\nShort closing paragraph.`;
    const chunks = chunkDocument(doc(long), { maxChars: 300 });
    assert.ok(chunks.length > 3, `${chunks.length} chunks`);
    for (const c of chunks) {
      assert.ok(c.text.length <= 300, `${c.id} has ${c.text.length} chars`);
      assert.ok(c.text.startsWith('Posting\n'), 'every piece keeps its section heading');
      assert.match(c.text, /(day\.|paragraph\.)$/, 'cut at a sentence end');
    }
    const words = (s: string) =>
      s
        .replace(/^Posting\n/, '')
        .split(/\s+/)
        .filter(Boolean);
    assert.equal(chunks.flatMap((c) => words(c.text)).length, words(long.replace('## Posting', '')).length - 0); // prettier-ignore
  });

  it('keeps a heading without text out of the chunks and ignores fenced code markers', () => {
    const chunks = chunkDocument(doc('# T\n\n## Empty\n\n## Full\n\n```\n# not a heading\n```\n'));
    assert.deepEqual(
      chunks.map((c) => c.text),
      ['Full\n# not a heading'],
    );
  });
});
