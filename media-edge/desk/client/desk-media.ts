// The desk's media client in the browser: joins one call's room in the edge's mediasoup router
// through the signaling routes (desk-media-routes.ts) with mediasoup-client, plays what it may
// hear and sends the agent's (or the whispering supervisor's) microphone. The edge serves it
// bundled at /desk/media.js; a page calls `window.deskMedia.join({ callSid, mode })`.
import { Device, type types } from 'mediasoup-client';

export type DeskMediaMode = 'talk' | 'listen' | 'whisper';

export interface JoinOptions {
  callSid: string;
  mode: DeskMediaMode;
  /**
   * What is sent in talk and whisper mode: the microphone (default), or 'loopback' — the
   * caller's voice as received, sent straight back (to measure the bridge's round trip).
   */
  input?: 'microphone' | 'loopback';
  /** Called once when the call ends or the edge drops this peer. */
  onEnded?: () => void;
}

export interface VoiceStats {
  producerId: string;
  source: string;
  packetsReceived: number;
  totalAudioEnergy: number;
}

export interface DeskMediaSession {
  peerId: string;
  /** The voices heard now: whose, and the producer in the edge's router. */
  voices(): { producerId: string; source: string }[];
  /** Per voice heard, what arrived so far (from the receivers' stats). */
  stats(): Promise<VoiceStats[]>;
  /** RTP packets of this peer's own voice sent so far (0 in listen mode). */
  packetsSent(): Promise<number>;
  leave(): Promise<void>;
}

export class DeskMediaRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Voice {
  producerId: string;
  source: string;
}

interface Heard extends Voice {
  consumer: types.Consumer;
  audio: HTMLAudioElement;
}

/** How often a joined peer asks for voices that appeared or went (a whisper, an agent). */
const POLL_MS = 500;

async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok)
    throw new DeskMediaRequestError(response.status, data.error ?? response.statusText);
  return data as T;
}

type TransportOffer = Pick<
  types.TransportOptions,
  'id' | 'iceParameters' | 'iceCandidates' | 'dtlsParameters'
>;

class DeskMediaPeer implements DeskMediaSession {
  private readonly device = new Device();
  private readonly heard = new Map<string, Heard>();
  private recv?: types.Transport;
  private send?: types.Transport;
  private producer?: types.Producer;
  private poller?: ReturnType<typeof setInterval>;
  private syncing?: Promise<void>;
  private left = false;

  constructor(
    readonly peerId: string,
    private readonly base: string,
    private readonly opts: JoinOptions,
  ) {}

  async start(routerRtpCapabilities: types.RtpCapabilities): Promise<void> {
    await this.device.load({ routerRtpCapabilities });
    this.recv = this.device.createRecvTransport(await this.transport('recv'));
    this.onConnect(this.recv);
    await this.sync();
    if (this.opts.mode !== 'listen') await this.speak();
    this.poller = setInterval(() => void this.sync(), POLL_MS);
  }

  voices(): Voice[] {
    return [...this.heard.values()].map(({ producerId, source }) => ({ producerId, source }));
  }

