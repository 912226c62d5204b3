// A call in a real mediasoup router without Twilio: the "caller" is a UDP socket that sends
// PCMU RTP (20 ms frames, like Media Streams) into a PlainTransport producer, and whatever is
// played to the caller comes back on the same socket through a PlainTransport consumer. That
// is what the edge's Media Streams bridge does with the phone line; tests and benches of the
// desk's WebRTC use it as the CallMedia on the other side.
import dgram from 'node:dgram';
import { once } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { MULAW_SILENCE } from '../audio/mulaw';
import { PCMU_RTP_PARAMETERS } from '../media-edge/media/bridged-call';
import type { CallMedia, CallMediaDirectory } from '../media-edge/media/call-media';
import { ROUTER_CODECS } from '../media-edge/media/media-plane';
import { decodeRtp, encodeRtp, PCMU_PAYLOAD_TYPE } from '../media-edge/media/rtp';
import { FRAME_BYTES } from '../media-edge/twilio/media-stream-protocol';

/** A router like the edge's: the phone line's codec only, PCMU at 8 kHz. */
export async function startPcmuRouter(): Promise<{ worker: types.Worker; router: types.Router }> {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs: ROUTER_CODECS });
  return { worker, router };
}

/** One RTP packet that came back to the caller. */
export interface ReturnedPacket {
  ssrc: number;
  seq: number;
  payload: Buffer;
  /** Date.now() on arrival (comparable with a browser's Date.now() on this machine). */
  at: number;
}

export class RtpCallerMedia implements CallMedia {
  readonly received: ReturnedPacket[] = [];
  /** Consumers playing to the caller now (one per playToCaller). */
  readonly playing = new Set<types.Consumer>();
  private readonly queue: Buffer[] = [];
  private seq = 0;
  private timestamp = 0;
  readonly ended: Promise<void>;
  private pacer?: NodeJS.Timeout;
  /** Called with each frame as it is sent (Date.now(), the frame). */
  onSent?: (at: number, frame: Buffer) => void;

  private constructor(
    readonly callSid: string,
    readonly router: types.Router,
    private readonly socket: dgram.Socket,
    private readonly transport: types.PlainTransport,
    private readonly producer: types.Producer,
    private readonly ssrc: number,
  ) {
    socket.on('message', (packet) => this.onPacket(packet));
    this.ended = new Promise((resolve) => transport.observer.once('close', () => resolve()));
  }

  static async open(router: types.Router, callSid: string): Promise<RtpCallerMedia> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: false,
    });
    await transport.connect({ ip: '127.0.0.1', port: socket.address().port });
    const ssrc = 1000 + Math.floor(Math.random() * 1e6);
    const producer = await transport.produce({ kind: 'audio', rtpParameters: PCMU_RTP_PARAMETERS(ssrc) }); // prettier-ignore
    return new RtpCallerMedia(callSid, router, socket, transport, producer, ssrc);
  }

  get callerProducerId(): string {
    return this.producer.id;
  }

  async playToCaller(producerId: string): Promise<() => Promise<void>> {
    const consumer = await this.transport.consume({
      producerId,
      rtpCapabilities: { codecs: this.router.rtpCapabilities.codecs ?? [], headerExtensions: [] },
    });
    this.playing.add(consumer);
    consumer.observer.once('close', () => this.playing.delete(consumer));
    return async () => consumer.close();
  }

  /** Starts the line: a frame every 20 ms, the queued speech or silence. */
  start(): void {
    const t0 = Date.now();
    let sent = 0;
    const tick = (): void => {
      while (sent <= (Date.now() - t0) / 20) {
        this.sendFrame(this.queue.shift() ?? Buffer.alloc(FRAME_BYTES, MULAW_SILENCE));
        sent++;
      }
      this.pacer = setTimeout(tick, 20 - ((Date.now() - t0) % 20));
    };
    tick();
  }

  /** Queues μ-law audio (160-byte frames) to be said after what is queued. */
  say(mulaw: Buffer): void {
    for (let at = 0; at < mulaw.length; at += FRAME_BYTES) {
      const frame = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);
      mulaw.copy(frame, 0, at, Math.min(at + FRAME_BYTES, mulaw.length));
      this.queue.push(frame);
    }
  }

  /** Loops μ-law audio for as long as the line runs (refilled whenever the queue runs dry). */
  sayOnRepeat(mulaw: Buffer): void {
    const refill = (): void => {
      if (this.queue.length < 50) this.say(mulaw);
    };
    refill();
    const timer = setInterval(refill, 200);
    this.socket.once('close', () => clearInterval(timer));
  }

  /** The μ-law that came back, in arrival order, from every stream played to the caller. */
  heard(): Buffer {
    return Buffer.concat(this.received.map((p) => p.payload));
  }

  /** Ends the call: the caller's producer closes, as when the phone line hangs up. */
  async close(): Promise<void> {
    clearTimeout(this.pacer);
    this.transport.close();
    this.socket.close();
  }

  private sendFrame(payload: Buffer): void {
    const header = { payloadType: PCMU_PAYLOAD_TYPE, sequenceNumber: this.seq, timestamp: this.timestamp, ssrc: this.ssrc }; // prettier-ignore
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp += FRAME_BYTES;
    this.onSent?.(Date.now(), payload);
    this.socket.send(encodeRtp(header, payload), this.transport.tuple.localPort, '127.0.0.1');
  }

  private onPacket(data: Buffer): void {
    const packet = decodeRtp(data); // undefined for RTCP, muxed on the same port
    if (!packet) return;
    this.received.push({ ssrc: packet.ssrc, seq: packet.sequenceNumber, payload: packet.payload, at: Date.now() }); // prettier-ignore
  }
}

/** The calls of a test or bench, by CallSid. */
export class CallMediaMap implements CallMediaDirectory {
  private readonly calls = new Map<string, CallMedia>();
  add(media: CallMedia): void {
    this.calls.set(media.callSid, media);
  }
  delete(callSid: string): void {
    this.calls.delete(callSid);
  }
  callMedia(callSid: string): CallMedia | undefined {
    return this.calls.get(callSid);
  }
}
