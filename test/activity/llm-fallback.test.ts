// The LLM fallback as configured from the environment: falls through in order under each
// kind of failure — a server that never answers (timeout), OpenAI's recorded 429 (rate
// limit), a real llama-cpp-python server stopped mid-test (connection refused), OpenAI's
// recorded 400, an empty answer — records why, and streams the served provider's text. Once
// something was said, a failure ends the answer instead of switching voices.
import assert from 'node:assert/strict';
import type { ProviderAttempt } from '../../contracts/providers';
import { FallbackExhaustedError } from '../../providers/fallback';
import { FallbackLanguageModel } from '../../providers/llm/fallback';
import { FakeLanguageModel } from '../../providers/llm/fake';
import { languageModelFromEnv, llmLinksFromEnv } from '../../providers/llm/config';
import { composePrompt, warmUpLlmChain } from '../../conversation/answers/prompt';
import type { Prompt } from '../../providers/llm/port';
import type { ScoredChunk } from '../../providers/vectors/port';
import { disposeLocalModels } from '../../providers/llm/llama-local';
import { TemplateLanguageModel } from '../../providers/llm/template';
import {
  ensureLocalModel,
  type OpenAiCompatibleServer,
  startOpenAiCompatibleServer,
} from '../../infra/llm';
import { silentLog } from '../../infra/paths';
import { OpenAiReplayServer, SilentServer } from '../../testing/openai-replay';

const DOCS: ScoredChunk[] = [
  {
    id: 'billing.md#2',
    docId: 'billing.md',
    title: 'Late fees',
    topic: 'billing',
    score: 0.8,
    text: 'A late fee of $10 applies if a bill is unpaid 5 days after the due date.',
  },
];
const PROMPT: Prompt = composePrompt({
  question: 'what is the late fee',
  intent: 'ask_billing',
  documents: DOCS,
  recentTurns: [],
});
const KEY = 'sk-test-switchboard-0123456789';

const summary = (attempts: ProviderAttempt[]) =>
  attempts.map((a) => `${a.provider}:${a.ok ? 'ok' : a.kind}`);

async function drain(answer: AsyncIterable<string>): Promise<string[]> {
  const pieces: string[] = [];
  for await (const p of answer) pieces.push(p);
  return pieces;
}

