// One conformance suite for every LanguageModel adapter: the OpenAI adapter against a real
// OpenAI-compatible server (llama-cpp-python serving SmolLM2 on loopback), the in-process
// node-llama-cpp model, the template answer, and the fallback chain (over the in-process
// model alone, and behind a provider that fails). Then the OpenAI adapter's request shape
// and error mapping against OpenAI's recorded wire exchanges.
import assert from 'node:assert/strict';
import { composePrompt } from '../../conversation/answers/prompt';
import type { ProviderErrorKind } from '../../contracts/providers';
import { ProviderError } from '../../providers/provider-error';
import { FakeLanguageModel } from '../../providers/llm/fake';
import { FallbackLanguageModel, type LlmLink } from '../../providers/llm/fallback';
import type { LanguageModel, Prompt } from '../../providers/llm/port';
import type { ScoredChunk } from '../../providers/vectors/port';
import { disposeLocalModels, LlamaLocalLanguageModel } from '../../providers/llm/llama-local';
import { OpenAiLanguageModel } from '../../providers/llm/openai';
import {
  NO_DOCUMENT_ANSWER,
  TemplateLanguageModel,
  templateAnswer,
} from '../../providers/llm/template';
import {
  ensureLocalModel,
  freePort,
  type OpenAiCompatibleServer,
  startOpenAiCompatibleServer,
} from '../../infra/llm';
import { silentLog } from '../../infra/paths';
import { OpenAiReplayServer, SilentServer } from '../../testing/openai-replay';
import { rejection } from '../helpers/rejection';

const DOCS: ScoredChunk[] = [
  {
    id: 'billing.md#2',
    docId: 'billing.md',
    title: 'Late fees and autopay',
    topic: 'billing',
    score: 0.82,
    text:
      'Bills are issued on the 1st of each month and due 21 days later. A late fee of $10 ' +
      'applies if a bill is unpaid 5 days after the due date. Autopay saves $5 a month.',
  },
  {
    id: 'plans.md#1',
    docId: 'plans.md',
    title: 'Internet plans',
    topic: 'plans',
    score: 0.41,
    text: 'Internet: Basic 100 is $40/month, Fiber 500 is $65/month, Gigabit Pro is $90/month.',
  },
];

const prompt = (question: string, documents = DOCS): Prompt =>
  composePrompt({ question, intent: 'ask_billing', documents, recentTurns: [] });

const QUESTION = prompt("what's the late fee?");
/** Invites a long answer, so a token cap shows. */
const LONG = prompt('Describe every internet plan and every billing rule in full detail.');

const words = (t: string) => t.trim().split(/\s+/).filter(Boolean).length;

async function collect(
  model: LanguageModel,
  p: Prompt,
  opts?: Parameters<LanguageModel['stream']>[1],
): Promise<string[]> {
  const pieces: string[] = [];
  for await (const piece of model.stream(p, opts)) pieces.push(piece);
  return pieces;
}

interface Subject {
  name: string;
  /** Generates token by token (several pieces per answer, a cap in tokens applies). */
  generative: boolean;
  setup(): Promise<{
    model: LanguageModel;
    failing?: { model: LanguageModel; kind: ProviderErrorKind };
  }>;
  teardown(): Promise<void>;
}

let server: OpenAiCompatibleServer | undefined;

/** Generous for a loaded 2-core machine: the suite is about the port, not speed. */
const link = (provider: string, port: LanguageModel): LlmLink => ({
  provider,
  port,
  firstTokenTimeoutMs: 60_000,
  totalTimeoutMs: 90_000,
});
const failingFake = () => new FakeLanguageModel({ name: 'down', fail: 'unavailable' });

