// The desk's WebRTC peers in the edge's router, call by call. A browser joins one call in a
// mode; the mode decides what it hears and what it may say, and the user's role decides the
// modes open to it. A peer only ever sees the producers of its own call's room.
//
// Media path: the browser's mediasoup-client opens a receiving and (if it speaks) a sending
// WebRtcTransport (ICE over UDP, DTLS-SRTP), consumes the voices it may hear (created paused,
// resumed once the browser has the track, as mediasoup recommends) and produces its mic.
import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { CallMedia, CallMediaDirectory } from '../../media/call-media';
import type { DeskRole, DeskUser } from '../desk-user';

export type DeskMediaMode = 'talk' | 'listen' | 'whisper';
export const DESK_MEDIA_MODES: readonly DeskMediaMode[] = ['talk', 'listen', 'whisper'];

/** Whose voice a producer in a call's room carries. */
export type VoiceSource = 'caller' | 'agent' | 'whisper';

export interface RoomVoice {
  producerId: string;
  source: VoiceSource;
}

interface ModeRules {
  roles: readonly DeskRole[];
  hears: readonly VoiceSource[];
  speaks?: VoiceSource;
}

/**
 * Talk: the agent and the caller hear each other; a whisper reaches the agent only. Listen: a
 * supervisor hears both sides and says nothing. Whisper: the same, and speaks to the agent.
 */
const MODES: Record<DeskMediaMode, ModeRules> = {
  talk: { roles: ['agent', 'supervisor'], hears: ['caller', 'whisper'], speaks: 'agent' },
  listen: { roles: ['supervisor'], hears: ['caller', 'agent'] },
  whisper: { roles: ['supervisor'], hears: ['caller', 'agent'], speaks: 'whisper' },
};

/** A peer that never gets a transport connected is dropped after this long. */
const CONNECT_WITHIN_MS = 30_000;

