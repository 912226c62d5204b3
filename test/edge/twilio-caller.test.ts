// The audio caller simulator against a minimal edge: the real webhooks (on a real Temporal dev
// server, no worker: the started workflow just records signals) and the real Media Streams
// plugin, whose onStream is a fake agent: it greets, answers each burst of caller speech (a
// plain energy detector, test-only) with a fixed reply sent at once with a mark every 100 ms,
// and clears when the caller speaks over it. Audio is real: caller lines from flite `kal`
// (the simulator's default), agent replies from flite `rms`, replies transcribed by pocketsphinx.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { defaultPayloadConverter } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTemporalBinaries } from '../../infra';
import { historyDataConverter } from '../../infra/payload-codec';
import { LocalTts } from '../../providers/tts/local';
import { loadEdgeConfig } from '../../media-edge/config';
import type { MediaStreamSession, StreamCloseInfo } from '../../media-edge/twilio/media-stream';
import { rms } from '../../audio/level';
import { mulawToPcm } from '../../audio/mulaw';
import { resample } from '../../audio/resample';
import { decodeWav, writeWav } from '../../audio/wav';
import { buildEdgeServer } from '../../media-edge/server';
import {
  SA_CALLER_NUMBER,
  SA_CUSTOMER_ID,
  SA_DISPOSITION,
  SA_LAST_INTENT,
  SA_TURN_COUNT,
} from '../../contracts/call';
import { CallerScriptError, describeItem, parseCallerScript } from '../../simulator/caller-script';
import {
  createAgentTranscriber,
  edgeStreamAddress,
  parseStreamTwiml,
  placeAudioCall,
  recordingWav,
  type AgentTranscriber,
  type AudioCallOptions,
  type AudioCallReport,
} from '../../simulator/twilio-caller';
import { decryptedHistory } from '../../testing/calls';

const AUTH_TOKEN = 'twilio-caller-test-auth-token-0a1b2c3d';
const SECRET = 'twilio-caller-stream-token-secret-0123456789';
const PUBLIC_URL = 'https://edge.example.com';
const NAMESPACE = 'switchboard';

const GREETING = 'Hello, thanks for calling. How can I help you today?';
const BALANCE = 'Your balance is forty two dollars and fifty cents.';
const CONFIRMED = 'Thank you, that is confirmed.';
const LONG =
  'Your bill of one hundred dollars is due on December twelve. Shall I pay it now with the card on file?';
const OKAY = 'Okay, I will not pay it.';

/** Caller speech as the test's detector sees it: frame RMS above this. */
const VOICED_RMS = 300;
/** Unvoiced frames that end an utterance (300 ms of audio). */
const HANGOVER_FRAMES = 15;
/** Voiced frames in a row that count as speech starting (barge-in). */
const ONSET_FRAMES = 3;
const MARK_EVERY_BYTES = 800; // 100 ms

interface SentMark {
  name: string;
  sentAt: number;
  /** Audio of this burst before the mark, ms. */
  audioBeforeMs: number;
}

interface FakeAgentPlan {
  greeting: Buffer;
  /** Reply n answers the n-th utterance or key press; the last one repeats. */
  replies: Buffer[];
  /** Clear when the caller speaks while marks are pending. */
  bargeIn?: boolean;
  /** Close the stream once this reply (0-based) has played (every mark echoed). */
  hangUpAfterReply?: number;
}

/** The edge's side of one call, recording everything with wall-clock times. */
class FakeAgent {
  readonly frames: { at: number; pcm: Int16Array; voiced: boolean }[] = [];
  readonly events: string[] = [];
  readonly bursts: { label: string; at: number; marks: SentMark[] }[] = [];
  readonly echoes = new Map<string, number>();
  readonly clears: { at: number; pending: string[] }[] = [];
  readonly utterances: { lastVoicedAt: number; repliedAt: number }[] = [];
  readonly dtmf: { digit: string; at: number }[] = [];
  close: StreamCloseInfo | undefined;
  private readonly pending = new Set<string>();
  private voicedRun = 0;
  private unvoicedRun = 0;
  private speaking = false;
  private lastVoicedAt = 0;
  private replies = 0;
  private hangUpMark: string | undefined;

