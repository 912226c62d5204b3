// The call's one output queue: replies and streamed sentences go out in the order said,
// whatever their synthesis takes; a barge-in cancels the current turn's output through its
// one signal; timed outputs feed the turn clock (first audio, billed characters).
import { strict as assert } from 'node:assert';
import { Playout, type PlayoutTransport } from '../../media-edge/call/playout';
import { Speaker } from '../../media-edge/call/speaker';
import { TurnClock } from '../../media-edge/call/turn-clock';
import type { SpeechSynthesizer, SynthesizedLine } from '../../media-edge/speech-synthesizer';
import { PROMPTS } from '../../workflows/call-state';

/** Twilio that takes everything and never echoes a mark: what was sent stays "playing". */
class SilentTwilio implements PlayoutTransport {
  isOpen = true;
  readonly frames: Buffer[] = [];
  clears = 0;
  sendAudio(mulaw: Buffer): boolean {
    this.frames.push(Buffer.from(mulaw));
    return true;
  }
  sendMark(): boolean {
    return true;
  }
  clear(): boolean {
    this.clears++;
    return true;
  }
  on(): this {
    return this;
  }
  off(): this {
    return this;
  }
  /** The text each sent frame was synthesized from (its fill byte). */
  texts(): string[] {
    return this.frames.map((f) => String.fromCharCode(f[0]!));
  }
}

/** One 20 ms frame per text, filled with the text's first character; `delays` per text. */
class ScriptedTts implements SpeechSynthesizer {
  readonly aborted: string[] = [];
  readonly asked: string[] = [];
  constructor(
    private readonly delays: Record<string, number> = {},
    private readonly opts: {
      cached?: string[];
      failing?: string[];
      /** Said as the apology (filled with '!'), as the edge does when no link can say them. */
      unsayable?: string[];
      /** Said from prerecorded pieces. */
      pieces?: string[];
    } = {},
  ) {}
  synthesize(text: string, signal: AbortSignal) {
    this.asked.push(text);
    return new Promise<SynthesizedLine>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        if (this.opts.failing?.includes(text)) return reject(new Error(`no voice for ${text}`));
        if (this.opts.unsayable?.includes(text))
          return resolve({
            mulaw: Buffer.alloc(160, '!'.charCodeAt(0)),
            cacheHit: false,
            servedBy: 'prerecorded',
            spokenAs: 'apology',
          });
        resolve({
          ...(this.opts.pieces?.includes(text) && { spokenAs: 'pieces' as const }),
          mulaw: Buffer.alloc(160, text.charCodeAt(0)),
          cacheHit: this.opts.cached?.includes(text) ?? false,
          servedBy: 'scripted',
        });
      }, this.delays[text] ?? 1);
      signal.addEventListener('abort', () => {
        if (settled) return;
        clearTimeout(timer);
        this.aborted.push(text);
        reject(new Error('aborted'));
      });
    });
  }
}

function setup(tts: ScriptedTts) {
  const twilio = new SilentTwilio();
  const clock = new TurnClock();
  const logged: string[] = [];
  const speaker = new Speaker({
    playout: new Playout(twilio, { leadMs: 10_000 }),
    tts,
    clock,
    callSid: 'CA-speaker',
    log: (msg) => logged.push(msg),
  });
  return { twilio, clock, speaker, logged };
}

const heardNow = () => {
  const at = performance.now();
  return { lastVoicedAt: at, endpointedAt: at, recognizedAt: at, repliedAt: at };
};

