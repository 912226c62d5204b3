// No silence while a turn's reply is slow: a CallSession on the real Media Streams plugin over
// a real socket (Twilio played by a `ws` client that echoes every mark, as Twilio does once the
// audio before it has played), with a scripted bridge whose reply comes when the test says.
// The hold lines are identified in the `media` messages sent by their prerecorded bytes
// (assets/prompts); the reply is the scripted synthesizer's, filled with one byte.
// The hold loop alone (hang-up, overlapping waits) is driven with a recording playout.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import twilio from 'twilio';
import WebSocket from 'ws';
import { mulawToPcm } from '../../audio/mulaw';
import { decodeWav } from '../../audio/wav';
import type { Reply, TurnTimingReport } from '../../contracts/call';
import { loadEdgeConfig } from '../../media-edge/config';
import type { CallBridge } from '../../media-edge/call/bridge';
import { HoldLine } from '../../media-edge/call/hold-line';
import type { UtteranceRecognizer } from '../../media-edge/call/listener';
import type { PlaybackHandle } from '../../media-edge/call/playout';
import { CallRecorder } from '../../media-edge/call/recorder';
import { CallSession } from '../../media-edge/call/session';
import type { EdgeTurnTiming } from '../../media-edge/call/turn-clock';
import { mediaStreamV1, type MediaStreamSession } from '../../media-edge/twilio/media-stream';
import { parseOutbound, rawToString } from '../../media-edge/twilio/media-stream-protocol';
import { issueStreamToken } from '../../media-edge/twilio/stream-token';
import { V1_PREFIX } from '../../media-edge/twilio/webhooks-v1';
import {
  HOLD_LINE,
  PROMPTS_DIR,
  PROMPTS_INDEX,
  STILL_HOLDING,
  type PromptIndex,
} from '../../providers/tts/prerecorded';

const AUTH_TOKEN = 'hold-line-test-auth-token-5d4c3b2a19';
const SECRET = 'hold-line-token-secret-for-tests-0123456789';
const SIGNED_URL = 'wss://edge.example.com/v1/calls/stream';
const AFTER_MS = 300;
const REPLY_BYTE = 0x2a;
const REPLY: Reply = { turnId: 1, text: 'Your balance is ten dollars.', action: 'continue' };

const pcmBytes = (pcm: Int16Array) => Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A prompt's shipped audio, whole 20 ms frames of it (playout pads the last one). */
function promptAudio(text: string): Buffer {
  const index = JSON.parse(
    readFileSync(path.join(PROMPTS_DIR, PROMPTS_INDEX), 'utf8'),
  ) as PromptIndex;
  const audio = readFileSync(path.join(PROMPTS_DIR, index.prompts[text]!));
  return audio.subarray(0, audio.length - (audio.length % 160));
}
const HOLD_AUDIO = promptAudio(HOLD_LINE);
const STILL_AUDIO = promptAudio(STILL_HOLDING);
const REPLY_AUDIO = Buffer.alloc(1600, REPLY_BYTE);

/** The workflow's side: each turn's reply comes when the test resolves it. */
class ScriptedBridge {
  readonly bargeIns: unknown[] = [];
  readonly timings: TurnTimingReport[] = [];
  private resolveReply?: (reply: Reply) => void;
  private rejectReply?: (err: Error) => void;
  sent = 0;
  utterance(): Promise<Reply> {
    this.sent++;
    return new Promise((resolve, reject) => {
      this.resolveReply = resolve;
      this.rejectReply = reject;
    });
  }
  dtmf(): Promise<Reply> {
    return this.utterance();
  }
  reply(reply: Reply = REPLY): void {
    this.resolveReply!(reply);
  }
  /** The update fails, as when the workflow completed while it was in flight. */
  fail(message: string): void {
    this.rejectReply!(new Error(message));
  }
  bargeIn(cut: unknown): Promise<void> {
    this.bargeIns.push(cut);
    return Promise.resolve();
  }
  turnTiming(timing: TurnTimingReport): Promise<void> {
    this.timings.push(timing);
    return Promise.resolve();
  }
}

const recognizer = (): UtteranceRecognizer => ({
  write: () => undefined,
  finish: () =>
    Promise.resolve({ text: "what's my balance", confidence: 1, record: { attempts: [] } }),
  abort: () => undefined,
});

interface Call {
  bridge: ScriptedBridge;
  twilio: TwilioPeer;
  logs: string[];
  timings: EdgeTurnTiming[];
  recorder: CallRecorder;
  session?: CallSession;
}

