// One call bridged into the router: a PlainTransport between the router and a UDP socket the
// edge owns on loopback, carrying PCMU RTP both ways. No transcoding: a Media Streams frame's
// 160 μ-law bytes are an RTP packet's payload as they are, and back.
//   - In: the edge produces the caller's audio on the transport, one packet per 20 ms frame,
//     but only while something consumes it (no one listening costs no packets).
//   - Out: playToCaller consumes a producer on the same transport; the router sends its RTP
//     to the edge's socket, where each consumer is told apart by its SSRC and becomes a voice
//     on the call's line.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import type { CallMedia } from './call-media';
import { decodeRtp, encodeRtp, PCMU_PAYLOAD_TYPE } from './rtp';

/** Where the bridge plays a consumed voice: the call's line. */
export interface VoiceOutlet {
  addVoice(): { push(mulaw: Buffer): void; close(): void };
}

const LOOPBACK = '127.0.0.1';
const FRAME_SAMPLES = 160;

export const PCMU_RTP_PARAMETERS = (ssrc: number): types.RtpParameters => ({
  codecs: [{ mimeType: 'audio/PCMU', payloadType: PCMU_PAYLOAD_TYPE, clockRate: 8000 }],
  encodings: [{ ssrc }],
});

export class BridgedCall implements CallMedia {
  private readonly voices = new Map<number, { push(mulaw: Buffer): void; close(): void }>();
  /** Consumers of the caller's producer anywhere in the router. */
  private listeners = 0;
  private sequenceNumber = randomInt(0x10000);
  private timestamp = randomInt(0x100000000);
  private marker = true;
  private closed = false;
  readonly ended: Promise<void>;

  private constructor(
    readonly callSid: string,
    readonly router: types.Router,
    private readonly transport: types.PlainTransport,
    private readonly producer: types.Producer,
    private readonly ssrc: number,
    private readonly socket: dgram.Socket,
    private readonly line: VoiceOutlet,
  ) {
    socket.on('message', (data) => this.onRtp(data));
    this.ended = new Promise((resolve) => transport.observer.once('close', () => resolve()));
  }

  static async open(
    router: types.Router,
    callSid: string,
    line: VoiceOutlet,
  ): Promise<BridgedCall> {
    const socket = dgram.createSocket('udp4');
    let transport: types.PlainTransport | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, LOOPBACK, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      transport = await router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: LOOPBACK },
        rtcpMux: true,
        comedia: false,
        appData: { callSid },
      });
      await transport.connect({ ip: LOOPBACK, port: socket.address().port });
      const ssrc = randomInt(1, 0x100000000);
      const producer = await transport.produce({
        kind: 'audio',
        rtpParameters: PCMU_RTP_PARAMETERS(ssrc),
        appData: { callSid, caller: true },
      });
      return new BridgedCall(callSid, router, transport, producer, ssrc, socket, line);
    } catch (err) {
      transport?.close();
      socket.close();
      throw err;
    }
  }

  get callerProducerId(): string {
    return this.producer.id;
  }

  get isClosed(): boolean {
    return this.closed || this.transport.closed;
  }

  /** The router made (or closed) a consumer of the caller's producer. */
  listenerAdded(): void {
    this.listeners += 1;
  }

  listenerRemoved(): void {
    this.listeners = Math.max(0, this.listeners - 1);
  }

  /** One 20 ms frame of the caller; sent into the router while anyone consumes it. */
  callerFrame(mulaw: Buffer): void {
    // The RTP clock runs with the call whether or not packets are sent.
    const timestamp = this.timestamp;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
    if (this.listeners === 0 || this.isClosed) {
      this.marker = true; // the next packet starts a talkspurt
      return;
    }
    const packet = encodeRtp(
      {
        payloadType: PCMU_PAYLOAD_TYPE,
        sequenceNumber: this.sequenceNumber,
        timestamp,
        ssrc: this.ssrc,
        marker: this.marker,
      },
      mulaw,
    );
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    this.marker = false;
    const { localAddress, localPort } = this.transport.tuple;
    this.socket.send(packet, localPort, localAddress ?? LOOPBACK);
  }

  async playToCaller(producerId: string): Promise<() => Promise<void>> {
    if (this.isClosed) throw new Error(`call ${this.callSid} has left the media plane`);
    const consumer = await this.transport.consume({
      producerId,
      // Plain RTP: PCMU only, no header extensions to strip.
      rtpCapabilities: { codecs: this.router.rtpCapabilities.codecs ?? [], headerExtensions: [] },
    });
    const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
    if (ssrc === undefined) {
      consumer.close();
      throw new Error('the consumer has no SSRC to tell its packets by');
    }
    const voice = this.line.addVoice();
    this.voices.set(ssrc, voice);
    const stopped = () => {
      if (this.voices.get(ssrc) !== voice) return;
      this.voices.delete(ssrc);
      voice.close();
    };
    // The producer closing (the desk left) or the transport closing ends it too.
    consumer.observer.once('close', stopped);
    return async () => {
      consumer.close();
      stopped();
    };
  }

  /** The call ended (or the router went): the transport, its producer and consumers close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
    for (const voice of this.voices.values()) voice.close();
    this.voices.clear();
    this.socket.close();
  }

  private onRtp(data: Buffer): void {
    const packet = decodeRtp(data);
    if (!packet || packet.payloadType !== PCMU_PAYLOAD_TYPE) return; // RTCP, or not ours
    this.voices.get(packet.ssrc)?.push(packet.payload);
  }
}
