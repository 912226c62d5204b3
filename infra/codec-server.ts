// The Temporal Web UI's remote codec: the UI posts the encrypted payloads it shows to /decode
// (and what an operator types, to /encode) and renders what comes back, so a call stays
// inspectable while the server holds only ciphertext. It decrypts for whoever reaches it:
// it listens on loopback by default and answers browsers only from the UI's origins.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';

/** A payload as the UI sends it (proto3 JSON): bytes as base64. */
const jsonPayload = z.object({
  metadata: z.record(z.string(), z.string()).nullish(),
  data: z.string().nullish(),
});
const body = z.object({ payloads: z.array(jsonPayload) });
type JsonPayload = z.infer<typeof jsonPayload>;

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

export function buildCodecServer(
  codec: PayloadCodec,
  opts: { origins: readonly string[]; log?: (line: string) => void },
): FastifyInstance {
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin) return; // not a browser (curl, the CLI)
    if (!opts.origins.includes(origin))
      return reply.code(403).send({ error: `origin ${origin} may not use this codec` });
    reply
      .header('access-control-allow-origin', origin)
      .header('vary', 'origin')
      .header('access-control-allow-credentials', 'true')
      .header('access-control-allow-methods', 'POST, OPTIONS')
      .header('access-control-allow-headers', 'content-type, x-namespace, authorization');
  });
  app.options('/*', (_req, reply) => reply.code(204).send());
  for (const op of ['decode', 'encode'] as const)
    app.post(`/${op}`, async (req, reply) => {
      const parsed = body.safeParse(req.body);
      if (!parsed.success)
        return reply.code(400).send({ error: 'expected {"payloads": [{metadata, data}, …]}' });
      const payloads = await Promise.all(
        parsed.data.payloads.map(async (p) => {
          try {
            return toJson((await codec[op]([fromJson(p)]))[0]!);
          } catch (err) {
            // One payload under a key no longer held stays ciphertext; the rest still show.
            opts.log?.(
              `could not ${op} a payload: ${err instanceof Error ? err.message : String(err)}`,
            );
            return p;
          }
        }),
      );
      return { payloads };
    });
  return app;
}