/** Twilio's end of the stream: collects the agent's audio and clears, echoes every mark. */
class TwilioPeer {
  readonly audio: Buffer[] = [];
  readonly events: string[] = [];
  private seq = 0;
  readonly streamSid = `MZ${randomBytes(16).toString('hex')}`;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const parsed = parseOutbound(rawToString(data));
      assert.ok(parsed.ok);
      const msg = parsed.msg;
      this.events.push(msg.event);
      if (msg.event === 'media') this.audio.push(Buffer.from(msg.media.payload));
      if (msg.event === 'mark')
        this.send({
          event: 'mark',
          streamSid: this.streamSid,
          sequenceNumber: String(++this.seq),
          mark: msg.mark,
        });
    });
  }
  /** Everything the agent said, in order. */
  get said(): Buffer {
    return Buffer.concat(this.audio);
  }
  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }
  start(callSid: string): void {
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.send({
      event: 'start',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      start: {
        streamSid: this.streamSid,
        accountSid: `AC${randomBytes(16).toString('hex')}`,
        callSid,
        tracks: ['inbound'],
        customParameters: { token: issueStreamToken(SECRET, callSid, 60_000), callSid },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
  }
  /** Caller audio: loud frames (μ-law 0x00) or quiet ones (0xff). */
  frames(n: number, loud: boolean): void {
    for (let i = 0; i < n; i++) {
      this.send({
        event: 'media',
        sequenceNumber: String(++this.seq),
        streamSid: this.streamSid,
        media: {
          track: 'inbound',
          chunk: String(this.seq),
          timestamp: String(this.seq * 20),
          payload: Buffer.alloc(160, loud ? 0x00 : 0xff).toString('base64'),
        },
      });
    }
  }
  /** The caller says something and stops: one utterance. */
  speak(): void {
    this.frames(15, true);
    this.frames(40, false);
  }
}

describe('edge: the hold line while a turn is slow', function () {
  let app: FastifyInstance;
  let port: number;
  const calls = new Map<string, Call>();
  let holdOptions = { afterMs: AFTER_MS, everyMs: 8000 };
  /** The edge hands transfers to the agent desk (HANDOFF_TARGET=desk). */
  let transfersToDesk = false;

  before(async () => {
    const config = loadEdgeConfig({
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      EDGE_PUBLIC_URL: 'https://edge.example.com',
      STREAM_TOKEN_SECRET: SECRET,
    });
    app = Fastify();
    await app.register(mediaStreamV1, {
      prefix: V1_PREFIX,
      config,
      onStream: (stream: MediaStreamSession) => {
        const call = calls.get(stream.callSid)!;
        call.session = new CallSession(
          stream,
          {
            bridge: call.bridge as unknown as CallBridge,
            vad: { isSpeech: (pcm) => Math.abs(pcm[0]!) > 1000, close: () => undefined },
            recognizer,
            tts: {
              synthesize: (text) =>
                Promise.resolve({
                  mulaw: Buffer.from(REPLY_AUDIO),
                  cacheHit: false,
                  servedBy: `scripted:${text.length}`,
                }),
            },
            recorder: call.recorder,
            recordings: { keep: () => Promise.resolve() },
            track: () => undefined,
            onTiming: (t) => call.timings.push(t),
            log: (msg) => call.logs.push(msg),
          },
          { hold: holdOptions, bargeInMinMs: 200, transfersToDesk },
        );
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });

  after(async () => {
    await app.close();
  });

  async function placeCall(): Promise<Call> {
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/calls/stream`, {
      headers: {
        'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, SIGNED_URL, {}),
      },
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const call: Call = {
      recorder: new CallRecorder(),
      bridge: new ScriptedBridge(),
      twilio: new TwilioPeer(ws),
      logs: [],
      timings: [],
    };
    calls.set(callSid, call);
    call.twilio.start(callSid);
    await waitFor('the session', () => call.session !== undefined);
    return call;
  }

  const hangUp = (call: Call) => call.twilio.ws.close();

  it('a reply 2.5× the bound late: the hold line plays first, then the reply; the turn is timed to the reply', async () => {
    holdOptions = { afterMs: AFTER_MS, everyMs: 8000 };
    const call = await placeCall();
    call.twilio.speak();
    await waitFor('the turn sent', () => call.bridge.sent === 1);
    await sleep(AFTER_MS * 2.5);
    call.bridge.reply();
    await waitFor('the reply played', () => call.twilio.said.includes(REPLY_AUDIO));
    const said = call.twilio.said;
    const hold = said.indexOf(HOLD_AUDIO);
    assert.ok(hold >= 0, 'the hold line was sent whole');
    assert.ok(said.indexOf(REPLY_AUDIO) >= hold + HOLD_AUDIO.length, 'the reply after it');
    assert.equal(said.indexOf(STILL_AUDIO), -1);

    await waitFor('the turn timing', () => call.bridge.timings.length === 1);
    const [timing] = call.bridge.timings;
    // The workflow gets the contract's fields only; the hold is the edge's (logged).
    assert.equal('held' in timing!, false);
    assert.equal(call.timings[0]!.held?.lines, 1);
    assert.ok(call.logs.includes('turn held'));
    // Voice to voice runs to the reply's audio, not the hold line's: it spans the whole wait.
    assert.ok(timing!.orchestrationMs >= AFTER_MS * 2.5);
    assert.deepEqual(call.bridge.bargeIns, []);
    // The recording's agent channel has the hold line, as the caller heard it.
    const agent = decodeWav(call.recorder.toWav()).channels[1]!;
    assert.ok(pcmBytes(agent).includes(pcmBytes(mulawToPcm(HOLD_AUDIO))));
    hangUp(call);
  });

  it('a longer wait: "thanks for holding" follows the first line, then the reply', async () => {
    holdOptions = { afterMs: AFTER_MS, everyMs: 1800 };
    const call = await placeCall();
    call.twilio.speak();
    await waitFor('the turn sent', () => call.bridge.sent === 1);
    await waitFor('the second line', () =>
      call.twilio.said.includes(STILL_AUDIO.subarray(0, 3200)),
    );
    call.bridge.reply();
    await waitFor('the reply played', () => call.twilio.said.includes(REPLY_AUDIO));
    const said = call.twilio.said;
    assert.ok(said.indexOf(HOLD_AUDIO) < said.indexOf(STILL_AUDIO));
    assert.ok(said.indexOf(REPLY_AUDIO) >= said.indexOf(STILL_AUDIO) + STILL_AUDIO.length);
    await waitFor('the turn timing', () => call.timings.length === 1);
    assert.equal(call.timings[0]!.held?.lines, 2);
    hangUp(call);
  });

  it('a keypad entry whose reply is late: the hold line, then the reply', async () => {
    holdOptions = { afterMs: AFTER_MS, everyMs: 8000 };
    const call = await placeCall();
    for (const digit of ['1', '#'])
      call.twilio.send({
        event: 'dtmf',
        streamSid: call.twilio.streamSid,
        sequenceNumber: '100',
        dtmf: { track: 'inbound_track', digit },
      });
    await waitFor('the entry sent', () => call.bridge.sent === 1);
    await waitFor('the hold line', () => call.twilio.said.includes(HOLD_AUDIO));
    call.bridge.reply();
    await waitFor('the reply played', () => call.twilio.said.includes(REPLY_AUDIO));
    assert.ok(call.twilio.said.indexOf(REPLY_AUDIO) > call.twilio.said.indexOf(HOLD_AUDIO));
    assert.ok(call.logs.includes('turn held'));
    hangUp(call);
  });

  it('a call transferred to the agent desk: the line stays open, turns go on, no hold line while a human has it', async () => {
    holdOptions = { afterMs: AFTER_MS, everyMs: 1000 };
    transfersToDesk = true;
    const call = await placeCall();
    transfersToDesk = false;
    call.twilio.speak();
    await waitFor('the turn sent', () => call.bridge.sent === 1);
    call.bridge.reply({ turnId: 1, text: 'Connecting you to an agent now.', action: 'transfer' });
    await waitFor('the transfer line played', () => call.twilio.said.includes(REPLY_AUDIO));
    // The caller talks to the agent: the turn still goes to the workflow, which says nothing.
    call.twilio.speak();
    await waitFor('the next turn sent', () => call.bridge.sent === 2);
    const before = call.twilio.said.length;
    await sleep(AFTER_MS * 2.5);
    call.bridge.reply({ turnId: 2, text: '', action: 'continue' });
    await sleep(100);
    assert.equal(call.twilio.said.indexOf(HOLD_AUDIO), -1, 'no hold line on the desk');
    assert.equal(call.twilio.said.length, before, 'nothing played for the empty reply');
    assert.equal(call.twilio.ws.readyState, WebSocket.OPEN, 'the edge kept the call');
    hangUp(call);
  });

  it('a reply within the bound: no hold line', async () => {
    holdOptions = { afterMs: AFTER_MS, everyMs: 8000 };
    const call = await placeCall();
    call.twilio.speak();
    await waitFor('the turn sent', () => call.bridge.sent === 1);
    call.bridge.reply();
    await waitFor('the reply played', () => call.twilio.said.includes(REPLY_AUDIO));
    await sleep(AFTER_MS * 3); // long past the bound: the loop is gone with the wait
    assert.equal(call.twilio.said.indexOf(HOLD_AUDIO.subarray(0, 1600)), -1);
    await waitFor('the turn timing', () => call.timings.length === 1);
    assert.equal(call.timings[0]!.held, undefined);
    hangUp(call);
  });

  it('a turn whose update fails (the workflow completed meanwhile): logged, the hold stops, the next turn is answered', async () => {
    holdOptions = { afterMs: AFTER_MS, everyMs: 1800 };
    const call = await placeCall();
    call.twilio.speak();
    await waitFor('the turn sent', () => call.bridge.sent === 1);
    await waitFor('the hold line', () => call.twilio.said.includes(HOLD_AUDIO.subarray(0, 1600)));
    call.bridge.fail('Workflow Update failed because the Workflow completed');
    await waitFor('the failure logged', () => call.logs.includes('turn not answered'));
    const heard = call.twilio.said.length;
    await sleep(2500); // past the next line's time: the loop ended with the failed wait
    assert.equal(call.twilio.said.indexOf(STILL_AUDIO.subarray(0, 1600)), -1);
    assert.ok(call.twilio.said.length - heard <= HOLD_AUDIO.length, 'no new line after it');
    call.twilio.speak();
    await waitFor('the next turn sent', () => call.bridge.sent === 2);
    call.bridge.reply();
    await waitFor('the reply played', () => call.twilio.said.includes(REPLY_AUDIO));
    hangUp(call);
  });

  it('a barge-in on the hold line cuts it (a clear) without telling the workflow; the reply still plays', async () => {
    holdOptions = { afterMs: AFTER_MS, everyMs: 8000 };
    const call = await placeCall();
    call.twilio.speak();
    await waitFor('the turn sent', () => call.bridge.sent === 1);
    await waitFor('the hold line playing', () =>
      call.twilio.said.includes(HOLD_AUDIO.subarray(0, 1600)),
    );
    call.twilio.frames(12, true); // 240 ms of caller speech: over the barge-in bound
    await waitFor('the clear', () => call.twilio.events.includes('clear'));
    assert.ok(call.logs.includes('barge-in on the hold line'));
    call.bridge.reply();
    await waitFor('the reply played', () => call.twilio.said.includes(REPLY_AUDIO));
    assert.equal(call.twilio.said.indexOf(HOLD_AUDIO), -1, 'the hold line was cut short');
    assert.deepEqual(call.bridge.bargeIns, []);
    hangUp(call);
  });
});

/** A playout that only records what it was asked to play (nothing ever finishes playing). */
class RecordingPlayout {
  readonly played: Buffer[] = [];
  interrupts = 0;
  isSpeaking = false;
  play(mulaw: Buffer): PlaybackHandle {
    this.played.push(mulaw);
    return { id: this.played.length, durationMs: 0, done: new Promise(() => undefined) };
  }
  interrupt() {
    this.interrupts++;
    return { cleared: true, playbacks: [] };
  }
}

describe('edge: the hold loop', () => {
  const never = () => new Promise<Reply>(() => undefined);

  it('a hang-up during the wait: no further hold line', async () => {
    const playout = new RecordingPlayout();
    const hold = new HoldLine({ playout, log: () => undefined }, { afterMs: 20, everyMs: 40 });
    void hold.over(never(), () => false);
    await waitFor('the first line', () => playout.played.length === 1);
    hold.end();
    await sleep(200);
    assert.equal(playout.played.length, 1);
  });

  it('two overlapping waits never run two loops: the newer one takes over', async () => {
    const playout = new RecordingPlayout();
    const hold = new HoldLine({ playout, log: () => undefined }, { afterMs: 20, everyMs: 60_000 });
    void hold.over(never(), () => false);
    void hold.over(never(), () => false);
    await waitFor('a line', () => playout.played.length > 0);
    await sleep(150);
    assert.equal(playout.played.length, 1); // two loops would have said two first lines
    hold.end();
  });

  it("the reply's own speech began (a streamed answer): no hold line from then on", async () => {
    const playout = new RecordingPlayout();
    const hold = new HoldLine({ playout, log: () => undefined }, { afterMs: 20, everyMs: 20 });
    let streaming = false;
    void hold.over(never(), () => streaming);
    await waitFor('the first line', () => playout.played.length === 1);
    streaming = true;
    assert.equal(hold.waiting, false);
    await sleep(150);
    assert.equal(playout.played.length, 1);
    hold.end();
  });
});
