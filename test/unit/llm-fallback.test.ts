// The LLM fallback's own rules over fakes: skipped links (with the "skipped" reason old
// histories are read by), the first-token and total timeouts, handing over only while
// nothing was said, the abort, the gate, usage, and the port's stream.
import assert from 'node:assert/strict';
import type { ProviderAttempt } from '../../contracts/providers';
import { FallbackExhaustedError, type FallbackGate } from '../../providers/fallback';
import { FakeLanguageModel } from '../../providers/llm/fake';
import { FallbackLanguageModel, type LlmLink } from '../../providers/llm/fallback';
import type { LanguageModel, Prompt } from '../../providers/llm/port';

const PROMPT: Prompt = {
  messages: [{ role: 'user', content: 'what is the late fee' }],
  request: {
    question: 'what is the late fee',
    intent: 'ask_billing',
    documents: [],
    recentTurns: [],
  },
};

const link = (
  port: LanguageModel,
  firstTokenTimeoutMs = 1_000,
  totalTimeoutMs = 2_000,
): LlmLink => ({
  provider: port.name,
  port,
  firstTokenTimeoutMs,
  totalTimeoutMs,
});
const summary = (attempts: ProviderAttempt[]) =>
  attempts.map(
    (a) => `${a.provider}:${a.ok ? 'ok' : a.kind}${a.ok && a.kind ? `(${a.kind})` : ''}`,
  );

async function drain(answer: AsyncIterable<string>): Promise<string[]> {
  const pieces: string[] = [];
  for await (const p of answer) pieces.push(p);
  return pieces;
}

