// The edge's HTTP server: Twilio webhooks (with the transfer's dial status) and the Media
// Streams WebSocket (versioned), a liveness probe, and the agent desk when it has users (with
// its WebRTC signaling when the media plane is on).
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import formbody from '@fastify/formbody';
import { pinoRedaction } from '../conversation/safety/redact';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import type { EdgeConfig } from './config';
import type { types } from 'mediasoup';
import type { CallMediaDirectory } from './media/call-media';
import { deskRoutes, type DeskRoutesOptions } from './desk/desk-routes';
import type { DeskUser } from './desk/desk-user';
import { DESK_MEDIA_SCRIPT_PATH, deskMediaRoutes } from './desk/webrtc/desk-media-routes';
import type { Telephony } from '../providers/telephony/port';
import { agentSummaryWebhook } from './twilio/agent-briefing';
import { dialStatusWebhook } from './twilio/dial-status';
import { mediaStreamV1, type MediaStreamSession } from './twilio/media-stream';
import { V1_PREFIX, webhooksV1 } from './twilio/webhooks-v1';
import { V2_PREFIX, webhooksV2 } from './twilio/webhooks-v2';

export interface EdgeServerDeps {
  config: EdgeConfig;
  temporalClient: Client;
  logger?: FastifyBaseLogger;
  /** Runs one call's audio; without it the stream route is not served (webhook-only edge). */
  onStream?: (session: MediaStreamSession) => void | Promise<void>;
  /** The calls this host holds in its media plane's router (MEDIA_PLANE=on), for the desk. */
  callMedia?: { calls: CallMediaDirectory; listenInfo: types.TransportListenInfo };
  /** The agent desk; without it (no desk users configured) no /desk route is served. */
  desk?: DeskRoutesOptions;
  /** Twilio's REST API, for a warm transfer's briefing; without it the agent joins unbriefed. */
  telephony?: Telephony;
}

export async function buildEdgeServer(deps: EdgeServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger ?? pino({ ...pinoRedaction, name: 'media-edge' }),
    // Twilio webhook bodies are a few hundred bytes; refuse anything large.
    bodyLimit: 64 * 1024,
  });
  await app.register(formbody);
  app.get('/healthz', async () => ({ ok: true }));
  await app.register(webhooksV1, {
    prefix: V1_PREFIX,
    config: deps.config,
    temporalClient: deps.temporalClient,
  });
  const { config, temporalClient } = deps;
  await app.register(webhooksV2, { prefix: V2_PREFIX, config, temporalClient });
  const { telephony } = deps;
  await app.register(dialStatusWebhook, { prefix: V1_PREFIX, config, temporalClient, ...(telephony && { telephony }) }); // prettier-ignore
  await app.register(agentSummaryWebhook, { prefix: V1_PREFIX, config, temporalClient });
  if (deps.onStream)
    await app.register(mediaStreamV1, {
      prefix: V1_PREFIX,
      config: deps.config,
      onStream: deps.onStream,
    });
  const { desk, callMedia } = deps;
  if (desk) {
    // Audio on the desk needs the router that holds the calls; without it the pages say so.
    const media = callMedia && {
      ...callMedia,
      authenticate: (req: FastifyRequest) => desk.auth.authenticate(req),
      holdsCall: async (callSid: string, user: DeskUser) => {
        const handoff = (await desk.calls.call(callSid))?.handoff;
        return handoff?.status === 'with_human' && handoff.agent === user.name;
      },
    };
    await app.register(deskRoutes, {
      ...desk,
      ...(media && { mediaScripts: [DESK_MEDIA_SCRIPT_PATH] }),
    });
    if (media) await app.register(deskMediaRoutes, media);
  }
  return app;
}