const SUBJECTS: Subject[] = [
  {
    name: 'openai adapter → llama-cpp-python server (real, loopback)',
    generative: true,
    async setup() {
      const modelPath = await ensureLocalModel(silentLog);
      server = await startOpenAiCompatibleServer({ modelPath, log: silentLog });
      const model = new OpenAiLanguageModel(
        { name: 'secondary', baseUrl: server.baseUrl, model: server.model, apiKeyEnv: 'NO_KEY' },
        {},
      );
      const nobody = `http://127.0.0.1:${await freePort()}/v1`; // connection refused
      return {
        model,
        failing: {
          model: new OpenAiLanguageModel(
            { name: 'secondary', baseUrl: nobody, apiKeyEnv: 'NO_KEY' },
            {},
          ),
          kind: 'unavailable',
        },
      };
    },
    teardown: async () => server?.stop(),
  },
  {
    name: 'llama-local (node-llama-cpp, SmolLM2-135M, one thread)',
    generative: true,
    async setup() {
      const modelPath = await ensureLocalModel(silentLog);
      return {
        model: new LlamaLocalLanguageModel({ modelPath }),
        failing: {
          model: new LlamaLocalLanguageModel({ modelPath: '/nonexistent/model.gguf' }),
          kind: 'unavailable',
        },
      };
    },
    teardown: () => disposeLocalModels(),
  },
  {
    name: 'template (best retrieved chunk)',
    generative: false,
    setup: async () => ({ model: new TemplateLanguageModel() }),
    teardown: async () => undefined,
  },
  {
    name: 'fallback over llama-local',
    generative: true,
    async setup() {
      const modelPath = await ensureLocalModel(silentLog);
      return {
        model: new FallbackLanguageModel([
          link('local', new LlamaLocalLanguageModel({ modelPath })),
        ]),
        failing: {
          model: new FallbackLanguageModel([link('down', failingFake())]),
          kind: 'unavailable',
        },
      };
    },
    teardown: () => disposeLocalModels(),
  },
  {
    name: 'fallback over [a failing fake, llama-local]',
    generative: true,
    async setup() {
      const modelPath = await ensureLocalModel(silentLog);
      const local = new LlamaLocalLanguageModel({ modelPath });
      return {
        model: new FallbackLanguageModel([link('down', failingFake()), link('local', local)]),
        failing: {
          model: new FallbackLanguageModel([
            link('down', failingFake()),
            link('missing', new LlamaLocalLanguageModel({ modelPath: '/nonexistent/model.gguf' })),
          ]),
          kind: 'unavailable',
        },
      };
    },
    teardown: () => disposeLocalModels(),
  },
];

for (const subject of SUBJECTS) {
  describe(`LanguageModel conformance: ${subject.name}`, () => {
    let model: LanguageModel;
    let failing: { model: LanguageModel; kind: ProviderErrorKind } | undefined;

    before(async function () {
      this.timeout(900_000); // a fresh machine builds llama-cpp-python first (≈ 3 min idle)
      ({ model, failing } = await subject.setup());
    });
    after(() => subject.teardown());

    it('streams a non-empty answer', async () => {
      const pieces = await collect(model, QUESTION);
      const text = pieces.join('');
      assert.match(text, /\p{L}{2,}/u, `an answer with words, got ${JSON.stringify(text)}`);
      assert.ok(
        pieces.every((p) => typeof p === 'string' && p.length > 0),
        'no empty pieces',
      );
      if (subject.generative) assert.ok(pieces.length > 1, `${pieces.length} piece(s): streamed`);
    });

    it('respects maxTokens, roughly', async () => {
      const capped = (await collect(model, LONG, { maxTokens: 6 })).join('');
      assert.ok(words(capped) >= 1 && words(capped) <= 8, `6 tokens gave ${words(capped)} words`);
      if (subject.generative) {
        const longer = (await collect(model, LONG, { maxTokens: 40 })).join('');
        assert.ok(words(longer) > words(capped), `40 tokens: ${words(longer)} words`);
      }
    });

    it('rejects with the abort reason when the signal is already aborted', async () => {
      const ac = new AbortController();
      const reason = new Error('caller hung up');
      ac.abort(reason);
      const err = await rejection(collect(model, QUESTION, { signal: ac.signal }));
      assert.equal(err, reason, 'the abort reason itself, not a provider failure');
    });

    it('stops when aborted in flight, with the abort reason', async () => {
      const ac = new AbortController();
      const reason = new Error('barge-in');
      const after: string[] = [];
      const err = await rejection(
        (async () => {
          for await (const piece of model.stream(LONG, { signal: ac.signal, maxTokens: 200 })) {
            if (ac.signal.aborted) after.push(piece);
            else ac.abort(reason); // on the first piece
          }
        })(),
      );
      assert.equal(err, reason);
      assert.ok(after.length <= 2, `${after.length} pieces after the abort`);
    });

    it('maps a failure to a ProviderError of the right kind', async function () {
      if (!failing) return this.skip(); // built from the request alone: nothing to fail
      const err = await rejection(collect(failing.model, QUESTION));
      assert.ok(err instanceof ProviderError, `got ${String(err)}`);
      assert.equal(err.kind, failing.kind, err.message);
    });
  });
}