/** A refusal the HTTP layer answers with its status and message. */
export class DeskMediaError extends Error {
  constructor(
    readonly statusCode: 400 | 403 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** What the browser's mediasoup-client needs to build its side of a transport. */
export interface TransportOffer {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

export interface ConsumerOffer {
  id: string;
  producerId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
}

type Direction = 'send' | 'recv';

/** mediasoup checks parameters from the browser and throws TypeError on malformed ones. */
const badInput =
  (what: string) =>
  (error: unknown): never => {
    if (error instanceof TypeError) throw new DeskMediaError(400, `bad ${what}: ${error.message}`);
    throw error;
  };

/** One browser in one call. */
export class DeskPeer {
  readonly id = randomUUID();
  private readonly transports = new Map<Direction, types.WebRtcTransport>();
  private readonly consumers = new Map<string, types.Consumer>();
  private producer?: types.Producer;
  private connected = false;
  private closed = false;
  private readonly connectTimer: NodeJS.Timeout;

  constructor(
    readonly user: DeskUser,
    readonly mode: DeskMediaMode,
    private readonly room: CallRoom,
  ) {
    this.connectTimer = setTimeout(() => {
      if (!this.connected) this.close();
    }, CONNECT_WITHIN_MS).unref();
  }

  get routerRtpCapabilities(): types.RtpCapabilities {
    return this.room.media.router.rtpCapabilities;
  }

  async createTransport(direction: Direction): Promise<TransportOffer> {
    if (direction === 'send' && !MODES[this.mode].speaks)
      throw new DeskMediaError(403, `a peer in ${this.mode} mode sends no audio`);
    if (this.transports.has(direction))
      throw new DeskMediaError(409, `this peer already has a ${direction} transport`);
    const transport = await this.room.media.router.createWebRtcTransport({
      listenInfos: [this.room.listenInfo],
      enableUdp: true,
      enableTcp: false,
    });
    if (this.closed || this.transports.has(direction)) {
      transport.close();
      throw new DeskMediaError(409, 'this peer has left or already has that transport');
    }
    this.transports.set(direction, transport);
    // The browser went away (tab closed: DTLS close; network gone: ICE consent timed out).
    transport.on('dtlsstatechange', (state) => {
      if (state === 'connected') this.connected = true;
      if (state === 'failed' || state === 'closed') this.close();
    });
    transport.on('icestatechange', (state) => {
      if (state === 'disconnected' || state === 'closed') this.close();
    });
    transport.observer.once('close', () => this.close());
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connect(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    await this.transport(transportId)
      .transport.connect({ dtlsParameters })
      .catch(badInput('dtlsParameters'));
  }

  /** The browser's mic: the agent's voice goes to the caller, a whisper to the agent. */
  async produce(transportId: string, rtpParameters: types.RtpParameters): Promise<string> {
    const source = MODES[this.mode].speaks;
    if (!source) throw new DeskMediaError(403, `a peer in ${this.mode} mode sends no audio`);
    const { transport, direction } = this.transport(transportId);
    if (direction !== 'send') throw new DeskMediaError(400, 'produce on the send transport');
    if (this.producer) throw new DeskMediaError(409, 'this peer already sends its audio');
    const producer = await transport
      .produce({ kind: 'audio', rtpParameters })
      .catch(badInput('rtpParameters'));
    this.producer = producer;
    try {
      await this.room.addVoice({ producerId: producer.id, source }, producer);
    } catch (error) {
      // Not on the line (the call's playout refused it): the browser may try again.
      producer.close();
      this.producer = undefined;
      throw error;
    }
    return producer.id;
  }

  async consume(
    producerId: string,
    rtpCapabilities: types.RtpCapabilities,
  ): Promise<ConsumerOffer> {
    if (!this.audible().some((v) => v.producerId === producerId))
      throw new DeskMediaError(404, 'no such voice for this peer on this call');
    const transport = this.transports.get('recv');
    if (!transport) throw new DeskMediaError(409, 'create the recv transport first');
    if (!this.room.media.router.canConsume({ producerId, rtpCapabilities }))
      throw new DeskMediaError(400, 'the browser cannot receive this call (audio/PCMU 8000)');
    const consumer = await transport.consume({ producerId, rtpCapabilities, paused: true });
    this.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
    return {
      id: consumer.id,
      producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
    };
  }

  async resume(consumerId: string): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) throw new DeskMediaError(404, 'no such consumer for this peer');
    await consumer.resume();
  }

  /** The voices of this call this peer may hear now (the browser consumes the new ones). */
  audible(): RoomVoice[] {
    const hears = MODES[this.mode].hears;
    return this.room
      .voices()
      .filter((v) => hears.includes(v.source) && v.producerId !== this.producer?.id);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    // Closing a transport closes its producer and consumers; the room stops the caller's
    // playout of this peer's voice.
    for (const transport of this.transports.values()) transport.close();
    this.room.leave(this);
  }

  private transport(id: string): { transport: types.WebRtcTransport; direction: Direction } {
    for (const [direction, transport] of this.transports)
      if (transport.id === id) return { transport, direction };
    throw new DeskMediaError(404, 'no such transport for this peer');
  }
}

/** One call's peers and the voices they may hear. Closes when the call ends. */
export class CallRoom {
  private readonly peers = new Map<string, DeskPeer>();
  private readonly spoken = new Map<string, RoomVoice>();
  private readonly stopPlaying = new Map<string, () => Promise<void>>();
  private closed = false;

  constructor(
    readonly media: CallMedia,
    readonly listenInfo: types.TransportListenInfo,
    private readonly onClose: () => void,
  ) {
    void media.ended.then(() => this.close());
  }

  join(user: DeskUser, mode: DeskMediaMode): DeskPeer {
    if (this.closed) throw new DeskMediaError(404, 'the call has ended');
    const peer = new DeskPeer(user, mode, this);
    this.peers.set(peer.id, peer);
    return peer;
  }

  peer(id: string): DeskPeer | undefined {
    return this.peers.get(id);
  }

  voices(): RoomVoice[] {
    return [{ producerId: this.media.callerProducerId, source: 'caller' }, ...this.spoken.values()];
  }

  async addVoice(voice: RoomVoice, producer: types.Producer): Promise<void> {
    producer.observer.once('close', () => this.removeVoice(voice.producerId));
    if (voice.source === 'agent') {
      const stop = await this.media.playToCaller(voice.producerId);
      if (producer.closed) return void stop().catch(() => undefined);
      this.stopPlaying.set(voice.producerId, stop);
    }
    this.spoken.set(voice.producerId, voice);
  }

  leave(peer: DeskPeer): void {
    this.peers.delete(peer.id);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const peer of [...this.peers.values()]) peer.close();
    this.onClose();
  }

  private removeVoice(producerId: string): void {
    this.spoken.delete(producerId);
    const stop = this.stopPlaying.get(producerId);
    this.stopPlaying.delete(producerId);
    // The producer is closed already; stopping only releases the caller's playout.
    if (stop) void stop().catch(() => undefined);
  }
}

/** Every call's room on this edge, opened by the first peer that joins. */
export class DeskPeers {
  private readonly rooms = new Map<string, CallRoom>();

  constructor(
    private readonly calls: CallMediaDirectory,
    private readonly listenInfo: types.TransportListenInfo,
  ) {}

  async join(callSid: string, user: DeskUser, mode: DeskMediaMode): Promise<DeskPeer> {
    if (!MODES[mode].roles.includes(user.role))
      throw new DeskMediaError(403, `${mode} needs the ${MODES[mode].roles.join(' or ')} role`);
    return this.room(callSid).join(user, mode);
  }

  /** The user's own peer in that call; anyone else's is not found. */
  async peer(callSid: string, peerId: string, user: DeskUser): Promise<DeskPeer> {
    const peer = this.rooms.get(callSid)?.peer(peerId);
    if (!peer || peer.user.name !== user.name)
      throw new DeskMediaError(404, 'no such peer on this call');
    return peer;
  }

  async close(): Promise<void> {
    for (const room of [...this.rooms.values()]) room.close();
  }

  private room(callSid: string): CallRoom {
    const open = this.rooms.get(callSid);
    if (open) return open;
    const media = this.calls.callMedia(callSid);
    if (!media) throw new DeskMediaError(404, 'no such call on this edge');
    const room = new CallRoom(media, this.listenInfo, () => {
      if (this.rooms.get(callSid) === room) this.rooms.delete(callSid);
    });
    this.rooms.set(callSid, room);
    return room;
  }
}