  constructor(
    readonly session: MediaStreamSession,
    private readonly plan: FakeAgentPlan,
  ) {
    session.on('audio', (mulaw) => this.onFrame(mulaw));
    session.on('dtmf', (digit) => {
      this.events.push(`dtmf:${digit}`);
      this.dtmf.push({ digit, at: performance.now() });
      this.reply();
    });
    session.on('mark', (name) => {
      this.echoes.set(name, performance.now());
      this.pending.delete(name);
      if (name === this.hangUpMark && this.clears.length === 0) session.close('agent hung up');
    });
    session.on('stop', () => void this.events.push('stop'));
    session.on('close', (info) => {
      this.close = info;
      this.events.push('close');
    });
    this.burst('greeting', plan.greeting);
  }

  private onFrame(mulaw: Buffer): void {
    const now = performance.now();
    const pcm = mulawToPcm(mulaw);
    const voiced = rms(pcm) > VOICED_RMS;
    this.frames.push({ at: now, pcm, voiced });
    if (voiced) {
      this.voicedRun += 1;
      this.unvoicedRun = 0;
      this.lastVoicedAt = now;
      if (!this.speaking && this.voicedRun >= ONSET_FRAMES) {
        this.speaking = true;
        if (this.plan.bargeIn && this.pending.size > 0) {
          this.clears.push({ at: now, pending: [...this.pending] });
          this.session.clear();
        }
      }
      return;
    }
    this.voicedRun = 0;
    this.unvoicedRun += 1;
    if (this.speaking && this.unvoicedRun >= HANGOVER_FRAMES) {
      this.speaking = false;
      this.utterances.push({ lastVoicedAt: this.lastVoicedAt, repliedAt: now });
      this.reply();
    }
  }

  private reply(): void {
    const { replies } = this.plan;
    const n = this.replies++;
    const marks = this.burst(`reply${n}`, replies[Math.min(n, replies.length - 1)]!);
    if (n === this.plan.hangUpAfterReply) this.hangUpMark = marks.at(-1)!.name;
  }

  /** All of it at once, a mark after every 100 ms: Twilio buffers it and echoes as it plays. */
  private burst(label: string, audio: Buffer): SentMark[] {
    const at = performance.now();
    const marks: SentMark[] = [];
    for (let off = 0, k = 0; off < audio.length; off += MARK_EVERY_BYTES, k++) {
      const chunk = audio.subarray(off, off + MARK_EVERY_BYTES);
      assert.ok(this.session.sendAudio(chunk), 'the edge could send');
      const name = `${label}.${k}`;
      this.session.sendMark(name);
      this.pending.add(name);
      marks.push({ name, sentAt: performance.now(), audioBeforeMs: (off + chunk.length) / 8 });
    }
    this.bursts.push({ label, at, marks });
    return marks;
  }
}

