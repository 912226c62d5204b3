// The desk's signaling routes on a Fastify server of their own, over a real mediasoup router
// (PCMU only) holding RtpCallerMedia calls: what the desk WebRTC tests and the bridge bench
// run against. Sign-in is a test header, `x-desk-user: <name>:<agent|supervisor>`.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { types } from 'mediasoup';
import type { DeskUser } from '../media-edge/desk/desk-user';
import { deskMediaRoutes } from '../media-edge/desk/webrtc/desk-media-routes';
import { CallMediaMap, RtpCallerMedia, startPcmuRouter } from './rtp-call-media';

export const DESK_USER_HEADER = 'x-desk-user';

export const signedIn = (user: DeskUser): Record<string, string> => ({
  [DESK_USER_HEADER]: `${user.name}:${user.role}`,
});

function headerUser(request: FastifyRequest): DeskUser | undefined {
  const [name, role] = String(request.headers[DESK_USER_HEADER] ?? '').split(':');
  return name && (role === 'agent' || role === 'supervisor') ? { name, role } : undefined;
}

export class DeskMediaStack {
  private constructor(
    readonly worker: types.Worker,
    readonly router: types.Router,
    readonly app: FastifyInstance,
    readonly baseUrl: string,
    readonly calls: CallMediaMap,
  ) {}

  static async start(): Promise<DeskMediaStack> {
    const { worker, router } = await startPcmuRouter();
    const app = Fastify({ logger: false });
    const calls = new CallMediaMap();
    await app.register(deskMediaRoutes, {
      calls,
      authenticate: headerUser,
      listenInfo: { protocol: 'udp', ip: '127.0.0.1', portRange: { min: 40_000, max: 49_999 } },
    });
    // A blank page of this origin, for the client's same-origin requests.
    app.get('/desk/media-test', async (_req, reply) =>
      reply.type('text/html').send('<!doctype html><html><body></body></html>'),
    );
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return new DeskMediaStack(worker, router, app, url, calls);
  }

  /** A call whose caller's RTP runs from now on. */
  async call(callSid: string): Promise<RtpCallerMedia> {
    const media = await RtpCallerMedia.open(this.router, callSid);
    this.calls.add(media);
    media.start();
    return media;
  }

  async hangUp(media: RtpCallerMedia): Promise<void> {
    this.calls.delete(media.callSid);
    await media.close();
  }

  async stop(): Promise<void> {
    await this.app.close();
    this.worker.close();
  }
}