describe('llama-local specifics', () => {
  after(() => disposeLocalModels());

  it('serves more concurrent calls than it has sequences (they queue)', async () => {
    const modelPath = await ensureLocalModel(silentLog);
    const model = new LlamaLocalLanguageModel({ modelPath, sequences: 2 });
    const answers = await Promise.all(
      [1, 2, 3].map(() => collect(model, QUESTION, { maxTokens: 12 })),
    );
    for (const a of answers) assert.match(a.join(''), /\p{L}/u);
  });

  it('gives the same answer to the same prompt (greedy decoding, cached prefix or not)', async () => {
    const modelPath = await ensureLocalModel(silentLog);
    const model = new LlamaLocalLanguageModel({ modelPath });
    const first = (await collect(model, QUESTION, { maxTokens: 16 })).join('');
    const again = (await collect(model, QUESTION, { maxTokens: 16 })).join('');
    assert.equal(again, first);
  });
});

describe('template answers', () => {
  it('answers with the sentence of the best chunk that matches the question', () => {
    assert.equal(
      templateAnswer('how much is the late fee', DOCS),
      'A late fee of $10 applies if a bill is unpaid 5 days after the due date.',
    );
  });

  it('falls back to the first sentences of the best chunk, and adds a short next one', () => {
    const doc: ScoredChunk = {
      ...DOCS[0]!,
      text: '# Outages\nReport an outage in the app.\nMost outages are fixed within 4 hours.',
    };
    assert.equal(
      templateAnswer('zebra', [doc]),
      'Report an outage in the app. Most outages are fixed within 4 hours.',
    );
  });

  it("never says a chunk's section heading (its first line, with no full stop)", () => {
    const doc: ScoredChunk = {
      ...DOCS[0]!,
      text:
        'If your payment has not shown up yet\n' +
        'If you paid online and the payment has not posted after 1 business day, call us.',
    };
    assert.equal(
      templateAnswer('how long does it take for a payment to post', [doc]),
      'If you paid online and the payment has not posted after 1 business day, call us.',
    );
  });

  it('offers an agent when there is no document', async () => {
    assert.equal(templateAnswer('anything', []), NO_DOCUMENT_ANSWER);
    const text = (await collect(new TemplateLanguageModel(), prompt('anything', []))).join('');
    assert.match(text, /connect you to an agent/);
  });
});

