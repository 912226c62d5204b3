// What the edge synthesizes, and where it caches it: a reply's sentences one by one, fixed
// prompts whole (shared, and prerecorded for a total TTS outage), anything else per call; and
// what it says when no link can voice a line (the apology, owed by SMS).
import assert from 'node:assert/strict';
import {
  cacheScopeFor,
  cachedChainSynthesizer,
  speechUnits,
} from '../../media-edge/speech-synthesizer';
import { FakeCache } from '../../providers/cache/fake';
import { FakeObjectStore } from '../../providers/object-store/fake';
import { TtsCache } from '../../providers/tts/cache';
import { FakeTextToSpeech } from '../../providers/tts/fake';
import { FallbackTextToSpeech } from '../../providers/tts/fallback';
import { PiecewiseSpeech } from '../../providers/tts/piecewise';
import { PrerecordedTts, UNSAYABLE_APOLOGY } from '../../providers/tts/prerecorded';
import { PROMPTS } from '../../workflows/call-state';

describe('speech units and cache scope', () => {
  it('keeps a fixed prompt whole, even one of several sentences', () => {
    assert.deepEqual(speechUnits(PROMPTS.goodbye), [PROMPTS.goodbye]);
    assert.deepEqual(speechUnits(`  ${PROMPTS.stillThere}`), [PROMPTS.stillThere]);
  });

  it('splits a personal reply into sentences, the fixed tail on its own', () => {
    const reply = `Your payment of 42 dollars and 50 cents is complete. ${PROMPTS.anythingElse}`;
    assert.deepEqual(speechUnits(reply), [
      'Your payment of 42 dollars and 50 cents is complete.',
      PROMPTS.anythingElse,
    ]);
    assert.deepEqual(speechUnits(`Hello Ada, thanks for calling. ${PROMPTS.howCanIHelp}`), [
      'Hello Ada, thanks for calling.',
      PROMPTS.howCanIHelp,
    ]);
    assert.deepEqual(
      speechUnits(`Your bill of 129 dollars is due on December 12. ${PROMPTS.payNow}`),
      ['Your bill of 129 dollars is due on December 12.', PROMPTS.payNow],
      'a fixed prompt of two sentences stays whole after a personal one',
    );
    assert.deepEqual(speechUnits('A late fee of $10.50 applies. Autopay saves $5.'), [
      'A late fee of $10.50 applies.',
      'Autopay saves $5.',
    ]);
  });

  it('caches fixed prompts for everyone and anything else for its call only', () => {
    assert.equal(cacheScopeFor(PROMPTS.anythingElse, 'CA1'), 'shared');
    assert.deepEqual(cacheScopeFor('Your balance is 42 dollars.', 'CA1'), { callId: 'CA1' });
    assert.deepEqual(cacheScopeFor('Hello Ada, thanks for calling.', 'CA1'), { callId: 'CA1' });
    assert.equal(cacheScopeFor('Your balance is 42 dollars.'), 'shared', 'no call: tools');
  });
});

describe('the edge voice when no link can say a line', () => {
  const down = new FallbackTextToSpeech([
    {
      provider: 'down',
      port: new FakeTextToSpeech({ name: 'down', fail: 'unavailable' }),
      timeoutMs: 1_000,
    },
    { provider: 'prerecorded', port: new PrerecordedTts(), timeoutMs: 500 },
    { provider: 'pieces', port: new PiecewiseSpeech(), timeoutMs: 500 },
  ]);
  const cache = () => new TtsCache({ cache: new FakeCache(), store: new FakeObjectStore() });
  const apology = new PrerecordedTts();

  it('says a personal sentence from pieces and says so', async () => {
    const voice = cachedChainSynthesizer(down, cache());
    const line = await voice.synthesize(
      'Your balance is $4.20.',
      new AbortController().signal,
      'CA1',
    );
    assert.equal(line.spokenAs, 'pieces');
    assert.equal(line.servedBy, 'pieces');
    assert.ok(line.mulaw.length > 0);
  });

  it('says the prerecorded apology instead of a line no link covers', async () => {
    const voice = cachedChainSynthesizer(down, cache());
    const line = await voice.synthesize('Our Fiber plan has no cap.', new AbortController().signal);
    assert.equal(line.spokenAs, 'apology');
    assert.deepEqual(line.mulaw, (await apology.synthesize(UNSAYABLE_APOLOGY)).mulaw);
    assert.equal(voice.stats.apologies, 1);
  });

  it('an abort is not apologised for, and with no apology to play the failure stands', async () => {
    const voice = cachedChainSynthesizer(down, cache());
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(voice.synthesize('Our Fiber plan has no cap.', ac.signal));
    const mute = cachedChainSynthesizer(
      down,
      cache(),
      new FakeTextToSpeech({ name: 'gone', fail: 'unavailable' }),
    );
    await assert.rejects(
      mute.synthesize('Our Fiber plan has no cap.', new AbortController().signal),
      /no tts provider served/,
    );
    assert.equal(voice.stats.apologies + mute.stats.apologies, 0);
  });
});

describe('a sentence made ready ahead', () => {
  const cache = () => new TtsCache({ cache: new FakeCache(), store: new FakeObjectStore() });
  const line = 'Your balance is 42 dollars and 50 cents.';

  it('a reply asking for it while it is synthesized waits for it: the provider is paid once', async () => {
    const tts = new FakeTextToSpeech({ delayMs: 80 });
    const voice = cachedChainSynthesizer(tts, cache());
    const ahead = voice.synthesize(line, new AbortController().signal, 'CA1');
    const reply = await voice.synthesize(line, new AbortController().signal, 'CA1');
    assert.equal(tts.calls, 1);
    assert.equal(reply.cacheHit, true, 'not billed twice');
    assert.deepEqual(reply.mulaw, (await ahead).mulaw);
    // Another call's same words are its own (personal text is cached per call).
    await voice.synthesize(line, new AbortController().signal, 'CA2');
    assert.equal(tts.calls, 2);
  });

  it('a head start cut short (a barge-in) leaves the reply to synthesize it itself', async () => {
    const tts = new FakeTextToSpeech({ delayMs: 80 });
    const voice = cachedChainSynthesizer(tts, cache());
    const cut = new AbortController();
    const ahead = voice.synthesize(line, cut.signal, 'CA1');
    const reply = voice.synthesize(line, new AbortController().signal, 'CA1');
    await new Promise((r) => setTimeout(r, 20)); // the provider has begun the head start
    cut.abort();
    await assert.rejects(ahead);
    const said = await reply;
    assert.equal(said.cacheHit, false);
    assert.equal(tts.calls, 2);
  });

  it("the reply's own abort ends its wait at once", async () => {
    const tts = new FakeTextToSpeech({ delayMs: 5_000 });
    const voice = cachedChainSynthesizer(tts, cache());
    const ahead = voice.synthesize(line, new AbortController().signal, 'CA1');
    ahead.catch(() => undefined);
    const bargeIn = new AbortController();
    const reply = voice.synthesize(line, bargeIn.signal, 'CA1');
    const started = Date.now();
    bargeIn.abort();
    await assert.rejects(reply);
    assert.ok(Date.now() - started < 1_000);
    assert.equal(tts.calls, 1);
  });
});
