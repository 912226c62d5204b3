// A call session's barge-in with false interruptions on: the reply pauses at the bound, the
// caller's sound is judged when it ends, and the reply resumes (no turn, no signal) or is
// cut as before. Also what else the session weighs the caller's voice for: re-prompts not
// said over the caller, and a closed answer whose words explain too little of the voice. Caller frames, recognition and the workflow are scripted; the session,
// listener, endpointer, speaker and playout are the real ones, paced in real time.
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import type { BargeIn, Reply } from '../../contracts/call';
import type { CallBridge } from '../../media-edge/call/bridge';
import type { FalseInterruptionOptions } from '../../media-edge/call/false-interruption';
import type { Recognition, UtteranceRecognizer } from '../../media-edge/call/listener';
import type { TranscribeOptions } from '../../providers/stt/port';
import { CallRecorder } from '../../media-edge/call/recorder';
import { CallSession, type CallStream } from '../../media-edge/call/session';
import { eventually } from '../../testing/eventually';

const REPLY_FRAMES = 100; // 2 s of agent audio per sentence
const LOUD = 0x00; // μ-law: full scale
const QUIET = 0xff; // μ-law: silence

/** Twilio's end: takes the agent's audio, echoes each mark at once, counts clears. */
class FakeStream extends EventEmitter implements CallStream {
  readonly callSid = 'CA-false-interruption';
  readonly streamSid = 'MZ-false-interruption';
  isOpen = true;
  agentFrames = 0;
  clears = 0;
  sendAudio(): boolean {
    this.agentFrames += 1;
    return true;
  }
  sendMark(name: string): boolean {
    setImmediate(() => this.emit('mark', name));
    return true;
  }
  clear(): boolean {
    this.clears += 1;
    return true;
  }
  close(): void {
    this.isOpen = false;
    this.emit('close');
  }
  /** The caller: `loud` frames of voiceless noise (loud from its first sample) then silence. */
  noise(loud: number, quiet = 0): void {
    let x = 2463534242;
    for (let i = 0; i < loud; i++) {
      const frame = Buffer.alloc(160, LOUD);
      for (let j = 1; j < 160; j++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        frame[j] = x & 0xff;
      }
      this.emit('audio', frame);
    }
    this.caller(0, quiet);
  }
  /** The caller: `loud` frames of sound (a steady level: periodic, so voiced) then silence, sent at once. */
  caller(loud: number, quiet = 0): void {
    for (let i = 0; i < loud; i++) this.emit('audio', Buffer.alloc(160, LOUD));
    for (let i = 0; i < quiet; i++) this.emit('audio', Buffer.alloc(160, QUIET));
  }
}

class ScriptedBridge {
  readonly bargeIns: BargeIn[] = [];
  readonly turns: string[] = [];
  readonly confidences: number[] = [];
  constructor(
    private readonly greeting: string,
    private readonly expectsAnswer = false,
  ) {}
  streamStarted(): Promise<Reply> {
    return Promise.resolve({
      turnId: 0,
      text: this.greeting,
      action: 'continue',
      ...(this.expectsAnswer && { expectsAnswer: true, hints: ['yes', 'no', 'sure'] }),
    });
  }
  utterance(text: string, confidence: number): Promise<Reply> {
    this.turns.push(text);
    this.confidences.push(confidence);
    return Promise.resolve({ turnId: this.turns.length, text: 'Sure.', action: 'continue' });
  }
  bargeIn(cut: BargeIn): Promise<void> {
    this.bargeIns.push(cut);
    return Promise.resolve();
  }
  turnTiming(): Promise<void> {
    return Promise.resolve();
  }
}

interface Setup {
  greeting?: string;
  /** What the recognizer makes of the caller's sound; never settles when undefined. */
  heard?: Partial<Recognition>;
  falseInterruption?: FalseInterruptionOptions | false;
  /** The greeting asks a yes/no question. */
  expectsAnswer?: boolean;
  closedAnswerMsPerSyllable?: number;
}

const BOUNDS: FalseInterruptionOptions = {
  maxSpeechMs: 1000,
  waitMs: 1500,
  minConfidence: 0.3,
  minVoicedMs: 100,
};