describe('LLM fallback (LLM_CHAIN)', function () {
  this.timeout(180_000);
  const replay = new OpenAiReplayServer();
  const silent = new SilentServer();
  let modelPath: string;
  let server: OpenAiCompatibleServer;
  let replayUrl: string;
  let silentUrl: string;
  let real: NodeJS.ProcessEnv;

  before(async function () {
    this.timeout(900_000); // a fresh machine builds llama-cpp-python first (≈ 3 min idle)
    modelPath = await ensureLocalModel(silentLog);
    server = await startOpenAiCompatibleServer({ modelPath, log: silentLog });
    replayUrl = await replay.start();
    silentUrl = await silent.start();
    // The secondary is the real llama-cpp-python server unless a test says otherwise.
    real = {
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: replayUrl,
      LLM_SECONDARY_BASE_URL: server.baseUrl,
      LLM_SECONDARY_MODEL: server.model,
      LLM_LOCAL_MODEL_PATH: modelPath,
      LLM_MAX_TOKENS: '24',
      // Generous for a loaded 2-core machine: these tests are about order, not speed.
      LLM_SECONDARY_FIRST_TOKEN_TIMEOUT_MS: '60000',
      LLM_SECONDARY_TIMEOUT_MS: '90000',
      LLM_LOCAL_FIRST_TOKEN_TIMEOUT_MS: '60000',
      LLM_LOCAL_TIMEOUT_MS: '90000',
    };
  });
  beforeEach(() => {
    replay.requests.length = 0;
    replay.reply = 'stream';
  });
  after(async () => {
    await server?.stop();
    await replay.close();
    await silent.close();
    await disposeLocalModels();
  });

  const chain = (env: NodeJS.ProcessEnv) => languageModelFromEnv({ ...real, ...env }, silentLog);

  it('defaults to openai → secondary → local → template, skipping what is not configured', () => {
    const logged: string[] = [];
    const links = llmLinksFromEnv({ LLM_LOCAL_MODEL_PATH: modelPath }, (l) => logged.push(l));
    assert.deepEqual(
      links.map((l) => l.provider),
      ['openai', 'secondary', 'local', 'template'],
    );
    assert.deepEqual(
      links.map((l) => Boolean(l.port)),
      [false, false, true, true],
    );
    assert.deepEqual(logged, [
      'openai skipped: OPENAI_API_KEY is not set',
      'secondary skipped: LLM_SECONDARY_BASE_URL and LLM_SECONDARY_MODEL not set',
    ]);
    assert.equal(links[0]!.firstTokenTimeoutMs, 1500, 'a cloud model gets 1.5 s to start');
    assert.throws(() => llmLinksFromEnv({ LLM_CHAIN: 'openai,gemini' }), /LLM_CHAIN/);
  });

  it('streams the real local server through the OpenAI adapter, recording timings', async () => {
    const answer = chain({
      OPENAI_BASE_URL: server.baseUrl,
      OPENAI_MODEL: server.model,
      LLM_OPENAI_FIRST_TOKEN_TIMEOUT_MS: '60000',
      LLM_OPENAI_TIMEOUT_MS: '90000',
    }).answer(PROMPT);
    const pieces = await drain(answer);
    const r = await answer.result;
    assert.ok(pieces.length > 1, `streamed in ${pieces.length} piece(s)`);
    assert.equal(r.text, pieces.join(''));
    assert.match(r.text, /\p{L}{2,}/u);
    assert.equal(r.servedBy, 'openai');
    assert.equal(r.complete, true);
    assert.deepEqual(summary(r.attempts), ['openai:ok']);
    assert.ok(r.usage && r.usage.inputTokens > 0 && r.usage.outputTokens > 0, JSON.stringify(r));
    const a = r.attempts[0]!;
    assert.ok(a.firstTokenMs !== undefined && a.firstTokenMs <= a.ms, JSON.stringify(a));
  });

  it('falls through on a timeout: a server that accepts and never answers', async () => {
    const r = await chain({
      OPENAI_BASE_URL: silentUrl,
      LLM_OPENAI_FIRST_TOKEN_TIMEOUT_MS: '400',
    }).complete(PROMPT);
    assert.equal(r.servedBy, 'secondary');
    assert.deepEqual(summary(r.attempts), ['openai:timeout', 'secondary:ok']);
    assert.equal(r.attempts[0]!.reason, 'timeout after 400 ms');
    assert.ok(r.attempts[0]!.ms >= 390 && r.attempts[0]!.ms < 1000, `${r.attempts[0]!.ms} ms`);
    assert.match(r.text, /\p{L}/u);
  });

  it('falls through on a rate limit (recorded 429), asking the primary once', async () => {
    replay.reply = 'rate-limited';
    const r = await chain({}).complete(PROMPT);
    assert.equal(r.servedBy, 'secondary');
    assert.deepEqual(summary(r.attempts), ['openai:rate_limited', 'secondary:ok']);
    assert.match(r.attempts[0]!.reason!, /rate_limit_exceeded/);
    assert.equal(replay.requests.length, 1);
  });

  it('falls through on a request another model may take (recorded 400)', async () => {
    replay.reply = 'bad-request';
    const r = await chain({}).complete(PROMPT);
    assert.equal(r.servedBy, 'secondary');
    assert.deepEqual(summary(r.attempts), ['openai:unavailable', 'secondary:ok']);
    assert.match(r.attempts[0]!.reason!, /context_length_exceeded/);
  });

  it('falls through when the secondary server is stopped mid-test (connection refused)', async () => {
    const own = await startOpenAiCompatibleServer({ modelPath, log: silentLog });
    const c = chain({
      LLM_CHAIN: 'secondary,local,template',
      LLM_SECONDARY_BASE_URL: own.baseUrl,
    });
    const before = await c.complete(PROMPT);
    assert.equal(before.servedBy, 'secondary');
    await own.stop();
    const after = await c.complete(PROMPT);
    assert.equal(after.servedBy, 'local');
    assert.deepEqual(summary(after.attempts), ['secondary:unavailable', 'local:ok']);
    assert.match(after.attempts[0]!.reason!, /ECONNREFUSED/);
  });

  it('falls through every failure kind in order to the template', async () => {
    replay.reply = 'rate-limited';
    const r = await chain({
      LLM_SECONDARY_BASE_URL: silentUrl,
      LLM_SECONDARY_FIRST_TOKEN_TIMEOUT_MS: '300',
      LLM_LOCAL_MODEL_PATH: '/nonexistent/model.gguf',
    }).complete(PROMPT);
    assert.equal(r.servedBy, 'template');
    assert.deepEqual(summary(r.attempts), [
      'openai:rate_limited',
      'secondary:timeout',
      'local:unavailable',
      'template:ok',
    ]);
    assert.equal(r.text, DOCS[0]!.text, 'the template reads the best chunk');
  });

  it('falls through on an empty answer', async () => {
    const blank = new FakeLanguageModel({ name: 'blank', pieces: [' ', '\n'] });
    const c = new FallbackLanguageModel([
      { provider: 'blank', firstTokenTimeoutMs: 1000, totalTimeoutMs: 1000, port: blank },
      {
        provider: 'template',
        firstTokenTimeoutMs: 1000,
        totalTimeoutMs: 1000,
        port: new TemplateLanguageModel(),
      },
    ]);
    const r = await c.complete(PROMPT);
    assert.deepEqual(summary(r.attempts), ['blank:empty', 'template:ok']);
    assert.equal(r.text, DOCS[0]!.text, 'no stray whitespace from the blank provider');
  });

  it('once text was said, a later failure ends the answer and is recorded', async () => {
    replay.reply = { fixture: 'stream', stallAfterEvents: 2 }; // role, "The late fee is", …
    const answer = chain({ LLM_OPENAI_TIMEOUT_MS: '600' }).answer(PROMPT);
    const pieces = await drain(answer);
    const r = await answer.result;
    assert.deepEqual(pieces, ['The late fee is']);
    assert.equal(r.servedBy, 'openai');
    assert.equal(r.complete, false);
    assert.deepEqual(summary(r.attempts), ['openai:ok'], 'no other provider speaks over it');
    assert.equal(r.attempts[0]!.kind, 'timeout');
    assert.match(r.attempts[0]!.reason!, /not finished within 600 ms/);
    // Cut off before the usage chunk: billed all the same, so estimated (≈ 4 chars a token).
    const promptChars = PROMPT.messages.reduce((n, m) => n + m.content.length, 0);
    assert.deepEqual(r.usage, {
      inputTokens: Math.ceil(promptChars / 4),
      outputTokens: Math.ceil('The late fee is'.length / 4),
      estimated: true,
    });
  });

  it('records the tokens the serving provider reported (the cost report prices them)', async () => {
    const r = await chain({ LLM_CHAIN: 'openai,template' }).complete(PROMPT);
    assert.equal(r.servedBy, 'openai');
    assert.deepEqual(r.usage, { inputTokens: 412, outputTokens: 19 }); // the recorded usage chunk
    const templated = await chain({ LLM_CHAIN: 'template' }).complete(PROMPT);
    assert.equal(templated.usage, undefined, 'a template bills no tokens');
  });

  it('warms the local model up (loaded, system prompt cached) and then serves from it', async () => {
    const c = chain({ LLM_CHAIN: 'local,template' });
    await warmUpLlmChain(c);
    const r = await c.complete(PROMPT);
    assert.deepEqual(summary(r.attempts), ['local:ok']);
  });

  it('stops at once on the caller’s abort and rethrows its reason', async () => {
    const ac = new AbortController();
    const reason = new Error('barge-in');
    const answer = chain({ LLM_CHAIN: 'local' }).answer(PROMPT, { signal: ac.signal });
    let err: unknown;
    try {
      for await (const piece of answer) {
        void piece;
        ac.abort(reason);
      }
    } catch (e) {
      err = e;
    }
    assert.equal(err, reason);
    const r = await answer.result;
    assert.equal(r.servedBy, 'local');
    assert.equal(r.attempts[0]!.kind, 'aborted');
  });

  it('when nothing serves, the stream throws a FallbackExhaustedError with every attempt', async () => {
    replay.reply = 'server-error';
    const answer = chain({
      LLM_CHAIN: 'openai,local',
      LLM_LOCAL_MODEL_PATH: '/nonexistent/model.gguf',
    }).answer(PROMPT);
    let err: unknown;
    try {
      await drain(answer);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof FallbackExhaustedError, String(err));
    assert.equal(err.retryable, true);
    assert.deepEqual(summary(err.attempts), ['openai:unavailable', 'local:unavailable']);
    const r = await answer.result;
    assert.equal(r.servedBy, undefined);
    assert.equal(r.text, '');
  });
});
