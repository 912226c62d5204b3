// The media plane for real: a mediasoup worker (the project's own build), calls placed over
// the Media Streams WebSocket against the whole edge stack, and RTP exchanged with the
// router from a PlainTransport of the test's own, the way a desk peer would.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import { mulawToPcm, pcmToMulaw } from '../../audio/mulaw';
import { decodeWav } from '../../audio/wav';
import type { CallResult } from '../../contracts/call';
import type { CallMedia } from '../../media-edge/media/call-media';
import { PCMU_RTP_PARAMETERS } from '../../media-edge/media/bridged-call';
import { MediaPlane } from '../../media-edge/media/media-plane';
import { loadMediaPlaneConfig } from '../../media-edge/media/media-plane-config';
import { decodeRtp, encodeRtp, PCMU_PAYLOAD_TYPE } from '../../media-edge/media/rtp';
import { PocketsphinxSpeechToText } from '../../providers/stt/pocketsphinx';
import { createAgentTranscriber, type AudioCallReport } from '../../simulator/twilio-caller';
import { ADA } from '../../testing/calls';
import { eventually } from '../../testing/eventually';
import { localObjectStore } from '../../testing/object-store';
import { callStack, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { localEnv, resetDb } from '../../testing/platform';
import { speak } from '../../testing/speech-audio';

const FRAME = 160;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newCallSid = () => `CA${randomBytes(16).toString('hex')}`;

const framesOf = (mulaw: Buffer): Buffer[] => {
  const frames: Buffer[] = [];
  for (let i = 0; i + FRAME <= mulaw.length; i += FRAME) frames.push(mulaw.subarray(i, i + FRAME));
  return frames;
};

const TONE_HZ = 1500;

function toneFrames(ms: number, amplitude = 6000): Buffer[] {
  const pcm = new Int16Array((ms / 20) * FRAME);
  for (let i = 0; i < pcm.length; i++)
    pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * TONE_HZ * i) / 8000));
  return framesOf(pcmToMulaw(pcm));
}

/** The tone's amplitude in a frame (Goertzel) and the RMS of everything else in it. */
function toneAndRest(pcm: Int16Array): { tone: number; rest: number } {
  const n = pcm.length;
  const coeff = 2 * Math.cos((2 * Math.PI * TONE_HZ) / 8000);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const x of pcm) {
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x * x;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const tone = (2 * Math.sqrt(power)) / n;
  const toneEnergy = (tone * tone * n) / 2;
  return { tone, rest: Math.sqrt(Math.max(0, energy - toneEnergy) / n) };
}

/** 20 ms frames of a channel with a loud tone in them; with `andVoice`, other sound as well. */
function toneFramesIn(pcm: Int16Array, andVoice = false): number {
  let count = 0;
  for (let i = 0; i + FRAME <= pcm.length; i += FRAME) {
    const { tone, rest } = toneAndRest(pcm.subarray(i, i + FRAME));
    if (tone > 2000 && (!andVoice || rest > 500)) count += 1;
  }
  return count;
}

/** The test's end of a PlainTransport in the router: consumes and produces PCMU RTP. */
class RtpPeer {
  private readonly heard = new Map<number, Buffer[]>();

  private constructor(
    private readonly router: types.Router,
    readonly transport: types.PlainTransport,
    private readonly socket: dgram.Socket,
  ) {
    socket.on('message', (data) => {
      const packet = decodeRtp(data);
      if (packet?.payloadType === PCMU_PAYLOAD_TYPE)
        this.heard.get(packet.ssrc)?.push(Buffer.from(packet.payload));
    });
  }

  static async open(router: types.Router): Promise<RtpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: false,
    });
    await transport.connect({ ip: '127.0.0.1', port: socket.address().port });
    return new RtpPeer(router, transport, socket);
  }

  /** Consumes a producer; its payloads collect in the array returned, in arrival order. */
  async consume(producerId: string): Promise<{ consumer: types.Consumer; payloads: Buffer[] }> {
    const consumer = await this.transport.consume({
      producerId,
      rtpCapabilities: {
        codecs: this.router.rtpCapabilities.codecs ?? [],
        headerExtensions: [],
      },
    });
    const payloads: Buffer[] = [];
    this.heard.set(consumer.rtpParameters.encodings![0]!.ssrc!, payloads);
    return { consumer, payloads };
  }

  /** A producer the test feeds, at the real 20 ms pace. */
  async produce(): Promise<{ producer: types.Producer; send(frames: Buffer[]): Promise<void> }> {
    const ssrc = randomInt(1, 0x100000000);
    const producer = await this.transport.produce({
      kind: 'audio',
      rtpParameters: PCMU_RTP_PARAMETERS(ssrc),
    });
    let sequenceNumber = randomInt(0x10000);
    let timestamp = randomInt(0x100000000);
    const { localPort } = this.transport.tuple;
    const send = async (frames: Buffer[]) => {
      const t0 = performance.now();
      for (const [i, frame] of frames.entries()) {
        const packet = encodeRtp(
          { payloadType: PCMU_PAYLOAD_TYPE, sequenceNumber, timestamp, ssrc, marker: i === 0 },
          frame,
        );
        sequenceNumber = (sequenceNumber + 1) & 0xffff;
        timestamp = (timestamp + FRAME) >>> 0;
        this.socket.send(packet, localPort, '127.0.0.1');
        await sleep(Math.max(0, t0 + (i + 1) * 20 - performance.now()));
      }
    };
    return { producer, send };
  }

  close(): void {
    this.transport.close();
    this.socket.close();
  }
}