describe('FallbackLanguageModel', () => {
  it('streams the first provider that speaks and records its timings', async () => {
    const a = new FakeLanguageModel({
      name: 'a',
      pieces: ['  The fee', ' is $10.'],
      pieceDelayMs: 20,
    });
    const b = new FakeLanguageModel({ name: 'b' });
    const answer = new FallbackLanguageModel([link(a), link(b)]).answer(PROMPT);
    assert.deepEqual(await drain(answer), ['The fee', ' is $10.'], 'leading blanks trimmed');
    const r = await answer.result;
    assert.equal(r.text, 'The fee is $10.');
    assert.equal(r.servedBy, 'a');
    assert.equal(r.complete, true);
    assert.deepEqual(summary(r.attempts), ['a:ok']);
    const at = r.attempts[0]!;
    assert.ok(at.firstTokenMs !== undefined && at.firstTokenMs < at.ms, JSON.stringify(at));
    assert.ok(at.ms >= 15, 'the served attempt spans the whole answer');
    assert.equal(b.prompts.length, 0);
  });

  it('records skipped links as kind skipped with a reason starting "skipped"', async () => {
    const b = new FakeLanguageModel({ name: 'b' });
    const r = await new FallbackLanguageModel([
      {
        provider: 'openai',
        skipReason: 'OPENAI_API_KEY is not set',
        firstTokenTimeoutMs: 1,
        totalTimeoutMs: 1,
      },
      link(b),
    ]).complete(PROMPT);
    assert.deepEqual(r.attempts[0], {
      provider: 'openai',
      ok: false,
      ms: 0,
      kind: 'skipped',
      reason: 'skipped: OPENAI_API_KEY is not set',
    });
    assert.equal(r.servedBy, 'b');
  });

  it('hands over on a first-token timeout, a failure and an empty answer', async () => {
    const slow = new FakeLanguageModel({ name: 'slow', firstPieceDelayMs: Infinity });
    const limited = new FakeLanguageModel({ name: 'limited', fail: 'rate_limited' });
    const blank = new FakeLanguageModel({ name: 'blank', pieces: [' ', '\n'] });
    const ok = new FakeLanguageModel({ name: 'ok' });
    const started = performance.now();
    const r = await new FallbackLanguageModel([
      link(slow, 100),
      link(limited),
      link(blank),
      link(ok),
    ]).complete(PROMPT);
    assert.ok(performance.now() - started < 1_000);
    assert.deepEqual(summary(r.attempts), [
      'slow:timeout',
      'limited:rate_limited',
      'blank:empty',
      'ok:ok',
    ]);
    assert.equal(r.attempts[0]!.reason, 'timeout after 100 ms');
    assert.equal(r.attempts[2]!.reason, 'the answer had no text');
    assert.equal(r.text, 'The late fee is $10.');
    assert.equal(limited.prompts.length, 1, 'no retries within a provider');
  });

  it('once text was said, a failure ends the answer (complete: false) and nobody else speaks', async () => {
    const a = new FakeLanguageModel({
      name: 'a',
      pieces: ['One.', ' Two.', ' Three.'],
      fail: 'unavailable',
      failAfter: 1,
    });
    const b = new FakeLanguageModel({ name: 'b' });
    const answer = new FallbackLanguageModel([link(a), link(b)]).answer(PROMPT);
    assert.deepEqual(await drain(answer), ['One.']);
    const r = await answer.result;
    assert.equal(r.complete, false);
    assert.equal(r.servedBy, 'a');
    assert.deepEqual(summary(r.attempts), ['a:ok(unavailable)']);
    assert.equal(b.prompts.length, 0);
  });

  it('the total timeout cuts a stalled answer short', async () => {
    const a = new FakeLanguageModel({
      name: 'a',
      pieces: ['One.', ' Two.'],
      pieceDelayMs: Infinity,
    });
    const r = await new FallbackLanguageModel([link(a, 1_000, 150)]).complete(PROMPT);
    assert.equal(r.text, 'One.');
    assert.equal(r.complete, false);
    assert.equal(r.attempts[0]!.kind, 'timeout');
    assert.equal(r.attempts[0]!.reason, 'answer not finished within 150 ms');
  });

  it("rethrows the caller's abort before anything was said, recording who was asked", async () => {
    const slow = new FakeLanguageModel({ name: 'slow', firstPieceDelayMs: Infinity });
    const b = new FakeLanguageModel({ name: 'b' });
    const ac = new AbortController();
    const reason = new Error('hang-up');
    setTimeout(() => ac.abort(reason), 50);
    const answer = new FallbackLanguageModel([link(slow, 5_000), link(b)]).answer(PROMPT, {
      signal: ac.signal,
    });
    await assert.rejects(drain(answer), (e) => e === reason);
    const r = await answer.result;
    assert.equal(r.servedBy, undefined);
    assert.deepEqual(summary(r.attempts), ['slow:aborted']);
    assert.equal(b.prompts.length, 0);
  });

  it("rethrows the caller's abort mid-answer; the speaker's record says so", async () => {
    const a = new FakeLanguageModel({ name: 'a', pieces: ['One.', ' Two.', ' Three.'] });
    const ac = new AbortController();
    const reason = new Error('barge-in');
    const answer = new FallbackLanguageModel([link(a)]).answer(PROMPT, { signal: ac.signal });
    const got: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const piece of answer) {
          got.push(piece);
          ac.abort(reason);
        }
      })(),
      (e) => e === reason,
    );
    assert.deepEqual(got, ['One.']);
    const r = await answer.result;
    assert.deepEqual(summary(r.attempts), ['a:ok(aborted)']);
    assert.equal(r.attempts[0]!.reason, 'the answer was no longer wanted');
  });

  it('a reader that stops early leaves a record of an answer cut short', async () => {
    const a = new FakeLanguageModel({ name: 'a', pieces: ['One.', ' Two.'], pieceDelayMs: 20 });
    const answer = new FallbackLanguageModel([link(a)]).answer(PROMPT);
    for await (const piece of answer) {
      void piece;
      break;
    }
    const r = await answer.result;
    assert.equal(r.complete, false);
    assert.equal(r.attempts[0]!.reason, 'the reader stopped reading');
  });

  it('passes over a provider its gate turns away, with a "skipped" reason', async () => {
    const a = new FakeLanguageModel({ name: 'a' });
    const b = new FakeLanguageModel({ name: 'b' });
    const gate: FallbackGate = { skipReason: (p) => (p === 'a' ? 'circuit open' : undefined) };
    const r = await new FallbackLanguageModel([link(a), link(b)], gate).complete(PROMPT);
    assert.equal(a.prompts.length, 0);
    assert.deepEqual(summary(r.attempts), ['a:skipped', 'b:ok']);
    assert.equal(r.attempts[0]!.reason, 'skipped: circuit open');
  });

  it('tells its gate the attempt of every provider asked', async () => {
    const a = new FakeLanguageModel({ name: 'a', fail: 'unavailable' });
    const b = new FakeLanguageModel({ name: 'b' });
    const told: string[] = [];
    const gate: FallbackGate = {
      skipReason: () => undefined,
      record: (x) => told.push(`${x.provider}:${x.ok ? 'ok' : x.kind}`),
    };
    await new FallbackLanguageModel([link(a), link(b)], gate).complete(PROMPT);
    assert.deepEqual(told, ['a:unavailable', 'b:ok']);
  });

  it('reports the served provider’s usage, estimates it for a billed one cut off', async () => {
    const usage = { inputTokens: 7, outputTokens: 3 };
    const billed = new FakeLanguageModel({ name: 'billed', usage });
    assert.deepEqual(
      (await new FallbackLanguageModel([link(billed)]).complete(PROMPT)).usage,
      usage,
    );
    const cut = new FakeLanguageModel({ name: 'cut', usage, fail: 'unavailable', failAfter: 1 });
    const r = await new FallbackLanguageModel([link(cut)]).complete(PROMPT);
    assert.deepEqual(r.usage, { inputTokens: 5, outputTokens: 3, estimated: true });
    const free = new FakeLanguageModel({ name: 'free' });
    assert.equal((await new FallbackLanguageModel([link(free)]).complete(PROMPT)).usage, undefined);
  });

  it('as a LanguageModel: streams, reports usage, throws FallbackExhaustedError when none serves', async () => {
    const usage = { inputTokens: 7, outputTokens: 3 };
    const model: LanguageModel = new FallbackLanguageModel([
      link(new FakeLanguageModel({ name: 'down', fail: 'unavailable' })),
      link(new FakeLanguageModel({ name: 'up', usage })),
    ]);
    const reported: unknown[] = [];
    const pieces: string[] = [];
    for await (const p of model.stream(PROMPT, { onUsage: (u) => reported.push(u) }))
      pieces.push(p);
    assert.equal(pieces.join(''), 'The late fee is $10.');
    assert.deepEqual(reported, [usage]);
    const none = new FallbackLanguageModel([
      link(new FakeLanguageModel({ name: 'down', fail: 'unavailable' })),
    ]);
    await assert.rejects(drain(none.stream(PROMPT)), (e) => {
      assert.ok(e instanceof FallbackExhaustedError);
      assert.deepEqual(summary(e.attempts), ['down:unavailable']);
      return e.retryable;
    });
  });
});