const within = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual.toFixed(1)} is not within ±${tolerance} of ${expected.toFixed(1)}`,
  );

describe('caller simulator (Twilio side, real audio, real edge plugins)', function () {
  this.timeout(60_000);

  let env: TestWorkflowEnvironment;
  let app: FastifyInstance;
  let edgeUrl: string;
  let transcriber: AgentTranscriber & { dispose(): void };
  const agents = new Map<string, FakeAgent>();
  let plan: FakeAgentPlan;
  const audio: Record<string, Buffer> = {};
  const printed: string[] = [];

  const call = (o: Partial<AudioCallOptions> & Pick<AudioCallOptions, 'script'>) =>
    placeAudioCall({
      edgeUrl,
      publicUrl: PUBLIC_URL,
      authToken: AUTH_TOKEN,
      from: '+15550100001',
      to: '+15550009999',
      print: (l) => printed.push(l),
      ...o,
    });

  const statusSignals = async (report: AudioCallReport): Promise<unknown[]> => {
    const history = await decryptedHistory(env.client.workflow.getHandle(report.workflowId));
    return (history.events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes)
      .filter((a) => a?.signalName === 'callStatus')
      .map((a) => defaultPayloadConverter.fromPayload(a!.input!.payloads![0]!));
  };

  before(async () => {
    const tts = new LocalTts(); // the agent's voice: flite rms
    for (const [key, text] of Object.entries({ GREETING, BALANCE, CONFIRMED, LONG, OKAY })) {
      audio[key] = (await tts.synthesize(text)).mulaw;
    }
    transcriber = await createAgentTranscriber([GREETING, BALANCE, CONFIRMED, LONG, OKAY]);
    env = await TestWorkflowEnvironment.createLocal({
      client: { dataConverter: historyDataConverter() },
      server: {
        executable: { type: 'existing-path', path: (await ensureTemporalBinaries()).temporal },
        namespace: NAMESPACE,
        searchAttributes: [
          SA_CALLER_NUMBER,
          SA_CUSTOMER_ID,
          SA_LAST_INTENT,
          SA_DISPOSITION,
          SA_TURN_COUNT,
        ],
      },
    });
    const config = loadEdgeConfig({
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      EDGE_PUBLIC_URL: PUBLIC_URL,
      STREAM_TOKEN_SECRET: SECRET,
      TEMPORAL_NAMESPACE: NAMESPACE,
    });
    app = await buildEdgeServer({
      config,
      temporalClient: env.client,
      logger: pino({ level: 'silent' }),
      onStream: (session) => void agents.set(session.callSid, new FakeAgent(session, plan)),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    edgeUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  after(async () => {
    // SHOW_CALLS=1 prints what the simulator printed (its conversation view).
    if (process.env.SHOW_CALLS) console.log(printed.join('\n'));
    transcriber?.dispose();
    await app?.close();
    await env?.teardown();
  });

  it('calls at real-time pace: token in start, 160-byte frames every 20 ms, line noise, DTMF, stop, status callback, transcripts', async () => {
    plan = { greeting: audio.GREETING!, replies: [audio.BALANCE!, audio.CONFIRMED!] };
    const report = await call({
      script: parseCallerScript(['--say', "what's my balance", '--dtmf', '1']).items,
      transcriber,
    });
    const agent = agents.get(report.callSid);
    assert.ok(agent, 'the edge accepted the stream');
    const { session } = agent;

    // The plugin verified the TwiML's token for this call (and keeps it from the session).
    assert.deepEqual(session.customParameters, { callSid: report.callSid });
    assert.equal(session.streamSid, report.streamSid);
    assert.deepEqual(session.tracks, ['inbound']);

    // Every media message was exactly one 160-byte frame; none lost.
    const stats = session.stats;
    const mediaMessages = stats.messagesIn - 1 - stats.dtmfIn - stats.marksIn - 1; // start, stop
    assert.equal(stats.framesIn, report.framesSent);
    assert.equal(mediaMessages, stats.framesIn);
    assert.equal(stats.audioBytesIn, stats.framesIn * 160);
    assert.equal(stats.framesDropped, 0);

    // Real time: 50 frames a second (±20 % over the call, and no stall).
    const times = agent.frames.map((f) => f.at);
    const rate = ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
    within(rate, 50, 10, 'frames per second at pace 1');
    // No stall: the edge and the recognizer share this process's event loop, and on a busy
    // 2-core machine a timer can fire 100 ms late (108 ms was seen once); a stall is longer.
    const maxGap = Math.max(...times.slice(1).map((t, i) => t - times[i]!));
    assert.ok(maxGap < 200, `a ${maxGap.toFixed(0)} ms gap between frames`);

    // Between lines the line carries low noise, not digital silence, and no detector fires on it.
    const quiet = agent.frames.slice(0, 25).map((f) => f.pcm);
    assert.ok(
      quiet.every((pcm) => rms(pcm) > 2 && rms(pcm) < 40),
      'low line noise',
    );
    assert.equal(agent.utterances.length, 1, 'only the spoken line was heard as speech');

    // DTMF came after the line and was answered; the call ended with stop, then the close.
    assert.deepEqual(
      agent.dtmf.map((d) => d.digit),
      ['1'],
    );
    assert.deepEqual(agent.events.slice(-2), ['stop', 'close']);
    assert.equal(agent.close?.by, 'peer');
    assert.equal(report.endedBy, 'caller');
    assert.deepEqual(report.protocolErrors, []);

    // Voice-to-voice runs from the caller's last voiced frame to the reply's first frame: the
    // fake agent answers 300 ms of audio after the last voiced frame it received.
    const [greeting, line, keys] = report.turns;
    assert.ok(greeting && line && keys);
    assert.equal(report.turns.length, 3);
    const edgeView = agent.utterances[0]!.repliedAt - agent.utterances[0]!.lastVoicedAt;
    within(line.voiceToVoiceMs!, edgeView, 45, 'voice-to-voice vs the edge’s view');
    within(line.voiceToVoiceMs!, HANGOVER_FRAMES * 20, 60, 'voice-to-voice vs the hang-over');
    assert.equal(line.replyAfterMs, line.voiceToVoiceMs);
    assert.ok(
      keys.replyAfterMs! >= 0 && keys.replyAfterMs! < 50,
      `dtmf reply ${keys.replyAfterMs}`,
    );
    assert.equal(keys.voiceToVoiceMs, undefined);

    // Agent audio per turn, as played; the whole call recorded on one timeline.
    within(greeting.agentAudioMs, audio.GREETING!.length / 8, 1, 'greeting ms');
    within(line.agentAudioMs, audio.BALANCE!.length / 8, 1, 'reply ms');
    within(keys.agentAudioMs, audio.CONFIRMED!.length / 8, 1, 'dtmf reply ms');
    assert.ok(report.turns.every((t) => !t.replyCleared && !t.noReply));
    const { recording } = report;
    assert.equal(recording.caller.length, recording.agent.length);
    assert.equal(recording.caller.length, report.framesSent * 160);
    const agentVoiced = recording.agent.filter((s) => Math.abs(s) > 1000).length;
    assert.ok(agentVoiced > 0.3 * (report.turns.reduce((n, t) => n + t.agentAudioMs, 0) * 8));
    const wav = decodeWav(recordingWav(recording));
    assert.equal(wav.channels.length, 2);

    // Every mark was echoed, none because of a clear.
    assert.equal(
      report.marks.length,
      agent.bursts.reduce((n, b) => n + b.marks.length, 0),
    );
    assert.ok(report.marks.every((m) => !m.cleared && m.echoedAtMs >= m.receivedAtMs));
    assert.equal(agent.echoes.size, report.marks.length);

    // The agent's words, transcribed from what the caller heard.
    assert.equal(greeting.agentTranscript, GREETING.toLowerCase().replace(/[^a-z ]/g, ''));
    assert.match(line.agentTranscript ?? '', /forty two dollars and fifty cents/);

    // Twilio's status callback reached the call's workflow.
    assert.deepEqual(await statusSignals(report), ['completed']);
    // Measured before the transcription; here the fake edge shares the process.
    assert.ok(
      report.cpu.userMs > 0 && report.cpu.perCallSecondMs < 200,
      `cpu ${report.cpu.perCallSecondMs}`,
    );
  });

  it('at pace 4: frames 4× faster, each mark echoed once the audio before it has played', async () => {
    plan = { greeting: audio.GREETING!, replies: [audio.BALANCE!] };
    const report = await call({ script: parseCallerScript(['--say', 'hello']).items, pace: 4 });
    const agent = agents.get(report.callSid)!;

    const times = agent.frames.map((f) => f.at);
    const rate = ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
    within(rate, 200, 40, 'frames per second at pace 4');

    // The greeting went out at once; Twilio plays it at 4 × 8000 samples/s from its arrival.
    for (const burst of agent.bursts) {
      let previous = 0;
      for (const mark of burst.marks) {
        const echoedAt = agent.echoes.get(mark.name);
        assert.ok(echoedAt !== undefined, `${mark.name} echoed`);
        const after = echoedAt - burst.at;
        const played = mark.audioBeforeMs / 4;
        assert.ok(
          after >= played - 5,
          `${mark.name} echoed ${after.toFixed(1)} ms after the burst, before its ${played} ms of audio played`,
        );
        assert.ok(
          after <= played + 60,
          `${mark.name} echoed late: ${after.toFixed(1)} vs ${played}`,
        );
        assert.ok(echoedAt >= previous, 'marks come back in order');
        previous = echoedAt;
      }
    }
    assert.equal(report.clears, 0);
    // In audio time the reply is as long as at pace 1; in wall time a quarter.
    within(report.turns[1]!.agentAudioMs, audio.BALANCE!.length / 8, 1, 'reply ms at pace 4');
    within(report.audioMs / report.durationMs, 4, 0.4, 'audio time per wall time');
  });

  it('barges in: on `clear` drops the unplayed reply and echoes every pending mark at once', async () => {
    plan = { greeting: audio.GREETING!, replies: [audio.LONG!, audio.OKAY!], bargeIn: true };
    const { items } = parseCallerScript([
      '--say',
      'I want to pay my bill',
      '--interrupt-after',
      '800',
      '--say',
      'no thanks',
    ]);
    const report = await call({ script: items, pace: 4 });
    const agent = agents.get(report.callSid)!;

    assert.equal(agent.clears.length, 1, 'the edge cleared once');
    assert.equal(report.clears, 1);
    const clear = agent.clears[0]!;
    assert.ok(clear.pending.length > 5, 'most of the long reply was still pending');
    for (const name of clear.pending) {
      const echoedAt = agent.echoes.get(name);
      assert.ok(echoedAt !== undefined, `${name} echoed after the clear`);
      assert.ok(echoedAt - clear.at < 60, `${name} echoed ${echoedAt - clear.at} ms after clear`);
    }
    const cleared = report.marks.filter((m) => m.cleared).map((m) => m.name);
    assert.deepEqual(cleared, clear.pending, 'the pending marks, in order, flagged as cleared');

    const [, pay, no] = report.turns;
    assert.ok(pay && no);
    assert.equal(pay.replyCleared, true);
    assert.ok(pay.agentReceivedMs === audio.LONG!.length / 8);
    // The caller began 800 ms into the reply and the edge needed a few frames to notice.
    assert.ok(pay.agentAudioMs >= 800 && pay.agentAudioMs < 1600, `heard ${pay.agentAudioMs} ms`);
    assert.equal(no.bargedIn, true);
    assert.ok(
      no.clearAfterMs !== undefined && no.clearAfterMs < 150,
      `clear after ${no.clearAfterMs}`,
    );
    within(no.startedAtMs - pay.replyStartedAtMs!, 200, 40, 'barge-in 800 ms of audio in');
    assert.equal(no.replyCleared, false);
    within(no.agentAudioMs, audio.OKAY!.length / 8, 1, 'the new reply played whole');

    // The recording holds what was heard: nothing of the cut reply after the clear.
    const pos = (ms: number) => Math.round(ms * 4 * 8);
    const clearMs = no.startedAtMs + no.clearAfterMs;
    const gap = report.recording.agent.subarray(pos(clearMs) + 80, pos(no.replyStartedAtMs!) - 80);
    assert.ok(
      gap.length > 0 && gap.every((s) => s === 0),
      'silence between the clear and the new reply',
    );
  });

  it('plays a WAV file of another rate, and ends when the agent hangs up', async () => {
    plan = { greeting: audio.GREETING!, replies: [audio.BALANCE!], hangUpAfterReply: 0 };
    // The caller's line as a 16 kHz stereo recording.
    const line = mulawToPcm((await new LocalTts({ voice: 'awb' }).synthesize('pay my bill')).mulaw);
    const wide = resample(line, 8000, 16000);
    const dir = await mkdtemp(path.join(tmpdir(), 'caller-'));
    const file = path.join(dir, 'line.wav');
    try {
      await writeWav(file, { channels: [wide, wide], sampleRate: 16000 });
      const report = await call({
        script: parseCallerScript(['--audio', file, '--say', 'goodbye']).items,
        pace: 4,
      });
      const agent = agents.get(report.callSid)!;
      within(report.turns[1]!.callerAudioMs, line.length / 8, 20, 'the file’s length at 8 kHz');
      assert.equal(agent.utterances.length, 1);
      assert.equal(report.endedBy, 'edge');
      assert.equal(report.close.code, 1000);
      assert.equal(report.turns.length, 2, 'the agent hung up before "goodbye"');
      assert.ok(!agent.events.includes('stop'), 'no stop on a stream the edge closed');
      assert.deepEqual(await statusSignals(report), ['completed']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('caller script and TwiML parsing', () => {
  it('reads the script flags in order and leaves the rest', () => {
    const { items, rest } = parseCallerScript([
      '--from',
      '+15550100002',
      '--say',
      'pay my bill',
      '--interrupt-after=800',
      '--say=no',
      '--dtmf',
      '1#',
      '--pause',
      '1500',
      '--audio',
      'line.wav',
      '--hangup',
      '--pace',
      '4',
    ]);
    assert.deepEqual(items, [
      { kind: 'say', text: 'pay my bill' },
      { kind: 'say', text: 'no', interruptAfterMs: 800 },
      { kind: 'dtmf', digits: '1#' },
      { kind: 'pause', ms: 1500 },
      { kind: 'audio', path: 'line.wav' },
      { kind: 'hangup' },
    ]);
    assert.deepEqual(rest, ['--from', '+15550100002', '--pace', '4']);
  });

  it('refuses a malformed script with a clear message', () => {
    const bad: [string[], RegExp][] = [
      [['--say'], /--say needs a value/],
      [['--say', ' '], /--say needs some text/],
      [['--dtmf', '12x'], /keypad keys/],
      [['--pause', '2s'], /whole milliseconds/],
      [['--pause', '9999999'], /at most/],
      [['--interrupt-after', '500'], /must be followed/],
      [['--interrupt-after', '500', '--pause', '100'], /not --pause/],
      [['--interrupt-after', '5', '--interrupt-after', '5', '--say', 'x'], /twice/],
      [['--hangup=now'], /takes no value/],
    ];
    for (const [args, message] of bad) {
      assert.throws(
        () => parseCallerScript(args),
        (err: unknown) => {
          assert.ok(err instanceof CallerScriptError);
          assert.match(err.message, message);
          return true;
        },
      );
    }
  });

  it('prints a single key but not a PIN', () => {
    assert.equal(describeItem({ kind: 'dtmf', digits: '1' }), '[presses 1]');
    assert.equal(describeItem({ kind: 'dtmf', digits: '4321' }), '[presses 4 keys]');
  });

  it('follows the TwiML to the edge’s own address', () => {
    const twiml =
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://edge.example.com/base/v1/calls/stream">' +
      '<Parameter name="token" value="a.b&amp;c"/><Parameter name="callSid" value="CA1"/></Stream></Connect></Response>';
    const stream = parseStreamTwiml(twiml);
    assert.deepEqual(stream, {
      url: 'wss://edge.example.com/base/v1/calls/stream',
      parameters: { token: 'a.b&c', callSid: 'CA1' },
    });
    assert.equal(
      edgeStreamAddress(stream.url, 'https://edge.example.com/base/', 'http://127.0.0.1:8080'),
      'ws://127.0.0.1:8080/v1/calls/stream',
    );
    assert.throws(() => parseStreamTwiml('<Response><Hangup/></Response>'), /<Connect><Stream>/);
  });
});