  async stats(): Promise<VoiceStats[]> {
    const out: VoiceStats[] = [];
    for (const h of this.heard.values()) {
      let packetsReceived = 0;
      let totalAudioEnergy = 0;
      (await h.consumer.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type !== 'inbound-rtp') return;
        packetsReceived += Number(s.packetsReceived ?? 0);
        totalAudioEnergy += Number(s.totalAudioEnergy ?? 0);
      });
      out.push({ producerId: h.producerId, source: h.source, packetsReceived, totalAudioEnergy });
    }
    return out;
  }

  async packetsSent(): Promise<number> {
    let sent = 0;
    (await this.producer?.getStats())?.forEach((s: Record<string, unknown>) => {
      if (s.type === 'outbound-rtp') sent += Number(s.packetsSent ?? 0);
    });
    return sent;
  }

  async leave(): Promise<void> {
    if (this.left) return;
    this.stop();
    await request('DELETE', `${this.base}/peers/${this.peerId}`).catch(() => undefined);
  }

  private stop(): void {
    this.left = true;
    clearInterval(this.poller);
    for (const h of this.heard.values()) h.audio.remove();
    this.heard.clear();
    this.send?.close();
    this.recv?.close();
  }

  private async transport(direction: 'send' | 'recv'): Promise<TransportOffer> {
    return request('POST', `${this.base}/peers/${this.peerId}/transports`, { direction });
  }

  private onConnect(transport: types.Transport): void {
    transport.on('connect', ({ dtlsParameters }, done, fail) => {
      request('POST', `${this.base}/peers/${this.peerId}/transports/${transport.id}/connect`, {
        dtlsParameters,
      }).then(() => done(), fail);
    });
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.end();
    });
  }

  private async speak(): Promise<void> {
    const send = this.device.createSendTransport(await this.transport('send'));
    this.send = send;
    this.onConnect(send);
    send.on('produce', ({ rtpParameters }, done, fail) => {
      request<{ id: string }>('POST', `${this.base}/peers/${this.peerId}/produce`, {
        transportId: send.id,
        rtpParameters,
      }).then(done, fail);
    });
    const track =
      this.opts.input === 'loopback'
        ? [...this.heard.values()].find((h) => h.source === 'caller')?.consumer.track
        : (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks()[0];
    if (!track) throw new Error('no audio to send (no microphone, or no caller to loop back)');
    this.producer = await send.produce({ track, stopTracks: this.opts.input !== 'loopback' });
  }

  /** Consumes the voices that appeared, drops those that went; a gone peer ends the session. */
  private sync(): Promise<void> {
    this.syncing ??= this.syncVoices().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncVoices(): Promise<void> {
    let voices: Voice[];
    try {
      ({ voices } = await request<{ voices: Voice[] }>(
        'GET',
        `${this.base}/peers/${this.peerId}/voices`,
      ));
    } catch (error) {
      if (error instanceof DeskMediaRequestError && error.status === 404) this.end();
      return;
    }
    const now = new Set(voices.map((v) => v.producerId));
    for (const [producerId, h] of this.heard)
      if (!now.has(producerId)) {
        h.consumer.close();
        h.audio.remove();
        this.heard.delete(producerId);
      }
    for (const v of voices) if (!this.heard.has(v.producerId) && !this.left) await this.hear(v);
  }

  private async hear(voice: Voice): Promise<void> {
    const offer = await request<types.ConsumerOptions>(
      'POST',
      `${this.base}/peers/${this.peerId}/consume`,
      { producerId: voice.producerId, rtpCapabilities: this.device.rtpCapabilities },
    );
    const consumer = await this.recv!.consume(offer);
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.srcObject = new MediaStream([consumer.track]);
    document.body.appendChild(audio);
    this.heard.set(voice.producerId, { ...voice, consumer, audio });
    await request('POST', `${this.base}/peers/${this.peerId}/consumers/${consumer.id}/resume`);
  }

  private end(): void {
    if (this.left) return;
    this.stop();
    this.opts.onEnded?.();
  }
}

/** Joins a call's media: resolves once the voices heard now are playing and the mic is sent. */
export async function join(opts: JoinOptions): Promise<DeskMediaSession> {
  const base = `/desk/api/calls/${encodeURIComponent(opts.callSid)}/media`;
  const joined = await request<{ peerId: string; routerRtpCapabilities: types.RtpCapabilities }>(
    'POST',
    `${base}/peers`,
    { mode: opts.mode },
  );
  const peer = new DeskMediaPeer(joined.peerId, base, opts);
  try {
    await peer.start(joined.routerRtpCapabilities);
  } catch (error) {
    await peer.leave();
    throw error;
  }
  return peer;
}

declare global {
  interface Window {
    deskMedia: { join: typeof join };
  }
}

window.deskMedia = { join };
