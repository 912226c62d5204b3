// The desk's WebRTC signaling: JSON over HTTP under /desk/api/calls/:callSid/media, and the
// browser client's bundle at /desk/media.js. Every request needs a signed-in desk user (401);
// a mode beyond the user's role is 403, an unknown call or someone else's peer 404, a bad
// body 400 with what is wrong.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { types } from 'mediasoup';
import type { CallMediaDirectory } from '../../media/call-media';
import type { AuthenticateDeskUser, DeskUser } from '../desk-user';
import { deskMediaBundle } from './client-bundle';
import { DESK_MEDIA_MODES, DeskMediaError, DeskPeers, type DeskMediaMode } from './desk-peers';

export interface DeskMediaRoutesOptions {
  calls: CallMediaDirectory;
  authenticate: AuthenticateDeskUser;
  /**
   * Whether the user has the call (took it over, not handed back): only they may talk to the
   * caller. Absent: the role alone decides.
   */
  holdsCall?(callSid: string, user: DeskUser): Promise<boolean>;
  /** Where the browsers' transports listen (the media plane's MEDIASOUP_* settings). */
  listenInfo: types.TransportListenInfo;
}

export const DESK_MEDIA_SCRIPT_PATH = '/desk/media.js';
const CALL = '/desk/api/calls/:callSid/media';
const PEER = `${CALL}/peers/:peerId`;

type PeerParams = { callSid: string; peerId: string };

const object = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
});
const json = { type: 'object' };
const id = { type: 'string', minLength: 1, maxLength: 100 };

export const deskMediaRoutes: FastifyPluginAsync<DeskMediaRoutesOptions> = async (app, opts) => {
  const peers = new DeskPeers(opts.calls, opts.listenInfo);
  const users = new WeakMap<FastifyRequest, DeskUser>();
  const user = (request: FastifyRequest): DeskUser => users.get(request)!;
  const peer = (request: FastifyRequest<{ Params: PeerParams }>) =>
    peers.peer(request.params.callSid, request.params.peerId, user(request));

  app.addHook('onClose', () => peers.close());
  app.addHook('onRequest', async (request, reply) => {
    const signedIn = opts.authenticate(request);
    if (!signedIn) return reply.code(401).send({ error: 'sign in to the desk first' });
    users.set(request, signedIn);
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply: FastifyReply) => {
    if (error instanceof DeskMediaError)
      return reply.code(error.statusCode).send({ error: error.message });
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'desk media request failed');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : error.message });
  });

  app.get(DESK_MEDIA_SCRIPT_PATH, async (_request, reply) =>
    reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(await deskMediaBundle()),
  );

  app.post<{ Params: { callSid: string }; Body: { mode: DeskMediaMode } }>(
    `${CALL}/peers`,
    { schema: { body: object({ mode: { type: 'string', enum: DESK_MEDIA_MODES } }) } },
    async (request, reply) => {
      const { callSid } = request.params;
      if (
        request.body.mode === 'talk' &&
        opts.holdsCall &&
        !(await opts.holdsCall(callSid, user(request)))
      )
        // prettier-ignore
        throw new DeskMediaError(403, 'talk to a caller after taking the call over');
      const joined = await peers.join(callSid, user(request), request.body.mode);
      request.log.info(
        {
          callSid: request.params.callSid,
          peerId: joined.id,
          mode: joined.mode,
          user: joined.user.name,
        },
        'desk peer joined',
      );
      return reply.code(201).send({
        peerId: joined.id,
        routerRtpCapabilities: joined.routerRtpCapabilities,
      });
    },
  );

  app.post<{ Params: PeerParams; Body: { direction: 'send' | 'recv' } }>(
    `${PEER}/transports`,
    { schema: { body: object({ direction: { type: 'string', enum: ['send', 'recv'] } }) } },
    async (request) => (await peer(request)).createTransport(request.body.direction),
  );

  app.post<{
    Params: PeerParams & { transportId: string };
    Body: { dtlsParameters: types.DtlsParameters };
  }>(
    `${PEER}/transports/:transportId/connect`,
    { schema: { body: object({ dtlsParameters: json }) } },
    async (request) => {
      await (await peer(request)).connect(request.params.transportId, request.body.dtlsParameters);
      return { ok: true };
    },
  );

  app.post<{
    Params: PeerParams;
    Body: { transportId: string; rtpParameters: types.RtpParameters };
  }>(
    `${PEER}/produce`,
    { schema: { body: object({ transportId: id, rtpParameters: json }) } },
    async (request) => ({
      id: await (await peer(request)).produce(request.body.transportId, request.body.rtpParameters),
    }),
  );

  app.post<{
    Params: PeerParams;
    Body: { producerId: string; rtpCapabilities: types.RtpCapabilities };
  }>(
    `${PEER}/consume`,
    { schema: { body: object({ producerId: id, rtpCapabilities: json }) } },
    async (request) =>
      (await peer(request)).consume(request.body.producerId, request.body.rtpCapabilities),
  );

  app.post<{ Params: PeerParams & { consumerId: string } }>(
    `${PEER}/consumers/:consumerId/resume`,
    async (request) => {
      await (await peer(request)).resume(request.params.consumerId);
      return { ok: true };
    },
  );

  app.get<{ Params: PeerParams }>(`${PEER}/voices`, async (request) => ({
    voices: (await peer(request)).audible(),
  }));

  app.delete<{ Params: PeerParams }>(PEER, async (request) => {
    (await peer(request)).close();
    return { ok: true };
  });
};
