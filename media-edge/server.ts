// The edge's HTTP server: Twilio webhooks (with the transfer's dial status) and the Media
// Streams WebSocket (versioned), the agent desk's WebRTC signaling when given, and a liveness
// probe.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { pinoRedaction } from '../conversation/safety/redact';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import type { EdgeConfig } from './config';
import { deskMediaRoutes, type DeskMediaRoutesOptions } from './desk/webrtc/desk-media-routes';
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
  /** The agent desk's WebRTC signaling; without it the desk's media routes are not served. */
  deskMedia?: DeskMediaRoutesOptions;
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
  await app.register(dialStatusWebhook, { prefix: V1_PREFIX, config, temporalClient });
  if (deps.onStream)
    await app.register(mediaStreamV1, {
      prefix: V1_PREFIX,
      config: deps.config,
      onStream: deps.onStream,
    });
  if (deps.deskMedia) await app.register(deskMediaRoutes, deps.deskMedia);
  return app;
}