async function callWith(opts: Setup) {
  const stream = new FakeStream();
  const greeting = opts.greeting ?? 'Your balance is ten dollars. Your bill is due on Friday.';
  const bridge = new ScriptedBridge(greeting, opts.expectsAnswer);
  const logs: string[] = [];
  const asked: TranscribeOptions[] = [];
  const recognizer = (a: TranscribeOptions): UtteranceRecognizer => {
    asked.push(a);
    return {
      write: () => undefined,
      abort: () => undefined,
      finish: () =>
        opts.heard
          ? Promise.resolve({
              text: '',
              confidence: 0.9,
              record: { servedBy: 'scripted', attempts: [] },
              ...opts.heard,
            })
          : new Promise(() => undefined),
    };
  };
  const session = new CallSession(
    stream,
    {
      bridge: bridge as unknown as CallBridge,
      vad: { isSpeech: (pcm) => Math.abs(pcm[0]!) > 1000, close: () => undefined },
      recognizer,
      tts: {
        synthesize: () =>
          Promise.resolve({
            mulaw: Buffer.alloc(REPLY_FRAMES * 160, 0x2a),
            cacheHit: false,
            servedBy: 'scripted',
          }),
      },
      recorder: new CallRecorder(),
      recordings: { keep: () => Promise.resolve() },
      track: () => undefined,
      log: (msg) => logs.push(msg),
    },
    {
      bargeInMinMs: 300,
      endpointing: { hangoverMs: 200, minSpeechMs: 100 },
      ...(opts.closedAnswerMsPerSyllable && {
        closedAnswerMsPerSyllable: opts.closedAnswerMsPerSyllable,
      }),
      ...(opts.falseInterruption !== false && {
        falseInterruption: opts.falseInterruption ?? BOUNDS,
      }),
    },
  );
  void session.start('edge-queue');
  // The caller speaks 1 s into the greeting.
  await eventually('the greeting playing', () => stream.agentFrames >= 50);
  const sentences = greeting.split(/(?<=[.?!])\s+/).length;
  return { stream, bridge, logs, asked, session, total: sentences * REPLY_FRAMES };
}

/** The greeting played out: the agent is quiet, the caller has the floor. */
async function quietCall(opts: Setup) {
  const call = await callWith(opts);
  await eventually('the greeting played', () => call.stream.agentFrames >= call.total);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return call;
}

