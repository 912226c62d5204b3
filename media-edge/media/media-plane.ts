// The edge host's media plane: one mediasoup worker and one router, into which every call
// this host holds is bridged (bridged-call.ts), so a human agent's browser (WebRTC, on the
// same router) can hear the caller and be heard. The router knows one codec, PCMU 8 kHz
// mono: browsers then send PCMU too, and nothing is transcoded anywhere.
//
// The plane is beside the call, never in its way: a call is answered, heard and spoken to by
// the AI whether or not its bridge opened. If the worker dies, the calls lose their bridges
// (a human on one drops off), the death is logged, and a new worker and router are started
// and the live calls bridged into them again.
import fs from 'node:fs';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { CallMedia, CallMediaDirectory } from './call-media';
import { BridgedCall, type VoiceOutlet } from './bridged-call';
import type { MediaPlaneConfig } from './media-plane-config';

/** The call as the plane needs it: its caller's frames and its end. */
export interface BridgeableStream {
  readonly callSid: string;
  on(event: 'audio', listener: (mulaw: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

export const ROUTER_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000, preferredPayloadType: 0 },
];

/** The worker binary is not there: the edge cannot start with MEDIA_PLANE=on. */
export class MediaWorkerMissingError extends Error {
  override name = 'MediaWorkerMissingError';
  constructor(bin: string | undefined) {
    super(
      `the mediasoup worker is not built${bin ? ` (no ${bin})` : ' (MEDIASOUP_WORKER_BIN is unset)'}: ` +
        'run ./switchboard infra up, which builds it once (≈ 13 min on 2 cores), ' +
        'or start the edge with MEDIA_PLANE=off (no human agents on calls)',
    );
  }
}

interface HeldCall {
  stream: BridgeableStream;
  line: VoiceOutlet;
  bridge?: BridgedCall;
  ended: boolean;
}

type Log = (msg: string, fields?: Record<string, unknown>) => void;

/** First retry after a worker death or a failed start; doubles up to the cap. */
const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 30_000;

export class MediaPlane implements CallMediaDirectory {
  private readonly calls = new Map<string, HeldCall>();
  private readonly byCallerProducer = new Map<string, BridgedCall>();
  private worker: types.Worker | undefined;
  private router: types.Router | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Worker deaths since the plane started (each is logged). */
  workerDeaths = 0;

  private constructor(
    private readonly config: MediaPlaneConfig,
    private readonly log: Log,
  ) {}

  /** Starts the worker and router; a missing worker binary fails here, naming the fix. */
  static async start(config: MediaPlaneConfig, log: Log): Promise<MediaPlane> {
    const bin = process.env.MEDIASOUP_WORKER_BIN;
    if (!bin || !fs.existsSync(bin)) throw new MediaWorkerMissingError(bin);
    const plane = new MediaPlane(config, log);
    await plane.startWorker();
    return plane;
  }

  /** Where the desk's WebRTC transports listen (MEDIASOUP_LISTEN_IP, …). */
  get webRtcListenInfo(): types.TransportListenInfo {
    const { listenIp, announcedAddress, rtcMinPort, rtcMaxPort } = this.config;
    return {
      protocol: 'udp',
      ip: listenIp,
      ...(announcedAddress && { announcedAddress }),
      portRange: { min: rtcMinPort, max: rtcMaxPort },
    };
  }

  /** The worker's pid (ops and tests); undefined while it is being restarted. */
  get workerPid(): number | undefined {
    return this.worker?.pid;
  }

  /** The call's bridge; undefined for a call not on this host, or while it is (re)opening. */
  callMedia(callSid: string): CallMedia | undefined {
    const bridge = this.calls.get(callSid)?.bridge;
    return bridge && !bridge.isClosed ? bridge : undefined;
  }

  /**
   * A call this host holds joins the plane until its stream closes. Its bridge opens now, off
   * the call's path: the caller's frames reach the router only once something consumes them.
   */
  join(stream: BridgeableStream, line: VoiceOutlet): void {
    const call: HeldCall = { stream, line, ended: false };
    this.calls.set(stream.callSid, call);
    stream.on('audio', (mulaw) => call.bridge?.callerFrame(mulaw));
    stream.on('close', () => this.leave(call));
    void this.bridge(call);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    for (const call of this.calls.values()) this.unbridge(call);
    this.calls.clear();
    this.worker?.close();
  }

  private async bridge(call: HeldCall): Promise<void> {
    const router = this.router;
    if (!router || call.ended || call.bridge) return;
    try {
      const bridge = await BridgedCall.open(router, call.stream.callSid, call.line);
      // The call ended, or the router went, while the bridge was opening.
      if (call.ended || router !== this.router || call.bridge) return bridge.close();
      call.bridge = bridge;
      this.byCallerProducer.set(bridge.callerProducerId, bridge);
    } catch (err) {
      this.log('call not bridged into the media plane (the AI path is unaffected)', {
        callSid: call.stream.callSid,
        error: (err as Error).message,
      });
    }
  }

  private leave(call: HeldCall): void {
    call.ended = true;
    this.unbridge(call);
    if (this.calls.get(call.stream.callSid) === call) this.calls.delete(call.stream.callSid);
  }

  private unbridge(call: HeldCall): void {
    const bridge = call.bridge;
    if (!bridge) return;
    call.bridge = undefined;
    this.byCallerProducer.delete(bridge.callerProducerId);
    bridge.close();
  }

  private async startWorker(): Promise<void> {
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      rtcMinPort: this.config.rtcMinPort,
      rtcMaxPort: this.config.rtcMaxPort,
      disableLiburing: true,
    });
    try {
      const router = await worker.createRouter({ mediaCodecs: ROUTER_CODECS });
      // Counts who consumes each call's caller: packets flow only while someone does.
      router.observer.on('newtransport', (transport) =>
        transport.observer.on('newconsumer', (consumer) => {
          const bridge = this.byCallerProducer.get(consumer.producerId);
          if (!bridge) return;
          bridge.listenerAdded();
          consumer.observer.once('close', () => bridge.listenerRemoved());
        }),
      );
      worker.once('died', (err) => this.workerDied(worker, err));
      this.worker = worker;
      this.router = router;
    } catch (err) {
      worker.close();
      throw err;
    }
    this.log('media plane up', { workerPid: worker.pid, calls: this.calls.size });
    await Promise.all([...this.calls.values()].map((call) => this.bridge(call)));
  }

  private workerDied(worker: types.Worker, err: Error): void {
    if (this.closed || worker !== this.worker) return;
    this.workerDeaths += 1;
    this.worker = undefined;
    this.router = undefined;
    for (const call of this.calls.values()) this.unbridge(call);
    this.log('mediasoup worker died: calls go on without the media plane; restarting it', {
      workerPid: worker.pid,
      error: err.message,
      calls: this.calls.size,
    });
    this.scheduleRestart(RESTART_FIRST_MS);
  }

  private scheduleRestart(delayMs: number): void {
    this.restartTimer = setTimeout(() => {
      this.startWorker().catch((err: Error) => {
        this.log('mediasoup worker did not start; retrying', { error: err.message, delayMs });
        if (!this.closed) this.scheduleRestart(Math.min(delayMs * 2, RESTART_MAX_MS));
      });
    }, delayMs);
    this.restartTimer.unref();
  }
}
