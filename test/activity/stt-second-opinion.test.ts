// One utterance heard by two engines, the clearer request kept: the choice, each engine failing
// on its own, abort. With fakes for the engines and a judge that reads a fixed table, so each
// rule is seen to decide; the real engines run through the conformance suite.
import assert from 'node:assert/strict';
import type { Intent } from '../../contracts/call';
import { FakeSpeechToText } from '../../providers/stt/fake';
import type { SttStream, Transcript } from '../../providers/stt/port';
import {
  DOUBTED_CONFIDENCE,
  SecondOpinionSpeechToText,
  type NeedsCorroboration,
  type ReadingJudge,
} from '../../providers/stt/second-opinion';
import { ProviderError } from '../../providers/provider-error';

const audio = { samples: new Int16Array(1600), sampleRate: 8000 };

/** The intent model as a table: text → intent (anything else out of scope). */
const table =
  (t: Record<string, Intent>): ReadingJudge =>
  async (text) =>
    t[text] ?? { name: 'out_of_scope', confidence: 0.9 };

const JUDGE = table({
  'be my deal': { name: 'out_of_scope', confidence: 0.36 },
  'pay my bill': { name: 'pay_bill', confidence: 1 },
  'what my talents': { name: 'check_balance', confidence: 0.6 },
  "what's my balance": { name: 'check_balance', confidence: 0.99 },
  'i need to pay what i owe': { name: 'pay_bill', confidence: 0.98 },
  'bye need today goodbye all': { name: 'goodbye', confidence: 0.99 },
  'go ahead sure': { name: 'confirm_yes', confidence: 0.99 },
  'tell me a joke': { name: 'out_of_scope', confidence: 1 },
});

function pair(main: string, second: string, judge: ReadingJudge = JUDGE) {
  const m = new FakeSpeechToText({ name: 'open', transcripts: [main] });
  const s = new FakeSpeechToText({ name: 'grammar', transcripts: [second] });
  return { stt: new SecondOpinionSpeechToText(m, s, judge), m, s };
}

async function streamed(stt: SecondOpinionSpeechToText): Promise<Transcript> {
  const s: SttStream = await stt.open({ sampleRate: 8000 });
  s.write(audio.samples);
  return s.finish();
}