describe('edge: false interruptions (a backchannel or a noise does not cut the agent)', function () {
  this.timeout(20_000);

  it('"uh huh" over the reply: paused at the bound, then resumed to its end; no signal, no turn', async () => {
    const { stream, bridge, logs, asked, session, total } = await callWith({
      heard: { text: 'uh huh' },
    });
    stream.caller(20, 20); // 400 ms of sound, then the endpointer's hangover
    assert.equal(stream.clears, 1, 'the agent stopped at the bound');
    await eventually('the reply resumed to its end', () => stream.agentFrames >= total);
    assert.deepEqual(bridge.bargeIns, []);
    assert.deepEqual(bridge.turns, []);
    assert.ok(logs.includes('utterance dropped: backchannel over the agent'), logs.join('\n'));
    assert.ok(logs.includes('reply resumed'));
    // Resumed from the start of the chunk not heard: at most a chunk and the lead again.
    assert.ok(stream.agentFrames <= total + 15, `${stream.agentFrames} frames of ${total}`);
    assert.ok(
      asked[0]?.hints?.includes('uh huh'),
      'the backchannels were hints while the agent spoke',
    );
    assert.equal(asked[0]?.overAgent, true, 'asked of the recognizer as begun over the agent');
    stream.close();
    void session;
  });

  /** The sound was dropped as a noise: the reply played to its end, no signal, no turn. */
  async function resumedAsNoise(call: Awaited<ReturnType<typeof callWith>>): Promise<void> {
    const { stream, bridge, logs, total } = call;
    await eventually('the reply resumed to its end', () => stream.agentFrames >= total);
    assert.deepEqual(bridge.bargeIns, []);
    assert.deepEqual(bridge.turns, []);
    assert.ok(logs.includes('utterance dropped: noise over the agent'), logs.join('\n'));
    stream.close();
  }

  it('a noise (nothing recognized) resumes the reply likewise', async () => {
    const call = await callWith({ heard: { text: '' } });
    call.stream.caller(20, 20);
    await resumedAsNoise(call);
  });

  it('a sound without a voice is noise whatever the recognizer heard in it', async () => {
    const call = await callWith({ heard: { text: 'that' } });
    call.stream.noise(20, 20);
    assert.equal(call.stream.clears, 1, 'the agent stopped at the bound');
    await resumedAsNoise(call);
  });

  it('with the voicing floor off, the same sound heard as "that" is a turn', async () => {
    const { stream, bridge } = await callWith({
      heard: { text: 'that' },
      falseInterruption: { ...BOUNDS, minVoicedMs: 0 },
    });
    stream.noise(20, 20);
    await eventually('the turn', () => bridge.turns.length === 1);
    assert.equal(bridge.bargeIns.length, 1);
    stream.close();
  });

  it('words the recognizer is unsure of are noise too', async () => {
    const { stream, bridge, total } = await callWith({
      heard: { text: 'pay my bill', confidence: 0.1 },
    });
    stream.caller(20, 20);
    await eventually('the reply resumed to its end', () => stream.agentFrames >= total);
    assert.deepEqual(bridge.turns, []);
    stream.close();
  });

  it('no recognizer could serve (all down): committed, the empty turn goes to the workflow', async () => {
    const { stream, bridge } = await callWith({
      heard: { text: '', confidence: 0, record: { attempts: [] } },
    });
    stream.caller(20, 20);
    await eventually('the turn', () => bridge.turns.length === 1);
    assert.equal(bridge.bargeIns.length, 1);
    assert.deepEqual(bridge.turns, ['']);
    stream.close();
  });

  it('"no wait, I want to pay my bill": committed as today — cut, signal, turn', async () => {
    const { stream, bridge, logs } = await callWith({
      heard: { text: 'no wait i want to pay my bill' },
    });
    stream.caller(20, 20);
    await eventually('the turn', () => bridge.turns.length === 1);
    assert.equal(bridge.bargeIns.length, 1);
    assert.equal(bridge.bargeIns[0]!.turnId, 0);
    assert.ok(bridge.bargeIns[0]!.heardMs > 0 && bridge.bargeIns[0]!.heardMs < 2000);
    assert.deepEqual(bridge.turns, ['no wait i want to pay my bill']);
    assert.ok(logs.some((l) => l === 'barge-in committed'));
    stream.close();
  });

  it('"yeah" once the reply has asked a question is the answer: committed', async () => {
    const { stream, bridge } = await callWith({
      greeting: 'Shall I pay it now? Please say yes or no.',
      heard: { text: 'yeah' },
    });
    stream.caller(20, 20);
    await eventually('the turn', () => bridge.turns.length === 1);
    assert.equal(bridge.bargeIns.length, 1);
    assert.deepEqual(bridge.turns, ['yeah']);
    stream.close();
  });

  it('a caller who keeps talking past the bound commits before the utterance ends', async () => {
    const { stream, bridge, logs } = await callWith({ heard: { text: 'uh huh' } });
    stream.caller(60); // 1.2 s of sound, still talking
    assert.equal(bridge.bargeIns.length, 1, 'committed without waiting for recognition');
    stream.caller(0, 20);
    await eventually('the turn', () => bridge.turns.length === 1);
    assert.ok(!logs.includes('reply resumed'), 'never resumed');
    stream.close();
  });

  it('a verdict reached while the caller speaks again keeps the reply paused for the next sound', async () => {
    const { stream, bridge, logs, total } = await callWith({ heard: { text: 'uh huh' } });
    stream.caller(20, 12); // the first sound ends…
    stream.caller(10); // …and the caller goes on before its verdict is in
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(logs.includes('utterance dropped: backchannel over the agent'), logs.join('\n'));
    assert.ok(!logs.includes('reply resumed'), 'not resumed over the caller');
    stream.caller(0, 12);
    await eventually('the reply resumed to its end', () => stream.agentFrames >= total);
    assert.deepEqual(bridge.bargeIns, []);
    assert.deepEqual(bridge.turns, []);
    stream.close();
  });

  it('no verdict within the wait: committed, and the reply never resumes', async () => {
    const { stream, bridge, logs } = await callWith({}); // the recognizer never answers
    stream.caller(20, 20);
    const frames = stream.agentFrames;
    await eventually('the commit', () => bridge.bargeIns.length === 1);
    assert.ok(logs.includes('barge-in committed'));
    assert.equal(stream.agentFrames, frames);
    stream.close();
  });

  it('switched off: the reply is cut at the bound and the sound is a turn, as before', async () => {
    const { stream, bridge } = await callWith({
      heard: { text: 'uh huh' },
      falseInterruption: false,
    });
    stream.caller(20);
    assert.equal(bridge.bargeIns.length, 1, 'signalled at the bound');
    stream.caller(0, 20);
    await eventually('the turn', () => bridge.turns.length === 1);
    stream.close();
  });
});

