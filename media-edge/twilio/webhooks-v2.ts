// Twilio voice webhooks, version 2, beside /v1 (which stays unchanged for numbers still
// configured with it). Same signed Twilio form payloads; two differences:
//   POST incoming: Twilio's caller metadata (CallerName, FromCity, FromState, FromCountry,
//     ForwardedFrom) goes into the workflow input as `metadata`, for the agent's context,
//     routing and the call record. The answer is the same <Connect><Stream> TwiML (the media
//     stream protocol did not change, so the stream stays on /v1/calls/stream).
//   POST status: answers JSON `{ accepted, callSid, callStatus }` instead of an empty body,
//     so an operator (or a proxy's log) can see whether a running call took the status.
// Metadata is untrusted caller-controlled data (CNAM, forwarding number): bounded, stripped
// of control characters, never instructions; it reaches history only as these fields.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { CallInput, CallMetadata } from '../../contracts/call';
import {
  answerIncomingCall,
  forwardCallStatus,
  maskPhone,
  requireTwilioSignature,
  type WebhookOptions,
} from './webhook-calls';
import { incomingFields, parseForm, statusForm } from './webhook-forms';

export const V2_PREFIX = '/v2/calls';

export type WebhooksV2Options = WebhookOptions;

// Control characters (incl. newlines) out, whitespace collapsed; empty means absent.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const optionalText = (name: string, max: number) =>
  z
    .string({ error: () => `${name} must be a single value` })
    .max(max, `${name} is too long (at most ${max} characters)`)
    .optional()
    .transform((s) => s?.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim() || undefined);

const incomingForm = z.object({
  ...incomingFields,
  CallerName: optionalText('CallerName', 64),
  FromCity: optionalText('FromCity', 64),
  FromState: optionalText('FromState', 64),
  FromCountry: optionalText('FromCountry', 8),
  ForwardedFrom: optionalText('ForwardedFrom', 64),
});

/** The metadata fields present, or undefined when Twilio sent none. */
export function callMetadata(form: z.infer<typeof incomingForm>): CallMetadata | undefined {
  const m: CallMetadata = {
    ...(form.CallerName && { callerName: form.CallerName }),
    ...(form.FromCity && { fromCity: form.FromCity }),
    ...(form.FromState && { fromState: form.FromState }),
    ...(form.FromCountry && { fromCountry: form.FromCountry }),
    ...(form.ForwardedFrom && { forwardedFrom: form.ForwardedFrom }),
  };
  return Object.keys(m).length > 0 ? m : undefined;
}

export const webhooksV2: FastifyPluginAsync<WebhooksV2Options> = async (app, opts) => {
  const { config, temporalClient } = opts;

  app.addHook('preHandler', requireTwilioSignature(config));

  app.post('/incoming', async (request, reply) => {
    const form = parseForm(incomingForm, request.body, reply);
    if (!form) return reply;
    const metadata = callMetadata(form);
    // Caller name and forwarding number are personal data: logged only as present or not.
    const log = request.log.child({
      callSid: form.CallSid,
      from: maskPhone(form.From),
      metadata: metadata ? Object.keys(metadata) : [],
    });
    const input: CallInput = {
      callSid: form.CallSid,
      from: form.From,
      to: form.To,
      config: config.call,
      ...(metadata && { metadata }),
    };
    return answerIncomingCall(opts, input, log, reply, ' (v2)');
  });

  app.post('/status', async (request, reply) => {
    const form = parseForm(statusForm, request.body, reply);
    if (!form) return reply;
    const log = request.log.child({ callSid: form.CallSid, callStatus: form.CallStatus });
    const answer = { callSid: form.CallSid, callStatus: form.CallStatus };
    if (await forwardCallStatus(temporalClient, form, log, ' (v2)')) {
      return reply.code(200).send({ accepted: true, ...answer });
    }
    // Still 2xx (Twilio would retry), but say that no running call took it.
    return reply.code(200).send({ accepted: false, ...answer, reason: 'no running call' });
  });
};