/**
 * Where the RTP payloads `heard` run, frame by frame, inside the audio the caller sent (-1:
 * they do not). The simulator reports what it sent as PCM, so frames are compared decoded:
 * equal samples are equal μ-law bytes but for μ-law's two codes of zero.
 */
function runIn(sent: Int16Array, heard: Buffer[]): number {
  const frames = heard.map((p) => mulawToPcm(p));
  const at = (start: number, f: Int16Array, i: number) =>
    f.every((x, k) => sent[(start + i) * FRAME + k] === x);
  // The line noise repeats (a bank of frames): try every frame the run could start at.
  for (let start = 0; (start + frames.length) * FRAME <= sent.length; start++)
    if (frames.every((f, i) => at(start, f, i))) return start;
  return -1;
}

describe('media plane: calls bridged into a mediasoup router (real worker, real RTP)', function () {
  this.timeout(300_000);
  let plane: MediaPlane;
  let stack: EdgeStack;
  const planeLog: string[] = [];
  const peers: RtpPeer[] = [];
  const recordings = localObjectStore('recordings');

  before(async () => {
    plane = await MediaPlane.start(loadMediaPlaneConfig({}), (msg) => planeLog.push(msg));
    stack = await startEdgeStack({
      media: plane,
      env: { TTS_CACHE_NAMESPACE: `tts-media-${process.pid}` },
    });
  });
  after(async () => {
    await stack?.stop();
    await plane?.close();
  });
  beforeEach(async () => {
    await resetDb();
  });
  afterEach(() => {
    for (const peer of peers.splice(0)) peer.close();
  });

  const peerIn = async (media: CallMedia): Promise<RtpPeer> => {
    const peer = await RtpPeer.open(media.router);
    peers.push(peer);
    return peer;
  };

  /** A call that stays silent (line noise only; another level makes other frames). */
  const pauseCall = (ms: number, callSid: string, from = ADA, lineNoise = 32) =>
    callStack(stack, [{ kind: 'pause', ms }], { from, callSid, pace: 1, lineNoise });

  const resultOf = async (report: AudioCallReport): Promise<CallResult> =>
    (await localEnv()).client.workflow.getHandle(report.workflowId).result();

  it('a call in the router: the caller heard byte for byte, a human heard, mixed and recorded, all closed at the hang-up', async () => {
    const callSid = newCallSid();
    // The caller hears the greeting out (however long the stack takes to say it under load).
    let greeted!: () => void;
    const greetingHeard = new Promise<void>((resolve) => (greeted = resolve));
    const call = callStack(stack, [{ kind: 'pause', ms: 22_000 }], {
      from: ADA,
      callSid,
      pace: 1,
      print: (line) => void (line.includes('agent:') && greeted()),
    });
    const media = await eventually('the call in the router', () => plane.callMedia(callSid));
    const peer = await peerIn(media);
    const heard = await peer.consume(media.callerProducerId);

    // A human speaks once the greeting is over, then over the agent's next line (a tone).
    const words = await speak('four five six seven', { engine: 'flite', voice: 'slt' });
    const speech = framesOf(pcmToMulaw(words.samples));
    await greetingHeard;
    const human = await peer.produce();
    const stop = await media.playToCaller(human.producer.id);
    await human.send(speech);
    await sleep(1_000);
    const agentLine = stack.runtime.calls.speak(callSid, 'Let me check that for you, one moment.');
    await human.send(toneFrames(2_000));
    await agentLine;
    await stop();
    const report = await call;

    // (a) What the router got of the caller is what the caller sent, byte for byte.
    assert.ok(heard.payloads.length >= 500, `${heard.payloads.length} caller packets`);
    assert.ok(
      heard.payloads.every((p) => p.length === FRAME),
      'one 20 ms frame per packet',
    );
    assert.ok(
      runIn(report.recording.caller, heard.payloads) >= 0,
      'the caller frames, in order, unchanged',
    );

    // (b) The human's words reached the caller untouched (a lone voice is not re-encoded)…
    const toCaller = pcmToMulaw(report.recording.agent);
    const voiced = speech.findIndex((f) => toneAndRest(mulawToPcm(f)).rest > 2000);
    const at = toCaller.indexOf(speech[voiced]!);
    assert.ok(voiced >= 0 && at >= 0, 'a frame of the human speech, bit-exact, at the caller');
    // …and are understood there.
    const start = Math.max(0, at - voiced * FRAME - 1_600);
    const span = report.recording.agent.subarray(start, start + words.samples.length + 3_200);
    // A warmed-up decoder, and the grammar of a closed question (the phrase, decoys, and free
    // words from the call vocabulary).
    const transcriber = await createAgentTranscriber();
    try {
      const { text } = await transcriber.stt.transcribe(
        { samples: span, sampleRate: 8000 },
        { hints: ['four five six seven', 'thanks for calling', 'how can i help you today'] },
      );
      const got = ['four', 'five', 'six', 'seven'].filter((w) => text.includes(w));
      assert.ok(got.length >= 3, `transcribed: "${text}"`);
    } finally {
      transcriber.dispose();
    }

    // (c) Over the agent's line the caller heard both voices at once.
    assert.ok(
      toneFramesIn(report.recording.agent, true) >= 10,
      'the human tone and the agent voice in the same frames',
    );
    // The edge's recording has the human's side: the words bit-exact, and the tone.
    const result = await resultOf(report);
    const wav = await recordings.get(result.recording!.key);
    const recorded = decodeWav(wav!).channels[1]!;
    assert.ok(pcmToMulaw(recorded).indexOf(speech[voiced]!) >= 0, 'the words in the recording');
    assert.ok(toneFramesIn(recorded) >= 50, 'the tone in the recording');

    // (e) The hang-up closed the call's transport: its producer went, and our consumer with it.
    assert.equal(plane.callMedia(callSid), undefined);
    assert.ok(heard.consumer.closed, 'the consumer of the caller closed with the call');
    const dump = await media.router.dump();
    assert.deepEqual(dump.transportIds, [peer.transport.id], 'only the test peer is left');
  });

  it('two calls at once stay apart: a voice played to one is not heard on the other', async () => {
    const [sidA, sidB] = [newCallSid(), newCallSid()];
    const callA = pauseCall(12_000, sidA, ADA);
    const callB = pauseCall(12_000, sidB, '+15550100002', 64);
    const a = await eventually('call A in the router', () => plane.callMedia(sidA));
    const b = await eventually('call B in the router', () => plane.callMedia(sidB));
    assert.notEqual(a.callerProducerId, b.callerProducerId);
    const peer = await peerIn(a);
    const heardA = await peer.consume(a.callerProducerId);
    const heardB = await peer.consume(b.callerProducerId);
    const human = await peer.produce();
    await sleep(5_000); // the greetings are over
    const stop = await a.playToCaller(human.producer.id);
    await human.send(toneFrames(2_000));
    await stop();
    const [reportA, reportB] = await Promise.all([callA, callB]);

    assert.ok(toneFramesIn(reportA.recording.agent) >= 50, 'A heard the voice');
    assert.ok(toneFramesIn(reportB.recording.agent) <= 2, 'B did not');
    const sentA = reportA.recording.caller;
    const sentB = reportB.recording.caller;
    assert.ok(runIn(sentA, heardA.payloads) >= 0, "A's producer carries A's caller");
    assert.ok(runIn(sentB, heardB.payloads) >= 0, "B's producer carries B's caller");
    assert.equal(runIn(sentB, heardA.payloads), -1, "A's producer does not carry B's caller");
  });

  it('the worker dies mid-call: the call goes on, and the call is bridged again into a new worker', async () => {
    const callSid = newCallSid();
    const call = callStack(
      stack,
      [
        { kind: 'pause', ms: 3_000 },
        { kind: 'say', text: "what's my balance" },
        { kind: 'say', text: 'goodbye' },
      ],
      { from: ADA, callSid, pace: 1, transcriber: { stt: new PocketsphinxSpeechToText() } },
    );
    const before = await eventually('the call in the router', () => plane.callMedia(callSid));
    const deadPid = plane.workerPid!;
    process.kill(deadPid, 'SIGKILL');
    const after = await eventually('the call bridged again', () => {
      const media = plane.callMedia(callSid);
      return media && media.router !== before.router ? media : undefined;
    });
    assert.notEqual(plane.workerPid, deadPid);
    assert.equal(plane.workerDeaths, 1);
    assert.ok(
      planeLog.some((l) => /worker died/.test(l)),
      planeLog.join('\n'),
    );
    // The new bridge works: the caller is heard in the new router.
    const peer = await peerIn(after);
    const heard = await peer.consume(after.callerProducerId);

    const report = await call;
    const said = report.turns.map((t) => t.agentTranscript ?? '').join(' | ');
    assert.match(said, /forty two dollars/, `${said}\n${stack.logOf(callSid)}`);
    assert.equal(report.endedBy, 'edge', 'the agent hung up after goodbye');
    assert.ok(heard.payloads.length > 50, `${heard.payloads.length} caller packets after`);
    assert.ok(runIn(report.recording.caller, heard.payloads) >= 0);
  });
});