describe('OpenAI adapter on the wire (recorded exchanges)', () => {
  const replay = new OpenAiReplayServer();
  let baseUrl: string;
  const KEY = 'sk-test-switchboard-0123456789';
  const make = (opts: Partial<ConstructorParameters<typeof OpenAiLanguageModel>[0]> = {}) =>
    new OpenAiLanguageModel({ name: 'openai', baseUrl, ...opts }, { OPENAI_API_KEY: KEY });

  before(async () => {
    baseUrl = await replay.start();
  });
  beforeEach(() => {
    replay.requests.length = 0;
    replay.reply = 'stream';
  });
  after(() => replay.close());

  it('posts a streamed chat completion with the bearer key and yields the deltas', async () => {
    const pieces = await collect(make(), QUESTION, { maxTokens: 50 });
    assert.deepEqual(pieces, [
      'The late fee is',
      ' $10',
      ', charged when a bill is unpaid 5 days after the due date.',
    ]);
    assert.equal(replay.requests.length, 1);
    const req = replay.requests[0]!;
    assert.equal(req.path, '/v1/chat/completions');
    assert.equal(req.headers.authorization, `Bearer ${KEY}`);
    const body = JSON.parse(req.body) as Record<string, unknown>;
    assert.equal(body.model, 'gpt-4o');
    assert.equal(body.stream, true);
    assert.equal(body.max_tokens, 50);
    assert.deepEqual(body.messages, QUESTION.messages);
    assert.deepEqual(body.stream_options, { include_usage: true });
  });

  it('reports the usage chunk that ends the stream', async () => {
    const usage: unknown[] = [];
    const pieces = await collect(make(), QUESTION, { onUsage: (u) => usage.push(u) });
    assert.equal(pieces.join(''), 'The late fee is $10, charged when a bill is unpaid 5 days after the due date.'); // prettier-ignore
    assert.deepEqual(usage, [{ inputTokens: 412, outputTokens: 19 }]);
  });

  // A 4xx other than 408/429 is `unavailable`: the next model may take the same prompt.
  const cases: [string, ProviderErrorKind, number, RegExp][] = [
    ['rate-limited', 'rate_limited', 429, /429.*rate_limit_exceeded/],
    ['bad-request', 'unavailable', 400, /400.*context_length_exceeded/],
    ['server-error', 'unavailable', 500, /500/],
    ['unauthorized', 'unavailable', 401, /401.*invalid_api_key/],
  ];
  for (const [fixture, kind, status, message] of cases) {
    it(`maps ${fixture} → ${kind}, asking once (no SDK retries)`, async () => {
      replay.reply = fixture;
      const err = await rejection(collect(make(), QUESTION));
      assert.ok(err instanceof ProviderError, String(err));
      assert.equal(err.kind, kind);
      assert.equal(err.status, status);
      assert.equal(err.provider, 'openai');
      assert.match(err.message, message);
      assert.ok(!err.message.includes(KEY), 'the key never appears in a message');
      assert.equal(replay.requests.length, 1);
    });
  }

  it('maps a server that accepts and never answers → timeout', async () => {
    const silent = new SilentServer();
    const url = await silent.start();
    try {
      const err = await rejection(collect(make({ baseUrl: url, requestTimeoutMs: 300 }), QUESTION));
      assert.ok(err instanceof ProviderError, String(err));
      assert.equal(err.kind, 'timeout');
      assert.equal(silent.connections, 1, 'one connection, no retries');
    } finally {
      await silent.close();
    }
  });

  it('health check: GET /models with the key, and the fallback registers it with its gate', async () => {
    await make().check(AbortSignal.timeout(5_000));
    assert.deepEqual(
      replay.requests.map((r) => [r.method, r.path, r.headers.authorization]),
      [['GET', '/v1/models', `Bearer ${KEY}`]],
    );
    const watched: string[] = [];
    new FallbackLanguageModel(
      [link('openai', make()), link('template', new TemplateLanguageModel())],
      {
        skipReason: () => undefined,
        watch: (provider) => watched.push(provider),
      },
    );
    assert.deepEqual(watched, ['openai'], 'the template has no vendor to check');
  });

  it('health check: a failing server → its ProviderError; one that never answers → the bound', async () => {
    replay.reply = 'server-error';
    const err = await rejection(make().check(AbortSignal.timeout(5_000)));
    assert.ok(err instanceof ProviderError, String(err));
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.status, 500);
    const silent = new SilentServer();
    const url = await silent.start();
    try {
      const bound = new AbortController();
      const reason = new ProviderError('llm:openai', 'timeout', 'health check: no answer');
      setTimeout(() => bound.abort(reason), 200);
      assert.equal(await rejection(make({ baseUrl: url }).check(bound.signal)), reason);
    } finally {
      await silent.close();
    }
  });

  it('needs a key from the environment to reach api.openai.com', () => {
    assert.throws(
      () => new OpenAiLanguageModel({ name: 'openai' }, {}),
      /no API key \(set OPENAI_API_KEY\)/,
    );
  });
});