describe('speaker: the one output queue', () => {
  it('plays streamed sentences and the reply in the order said, not in synthesis order', async () => {
    const { twilio, speaker } = setup(new ScriptedTts({ 'a slow one': 60, 'b quick': 1 }));
    const line = speaker.open(1, { timed: true });
    await line.say('a slow one'); // resolves once queued, long before it is synthesized
    assert.deepEqual(twilio.texts(), []);
    const reply = speaker.open(1, { timed: true });
    assert.equal(await reply.speak('b quick'), 'played');
    assert.deepEqual(twilio.texts(), ['a', 'b']);
  });

  it('a barge-in cancels the current output through its signal: syntheses aborted, nothing more played', async () => {
    const tts = new ScriptedTts({ one: 1, two: 200, three: 1 });
    const { twilio, speaker } = setup(tts);
    const output = speaker.open(4, { timed: true });
    assert.equal(await output.speak('one'), 'played');
    const two = output.speak('two');
    const cut = speaker.interrupt();
    assert.deepEqual(cut, { turnId: 4, heardMs: 0 });
    assert.equal(output.signal.aborted, true);
    assert.equal(await two, 'cancelled');
    assert.deepEqual(tts.aborted, ['two']);
    assert.equal(await output.speak('three'), 'cancelled');
    assert.equal(twilio.clears, 1);
    assert.deepEqual(twilio.texts(), ['o']);
    assert.equal(speaker.isSpeaking, false);
  });

  it('a pause stops the audio and keeps the output; resume plays the rest, syntheses not aborted', async () => {
    const tts = new ScriptedTts({ one: 1, two: 100 });
    const { twilio, speaker } = setup(tts);
    const output = speaker.open(5, { timed: true });
    assert.equal(await output.speak('one'), 'played');
    const two = output.speak('two');
    const paused = speaker.pause();
    assert.deepEqual(paused, { turnId: 5, heardMs: 0, questionAsked: false });
    assert.equal(twilio.clears, 1);
    assert.equal(output.signal.aborted, false);
    assert.equal(await two, 'played', 'synthesized and queued while paused');
    assert.deepEqual(twilio.texts(), ['o'], 'nothing sent while paused');
    speaker.resume();
    // The first sentence from its start (no mark of it had come back), then the second.
    assert.deepEqual(twilio.texts(), ['o', 'o', 't']);
    assert.deepEqual(tts.aborted, []);
  });

  it('a pause says whether a sentence that asks a question had started playing', async () => {
    const { speaker } = setup(new ScriptedTts());
    const output = speaker.open(6, { timed: false });
    await output.speak('Your balance is 42 dollars.');
    await output.speak('Shall I pay it now?');
    // Nothing echoed (SilentTwilio): the caller is still on the first sentence.
    assert.equal(speaker.pause()?.questionAsked, false);
    speaker.resume();
    assert.equal(speaker.interrupt()?.turnId, 6);

    const asked = speaker.open(7, { timed: false });
    await asked.speak('Shall I pay it now?');
    await asked.speak('Please say yes or no.');
    assert.equal(speaker.pause()?.questionAsked, true);
    speaker.interrupt();
    assert.equal(speaker.pause(), undefined, 'nothing playing: nothing to pause');
  });

  it('a sentence that cannot be synthesized fails alone; the next one plays', async () => {
    const { twilio, speaker, logged } = setup(new ScriptedTts({}, { failing: ['x broken'] }));
    const output = speaker.open(2, { timed: false });
    assert.equal(await output.speak('x broken'), 'failed');
    assert.equal(await output.speak('y fine'), 'played');
    assert.deepEqual(twilio.texts(), ['y']);
    assert.deepEqual(logged, ['could not speak a sentence']);
  });

  it('an output opened after the call ended is cancelled from the start', async () => {
    const { twilio, speaker } = setup(new ScriptedTts());
    speaker.end();
    const output = speaker.open(3, { timed: true });
    assert.equal(output.signal.aborted, true);
    assert.equal(await output.speak('late'), 'cancelled');
    assert.deepEqual(twilio.texts(), []);
  });

  it('a timed output reports its first audio and bills what was not cached; an untimed one does not', async () => {
    const { speaker, clock } = setup(new ScriptedTts({}, { cached: ['shared prompt'] }));
    const timed = speaker.open(5, { timed: true });
    await timed.speak('hello there');
    await timed.speak('shared prompt');
    const untimed = speaker.open(6, { timed: false });
    await untimed.speak('a re-prompt');
    clock.heard(5, heardNow());
    clock.heard(6, heardNow());
    const report = clock.report(5);
    assert.equal(report?.ttsProvider, 'scripted');
    assert.equal(report?.ttsCharacters, 'hello there'.length);
    assert.equal(report?.cacheHit, false);
    assert.equal(clock.report(6), undefined, 'nothing of the untimed turn was recorded');
  });

  it('a line made ready ahead is synthesized once per call, plays nothing, and is billed to the turn that made it', async () => {
    const tts = new ScriptedTts({}, { failing: ['Your bill is due.'] });
    const { speaker, twilio, clock } = setup(tts);
    const greeting = speaker.open(0, { timed: true });
    await greeting.speak('Hello.');
    await greeting.prepare(`Your balance is 5 dollars. ${PROMPTS.anythingElse} Your bill is due.`);
    await speaker.open(1, { timed: true }).prepare('Your balance is 5 dollars. Your bill is due.');
    // The fixed prompt is never prepared; the failed sentence is tried again by the next turn.
    assert.deepEqual(tts.asked, ['Hello.', 'Your balance is 5 dollars.', 'Your bill is due.', 'Your bill is due.']); // prettier-ignore
    assert.deepEqual(twilio.texts(), ['H'], 'only what was said played');
    clock.heard(0, heardNow());
    assert.equal(clock.report(0)?.ttsCharacters, 'Hello.Your balance is 5 dollars.'.length);
  });

  it('a line no link can say plays the apology once per output, and the turn owes an SMS', async () => {
    const tts = new ScriptedTts({}, { unsayable: ['x1', 'x2'], pieces: ['p'] });
    const { speaker, clock, twilio, logged } = setup(tts);
    const out = speaker.open(7, { timed: true });
    for (const text of ['a', 'x1', 'p', 'x2', 'b']) assert.equal(await out.speak(text), 'played');
    assert.deepEqual(twilio.texts(), ['a', '!', 'p', 'b'], 'one apology, nothing silent');
    assert.equal(logged.filter((m) => /owed by SMS/.test(m)).length, 2);
    clock.heard(7, heardNow());
    const report = clock.report(7);
    assert.equal(report?.spokenAs, 'apology', 'an apology outweighs pieces');
    assert.equal(report?.smsFollowUp, true);

    const next = speaker.open(8, { timed: true });
    await next.speak('p');
    await next.speak('x1');
    assert.equal(twilio.texts().at(-1), '!', 'the next output apologises again');
  });

  it('a turn said from pieces reports it, with no SMS owed', async () => {
    const { speaker, clock } = setup(new ScriptedTts({}, { pieces: ['p'] }));
    const out = speaker.open(9, { timed: true });
    await out.speak('p');
    clock.heard(9, heardNow());
    const report = clock.report(9);
    assert.equal(report?.spokenAs, 'pieces');
    assert.equal(report?.smsFollowUp, undefined);
  });
});