describe('edge: a re-prompt never talks over the caller', function () {
  this.timeout(20_000);
  const PROMPT = 'Are you still there? How can I help you?';
  const REPROMPT = { unlessCallerSpeaks: true };

  const hello = (heard?: Partial<Recognition>) =>
    quietCall({ greeting: 'Hello.', ...(heard && { heard }) });

  it('the caller speaking: not said (false, logged); once the turn is answered it is', async () => {
    const { stream, bridge, logs, session } = await hello({ text: "what's my balance" });
    stream.caller(20); // speaking, the utterance still open
    const frames = stream.agentFrames;
    assert.equal(await session.say(PROMPT, REPROMPT), false);
    assert.equal(stream.agentFrames, frames, 'nothing played');
    assert.ok(logs.includes('re-prompt not said: the caller is speaking'), logs.join('\n'));
    stream.caller(0, 20);
    await eventually('the turn answered', () => bridge.turns.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await session.say(PROMPT, REPROMPT), true);
    assert.ok(stream.agentFrames > frames + REPLY_FRAMES, 'the reply and the prompt played');
    stream.close();
  });

  it('a turn on its way to the workflow (still being recognized): not said', async () => {
    const { stream, bridge, session } = await hello(); // the recognizer never answers
    stream.caller(20, 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(bridge.turns, []);
    assert.equal(await session.say(PROMPT, REPROMPT), false);
    stream.close();
  });

  it('any other line (a closing line, a hold line) is said over the caller all the same', async () => {
    const { stream, session } = await hello();
    stream.caller(20);
    const frames = stream.agentFrames;
    assert.equal(await session.say('Goodbye.'), true);
    assert.ok(stream.agentFrames > frames);
    stream.close();
  });
});

describe('edge: an answer whose words explain too little of the voice', function () {
  this.timeout(20_000);

  /** "sure" (one syllable) heard in 800 ms of voice, after the greeting played out. */
  async function answer(opts: { expectsAnswer: boolean; closedAnswerMsPerSyllable?: number }) {
    const call = await quietCall({
      greeting: 'Shall I pay it now?',
      heard: { text: 'sure', confidence: 0.9 },
      ...opts,
    });
    call.stream.caller(40, 20);
    await eventually('the turn', () => call.bridge.turns.length === 1);
    call.stream.close();
    return { confidence: call.bridge.confidences[0]!, logs: call.logs };
  }

  it('the answer to a yes/no question is doubted: its confidence scaled by what the words explain', async () => {
    const { confidence, logs } = await answer({
      expectsAnswer: true,
      closedAnswerMsPerSyllable: 300,
    });
    // 1 syllable × 300 ms of ≈ 800 ms voiced (the pre-roll's frames may add a few).
    assert.ok(confidence > 0.25 && confidence < 0.4, `${confidence}`);
    assert.ok(logs.includes('answer doubted: its words explain too little of the voice'));
  });

  it('not after an open question, and not with the check off', async () => {
    assert.equal((await answer({ expectsAnswer: false, closedAnswerMsPerSyllable: 300 })).confidence, 0.9); // prettier-ignore
    assert.equal((await answer({ expectsAnswer: true })).confidence, 0.9);
  });
});