describe('second opinion: two engines, the clearer request kept', function () {
  it('keeps the grammar reading when the open one names no request and the grammar names one', async () => {
    const r = await streamed(pair('be my deal', 'pay my bill').stt);
    assert.deepEqual([r.text, r.provider], ['pay my bill', 'grammar']);
  });

  it('keeps it when the open reading names a request only unsurely', async () => {
    const r = await pair('what my talents', "what's my balance").stt.transcribe(audio);
    assert.equal(r.provider, 'grammar');
  });

  it('keeps the open reading when it is sure, whatever the grammar says', async () => {
    const r = await streamed(pair('i need to pay what i owe', 'bye need today goodbye all').stt);
    assert.equal(r.provider, 'open');
  });

  it('keeps the open reading when the grammar names nothing in scope (salad forced onto a hint)', async () => {
    // "tell me a joke" is out of scope by the open engine, "go ahead sure" a confident
    // intent from the grammar: a sure out-of-scope reading is a reading, not a failure.
    assert.equal((await streamed(pair('tell me a joke', 'tell me a joke').stt)).provider, 'open');
    const judge = table({ 'tell me a joke': { name: 'out_of_scope', confidence: 0.5 } });
    assert.equal(
      (await streamed(pair('tell me a joke', 'be my deal', judge).stt)).provider,
      'open',
    );
  });

  it('one engine failing leaves the other', async () => {
    const m = new FakeSpeechToText({ name: 'open', fail: { kind: 'unavailable' } });
    const s = new FakeSpeechToText({ name: 'grammar', transcripts: ['pay my bill'] });
    assert.equal((await streamed(new SecondOpinionSpeechToText(m, s, JUDGE))).provider, 'grammar');
    const m2 = new FakeSpeechToText({ name: 'open', transcripts: ['be my deal'] });
    const s2 = new FakeSpeechToText({ name: 'grammar', fail: { kind: 'timeout', on: 'open' } });
    const both = new SecondOpinionSpeechToText(m2, s2, JUDGE);
    assert.equal((await streamed(both)).provider, 'open');
    assert.equal((await both.transcribe(audio)).provider, 'open');
  });

  it('both failing rejects with the open engine’s error', async () => {
    const m = new FakeSpeechToText({ name: 'open', fail: { kind: 'unavailable' } });
    const s = new FakeSpeechToText({ name: 'grammar', fail: { kind: 'timeout' } });
    const stt = new SecondOpinionSpeechToText(m, s, JUDGE);
    const err = await streamed(stt).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(
      err instanceof ProviderError && err.provider === 'open' && err.kind === 'unavailable',
    );
  });

  it('no judge (the intent model failed): the open reading', async () => {
    const broken: ReadingJudge = () => Promise.reject(new Error('model gone'));
    assert.equal((await streamed(pair('be my deal', 'pay my bill', broken).stt)).provider, 'open');
  });

  it('both engines hear the whole utterance; abort ends both streams', async () => {
    const { stt, m, s } = pair('be my deal', 'pay my bill');
    await streamed(stt);
    assert.deepEqual([m.heard[0]!.length, s.heard[0]!.length], [1600, 1600]);
    const open = await stt.open({ sampleRate: 8000 });
    assert.deepEqual([m.openStreams, s.openStreams], [1, 1]);
    open.abort();
    assert.deepEqual([m.openStreams, s.openStreams], [0, 0]);
    await assert.rejects(open.finish());
  });

  it("the streaming engine's interim hypotheses reach the listener (an end of turn is judged on them)", async () => {
    const m = new FakeSpeechToText({ name: 'open', transcripts: ['be my deal'] });
    const s = new FakeSpeechToText({ name: 'grammar', transcripts: ['pay my bill'], partials: ['pay', 'pay my bill'] }); // prettier-ignore
    const stream = await new SecondOpinionSpeechToText(m, s, JUDGE).open({ sampleRate: 8000 });
    const heard: string[] = [];
    stream.onPartial = (text) => heard.push(text);
    stream.write(audio.samples);
    stream.write(audio.samples);
    assert.deepEqual(heard, ['pay', 'pay my bill']);
    assert.equal((await stream.finish()).text, 'pay my bill');
  });

  it('a clear main reading costs the second engine nothing: its stream is dropped unread', async () => {
    const { stt, m, s } = pair("what's my balance", 'pay my bill');
    assert.equal((await streamed(stt)).provider, 'open');
    assert.deepEqual([m.heard.length, s.heard.length, s.openStreams], [1, 0, 0]);
    assert.equal((await stt.transcribe(audio)).provider, 'open');
    assert.deepEqual([s.requests, s.heard.length], [1, 0]);
  });

  it('on a closed answer the grammar reads first and Moonshine is asked only when it is unclear', async () => {
    // One flite voice's lone "yes" is "then" to the grammar: no answer; Moonshine hears it.
    const judge = table({
      then: { name: 'out_of_scope', confidence: 0.7 },
      yes: { name: 'confirm_yes', confidence: 1 },
      no: { name: 'confirm_no', confidence: 1 },
    });
    const closed = (grammar: string, open: string) =>
      new SecondOpinionSpeechToText(
        new FakeSpeechToText({ name: 'grammar', transcripts: [grammar] }),
        new FakeSpeechToText({ name: 'open', transcripts: [open] }),
        judge,
      );
    assert.equal((await streamed(closed('then', 'yes'))).provider, 'open');
    assert.equal((await streamed(closed('no', 'yes'))).provider, 'grammar');
  });

  describe('a second reading that lost words (its syllables explain too little of the voice)', () => {
    // 1.2 s of a 150 Hz voice: voiced throughout, more than one syllable can make at 450 ms.
    const voice = {
      samples: Int16Array.from({ length: 9600 }, (_, i) =>
        Math.round(6000 * Math.sin((2 * Math.PI * 150 * i) / 8000)),
      ),
      sampleRate: 8000,
    };
    const judge = table({
      'i need to be with her': { name: 'out_of_scope', confidence: 0.97 },
      no: { name: 'confirm_no', confidence: 1 },
      'i need to pay my bill': { name: 'pay_bill', confidence: 0.99 },
    });
    const open = (second: string, msPerSyllable?: number) =>
      new SecondOpinionSpeechToText(
        new FakeSpeechToText({ name: 'open', transcripts: ['i need to be with her'] }),
        new FakeSpeechToText({ name: 'grammar', transcripts: [second] }),
        judge,
        msPerSyllable ? { msPerSyllable } : {},
      );
    const framed = async (stt: SecondOpinionSpeechToText) => {
      const s = await stt.open({ sampleRate: 8000 });
      for (let i = 0; i < voice.samples.length; i += 160)
        s.write(voice.samples.subarray(i, i + 160));
      return (await s.finish()).provider;
    };

    it('is not taken: a sure "no" for a whole sentence leaves the main reading', async () => {
      assert.equal((await open('no', 450).transcribe(voice)).provider, 'open');
      assert.equal(await framed(open('no', 450)), 'open');
    });

    it('is taken when its words could make the voice, or with the check off', async () => {
      assert.equal(await framed(open('i need to pay my bill', 450)), 'grammar');
      assert.equal((await open('no').transcribe(voice)).provider, 'grammar');
    });
  });

  describe('a main engine busy with other callers (mainBusy)', () => {
    const busyPair = (
      main: string,
      second: string,
      opts: { busy?: boolean; msPerSyllable?: number; corroborate?: NeedsCorroboration } = {},
    ) => {
      // prettier-ignore
      const m = new FakeSpeechToText({ name: 'open', transcripts: [main] });
      const s = new FakeSpeechToText({ name: 'grammar', transcripts: [second] });
      const { busy = true, ...rules } = opts;
      const stt = new SecondOpinionSpeechToText(m, s, JUDGE, { ...rules, mainBusy: () => busy });
      return { stt, m, s };
    };

    it("takes the second engine's clear request without waiting for the main one", async () => {
      // The open engine would have heard it better; it is not asked at all.
      const { stt, m, s } = busyPair('i need to pay what i owe', 'pay my bill');
      const r = await streamed(stt);
      assert.deepEqual([r.provider, m.heard.length, m.openStreams, s.heard.length], ['grammar', 0, 0, 1]); // prettier-ignore
      assert.equal((await stt.transcribe(audio)).provider, 'grammar');
      assert.deepEqual([m.heard.length, s.heard.length, stt.stats.readWithoutMain], [0, 2, 2]);
    });

    it('waits for the main one when the second reading is unclear, as when it is free', async () => {
      for (const second of ['be my deal', 'what my talents', 'tell me a joke']) {
        const { stt, s } = busyPair('i need to pay what i owe', second);
        assert.equal((await streamed(stt)).provider, 'open', second);
        const whole = busyPair('i need to pay what i owe', second);
        assert.equal((await whole.stt.transcribe(audio)).provider, 'open', second);
        assert.deepEqual([s.heard.length, whole.s.requests, stt.stats.readWithoutMain], [1, 1, 0]); // prettier-ignore
      }
      const free = busyPair('i need to pay what i owe', 'pay my bill', { busy: false });
      assert.equal((await streamed(free.stt)).provider, 'open');
    });

    it("waits for it when the second reading needs another engine's word, or lost words", async () => {
      const needs: NeedsCorroboration = (intent) => (intent.name === 'pay_bill' ? 'raises' : 'none'); // prettier-ignore
      const corroborated = busyPair('i need to pay what i owe', 'pay my bill', { corroborate: needs }); // prettier-ignore
      assert.equal((await streamed(corroborated.stt)).provider, 'open');
      // 1.2 s of voice: "pay my bill" (3 syllables) cannot make it at 150 ms a syllable.
      const voice = Int16Array.from({ length: 9600 }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 150 * i) / 8000))); // prettier-ignore
      const short = busyPair('i need to pay what i owe', 'pay my bill', { msPerSyllable: 150 });
      assert.equal((await short.stt.transcribe({ samples: voice, sampleRate: 8000 })).provider, 'open'); // prettier-ignore
      const long = busyPair('i need to pay what i owe', 'pay my bill', { msPerSyllable: 450 });
      assert.equal((await long.stt.transcribe({ samples: voice, sampleRate: 8000 })).provider, 'grammar'); // prettier-ignore
    });
  });

  describe('a main reading later than mainWaitMs', () => {
    const latePair = (second: string, delayMs: number) => {
      const m = new FakeSpeechToText({ name: 'open', transcripts: ['i need to pay what i owe'], delayMs }); // prettier-ignore
      const s = new FakeSpeechToText({ name: 'grammar', transcripts: [second] });
      return { stt: new SecondOpinionSpeechToText(m, s, JUDGE, { mainWaitMs: 50 }), m };
    };

    it("gives way to the second engine's clear reading; the late one is dropped", async () => {
      const { stt, m } = latePair('pay my bill', 400);
      const r = await streamed(stt);
      assert.deepEqual([r.provider, m.openStreams, m.heard.length], ['grammar', 0, 0]);
      assert.equal((await latePair('pay my bill', 400).stt.transcribe(audio)).provider, 'grammar'); // prettier-ignore
    });

    it('is waited for when the second reading is unclear, or when it comes in time', async () => {
      assert.equal((await streamed(latePair('be my deal', 200).stt)).provider, 'open');
      assert.equal((await streamed(latePair('pay my bill', 0).stt)).provider, 'open');
    });
  });

  describe('a reading worth corroborating (a yes that would move money)', () => {
    const judge = table({
      yes: { name: 'confirm_yes', confidence: 0.99 },
      yeah: { name: 'confirm_yes', confidence: 0.97 },
      'yes no wait': { name: 'confirm_yes', confidence: 0.2 }, // the mixed-answer guard's doubt
      'hold on': { name: 'out_of_scope', confidence: 0.97 },
    });
    const yesBelow = (intent: Intent, reading: Transcript) =>
      intent.name === 'confirm_yes' && reading.confidence < 0.9 ? 'raises' : 'none';
    const closed = (grammar: string, grammarConfidence: number, open: string) => {
      const g = new FakeSpeechToText({ name: 'grammar', transcripts: [grammar], confidence: grammarConfidence }); // prettier-ignore
      const o = new FakeSpeechToText({ name: 'open', transcripts: [open], confidence: 0.75 });
      return { stt: new SecondOpinionSpeechToText(g, o, judge, { corroborate: yesBelow }), o };
    };

    it('is as sure as two engines that err apart when the other names it surely too', async () => {
      const r = await closed('yes', 0.6, 'yeah').stt.transcribe(audio);
      assert.equal(r.text, 'yes');
      assert.equal(r.provider, 'grammar');
      assert.ok(Math.abs(r.confidence - (1 - 0.4 * 0.25)) < 1e-9, String(r.confidence));
    });

    it('stays as heard when the other engine hears something else, or a mixed answer', async () => {
      for (const open of ['hold on', 'yes no wait']) {
        const r = await streamed(closed('yes', 0.6, open).stt);
        assert.equal(r.text, 'yes', open);
        assert.equal((await closed('yes', 0.6, open).stt.transcribe(audio)).confidence, 0.6);
      }
    });

    it('costs nothing when the reading is sure enough alone', async () => {
      const { stt, o } = closed('yes', 0.95, 'yeah');
      const r = await streamed(stt);
      assert.deepEqual([r.text, o.heard.length, o.openStreams], ['yes', 0, 0]);
    });
  });

  describe('a reading that needs corroboration to stand (a goodbye to a yes/no question)', () => {
    const judge = table({
      goodbye: { name: 'goodbye', confidence: 0.98 },
      'hold on': { name: 'out_of_scope', confidence: 0.97 },
      'yes that is correct': { name: 'confirm_yes', confidence: 0.95 },
      'bye now': { name: 'goodbye', confidence: 0.9 },
      'till all done': { name: 'goodbye', confidence: 0.6 },
      'cancel nine': { name: 'confirm_no', confidence: 0.55 },
      'been am thank': { name: 'goodbye', confidence: 0.63 },
      'no kink': { name: 'confirm_no', confidence: 0.66 },
    });
    const goodbyeNeeds = (intent: Intent) => (intent.name === 'goodbye' ? 'required' : 'none');
    const closed = (
      open: string,
      grammar = 'goodbye',
      corroborate: NeedsCorroboration = goodbyeNeeds,
    ) => {
      const g = new FakeSpeechToText({ name: 'grammar', transcripts: [grammar], confidence: 0.9 }); // prettier-ignore
      const o = new FakeSpeechToText({ name: 'open', transcripts: [open], confidence: 0.75 });
      return new SecondOpinionSpeechToText(g, o, judge, { corroborate });
    };

    it('stands, surer, when the other engine hears a goodbye too', async () => {
      const r = await streamed(closed('bye now'));
      assert.deepEqual([r.text, r.provider], ['goodbye', 'grammar']);
      assert.ok(Math.abs(r.confidence - (1 - 0.1 * 0.25)) < 1e-9, String(r.confidence));
    });

    it("gives way to the other engine's sure request", async () => {
      const r = await closed('yes that is correct').transcribe(audio);
      assert.deepEqual([r.text, r.provider, r.confidence], ['yes that is correct', 'open', 0.75]);
    });

    it('gives way to another request named more surely than it, though not surely', async () => {
      // slt's "no thanks": an unsure goodbye from the grammar, an unsure no from Moonshine.
      const r = await streamed(closed('no kink', 'been am thank'));
      assert.deepEqual([r.text, r.provider, r.confidence], ['no kink', 'open', 0.75]);
      const less = await streamed(closed('cancel nine', 'been am thank'));
      assert.deepEqual([less.text, less.confidence], ['been am thank', DOUBTED_CONFIDENCE]);
    });

    it('is doubted, so the caller is asked again, when the other engine names no request', async () => {
      // An unsure goodbye too: the other engine's out-of-scope reading would not displace it.
      const unsure = await closed('hold on', 'till all done').transcribe(audio);
      assert.deepEqual([unsure.text, unsure.confidence], ['till all done', DOUBTED_CONFIDENCE]);
      const r = await streamed(closed('hold on'));
      assert.deepEqual(
        [r.text, r.provider, r.confidence],
        ['goodbye', 'grammar', DOUBTED_CONFIDENCE],
      );
    });

    it("is doubted as the other engine's reading too, taken over an unclear answer", async () => {
      // slt's "hold on": the grammar heard an unsure no, Moonshine a sure goodbye.
      const r = await streamed(closed('till all done', 'cancel nine'));
      assert.deepEqual(
        [r.text, r.provider, r.confidence],
        ['till all done', 'open', DOUBTED_CONFIDENCE],
      );
    });
    it('needs no third engine once two heard it; heard by one, the third can make it two', async () => {
      const untilTwo: NeedsCorroboration = (intent, reading) =>
        intent.name === 'goodbye' && (reading.agreedBy ?? 1) < 2 ? 'required' : 'none';
      const third = () => new FakeSpeechToText({ name: 'third', transcripts: ['bye now'], confidence: 0.8 }); // prettier-ignore
      const agreed = third();
      const r = await streamed(
        new SecondOpinionSpeechToText(closed('bye now', 'goodbye', untilTwo), agreed, judge, { corroborate: untilTwo }), // prettier-ignore
      );
      assert.deepEqual([r.text, r.agreedBy, agreed.heard.length], ['goodbye', 2, 0]);
      const alone = third();
      const d = await streamed(
        new SecondOpinionSpeechToText(closed('hold on', 'goodbye', untilTwo), alone, judge, { corroborate: untilTwo }), // prettier-ignore
      );
      assert.deepEqual([d.text, d.agreedBy, alone.heard.length], ['goodbye', 2, 1]);
      assert.ok(Math.abs(d.confidence - (1 - (1 - DOUBTED_CONFIDENCE) * 0.2)) < 1e-9, String(d.confidence)); // prettier-ignore
    });
  });

  describe('a better reader rechecking (betterReaderAt)', () => {
    const judge = table({
      'okay then i would like to bid': { name: 'out_of_scope', confidence: 0.71 },
      'okay no i like the paid': { name: 'pay_bill', confidence: 0.67 },
      'talk to the': { name: 'talk_to_agent', confidence: 0.4 },
      'cancel nine': { name: 'confirm_no', confidence: 0.69 },
      'so hold on': { name: 'out_of_scope', confidence: 0.94 },
      'still thank': { name: 'goodbye', confidence: 0.94 },
      'no thanks': { name: 'confirm_no', confidence: 0.78 },
      'till all done': { name: 'goodbye', confidence: 0.99 },
    });
    const recheck = (second: string, at?: number, main = 'okay then i would like to bid') => {
      const m = new FakeSpeechToText({ name: 'pair', transcripts: [main] });
      const w = new FakeSpeechToText({ name: 'whisper', transcripts: [second] });
      return new SecondOpinionSpeechToText(m, w, judge, {
        corroborate: (intent) => (intent.name === 'goodbye' ? 'required' : 'none'),
        ...(at !== undefined && { betterReaderAt: at }),
      });
    };

    it("takes its request over a reading that names none at the bar, not only above that reading's own confidence", async () => {
      assert.equal((await streamed(recheck('okay no i like the paid'))).provider, 'pair');
      const r = await streamed(recheck('okay no i like the paid', 0.5));
      assert.deepEqual([r.provider, r.text], ['whisper', 'okay no i like the paid']);
    });

    it("reports a request taken at the bar at the bar's confidence at least, whatever the engine's score", async () => {
      // espeak f3's "do you have a discount for seniors": Whisper heard it right at a token
      // probability under the call's threshold, and the caller was asked again.
      const at = (score: number) => {
        const m = new FakeSpeechToText({ name: 'pair', transcripts: ['okay then i would like to bid'] }); // prettier-ignore
        const w = new FakeSpeechToText({ name: 'whisper', transcripts: ['okay no i like the paid'], confidence: score }); // prettier-ignore
        return streamed(new SecondOpinionSpeechToText(m, w, judge, { betterReaderAt: 0.5 }));
      };
      const low = await at(0.49);
      assert.deepEqual([low.provider, low.confidence], ['whisper', 0.5]);
      assert.equal((await at(0.8)).confidence, 0.8);
    });

    it('leaves a request under the bar unread', async () => {
      assert.equal((await streamed(recheck('talk to the', 0.5))).provider, 'pair');
    });

    it('takes its request at the bar over a reading that needed its word and lacks it', async () => {
      // espeak f3's "no thanks": a sure goodbye from the grammar alone, an unsure no from Whisper.
      const doubted = await streamed(recheck('no thanks', undefined, 'still thank'));
      assert.deepEqual([doubted.text, doubted.confidence], ['still thank', DOUBTED_CONFIDENCE]);
      const r = await streamed(recheck('no thanks', 0.5, 'still thank'));
      assert.deepEqual([r.provider, r.text], ['whisper', 'no thanks']);
    });

    /** Moonshine, then the grammar, each a second opinion for the other; Whisper above the pair. */
    const threeReaders = (
      judged: ReadingJudge,
      heard: Record<'moonshine' | 'grammar' | 'whisper', string>,
    ) => {
      const fake = (name: keyof typeof heard) =>
        new FakeSpeechToText({ name, transcripts: [heard[name]] });
      const pair = new SecondOpinionSpeechToText(fake('moonshine'), fake('grammar'), judged);
      const all = new SecondOpinionSpeechToText(pair, fake('whisper'), judged, { betterReaderAt: 0.5 }); // prettier-ignore
      return { pair, all };
    };

    it('settles a reading the engines below disputed, however surely it names its request', async () => {
      // flite awb's "okay, then I'd like to pay it": Moonshine names the payment unsurely, the
      // grammar a sure transfer made of its own phrases.
      const judged = table({
        'go kate then i would like to pay it': { name: 'pay_bill', confidence: 0.68 },
        'talk to an agent': { name: 'talk_to_agent', confidence: 1 },
        'okay then i would like to pay it': { name: 'pay_bill', confidence: 0.9 },
      });
      const stack = (whisper: string) =>
        threeReaders(judged, { moonshine: 'go kate then i would like to pay it', grammar: 'talk to an agent', whisper }); // prettier-ignore
      const p = await streamed(stack('').pair);
      assert.deepEqual([p.text, p.disputed], ['talk to an agent', true]);
      const r = await streamed(stack('okay then i would like to pay it').all);
      assert.deepEqual([r.provider, r.text], ['whisper', 'okay then i would like to pay it']);
      const agreed = await streamed(stack('talk to an agent').all);
      assert.deepEqual([agreed.text, agreed.disputed], ['talk to an agent', false]);
    });

    it('settles a request taken over a sure "no request"', async () => {
      // flite awb's "what's the weather like tomorrow": Moonshine surely out of scope, the
      // grammar a balance request made of its phrases, Whisper the weather.
      const judged = table({
        "what's a weather like to my rope": { name: 'out_of_scope', confidence: 0.99 },
        "what's my balance cancel": { name: 'check_balance', confidence: 1 },
        "what's the weather like tomorrow": { name: 'out_of_scope', confidence: 0.98 },
      });
      const { all } = threeReaders(judged, {
        moonshine: "what's a weather like to my rope",
        grammar: "what's my balance cancel",
        whisper: "what's the weather like tomorrow",
      });
      const r = await streamed(all);
      assert.deepEqual([r.provider, r.text], ['whisper', "what's the weather like tomorrow"]);
    });

    it('overrules an unsure request with its sure "no request"', async () => {
      // flite slt's "hold on": an unsure no from the pair, a clear non-answer from Whisper.
      assert.equal((await streamed(recheck('so hold on', undefined, 'cancel nine'))).text, 'cancel nine'); // prettier-ignore
      assert.equal((await streamed(recheck('so hold on', 0.5, 'cancel nine'))).text, 'so hold on');
      assert.equal((await streamed(recheck('so hold on', 0.5))).provider, 'pair'); // none over none
    });

    it('overrules a goodbye in doubt with its sure "no request": the question is asked again', async () => {
      // flite slt's "hold on" again: a goodbye only Moonshine heard ("till all done").
      const doubted = await streamed(recheck('so hold on', undefined, 'till all done'));
      assert.deepEqual([doubted.text, doubted.confidence], ['till all done', DOUBTED_CONFIDENCE]);
      const r = await streamed(recheck('so hold on', 0.5, 'till all done'));
      assert.deepEqual([r.provider, r.text], ['whisper', 'so hold on']);
    });
  });
});
