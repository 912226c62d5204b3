// Twilio voice webhooks, version 1. Registered under V1_PREFIX so a /v2 can live beside it.
//   POST incoming: start (or reach) the call workflow, answer <Connect><Stream> TwiML.
//   POST status:   forward Twilio's call status to the workflow as a signal.
// Every request must carry a valid X-Twilio-Signature; both routes change call state.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { CallInput } from '../../contracts/call';
import {
  answerIncomingCall,
  forwardCallStatus,
  maskPhone,
  requireTwilioSignature,
  type WebhookOptions,
} from './webhook-calls';
import { incomingFields, parseForm, statusForm } from './webhook-forms';

// Their home is webhook-calls.ts (shared with /v2); exported here as before.
export {
  CALL_WORKFLOW_TYPE,
  STREAM_PATH_V1,
  V1_PREFIX,
  maskPhone,
  streamUrl,
} from './webhook-calls';

export type WebhooksV1Options = WebhookOptions;

const incomingForm = z.object(incomingFields);

export const webhooksV1: FastifyPluginAsync<WebhooksV1Options> = async (app, opts) => {
  const { config, temporalClient } = opts;

  app.addHook('preHandler', requireTwilioSignature(config));

  app.post('/incoming', async (request, reply) => {
    const form = parseForm(incomingForm, request.body, reply);
    if (!form) return reply;
    const log = request.log.child({ callSid: form.CallSid, from: maskPhone(form.From) });
    const input: CallInput = {
      callSid: form.CallSid,
      from: form.From,
      to: form.To,
      config: config.call,
    };
    return answerIncomingCall(opts, input, log, reply);
  });

  app.post('/status', async (request, reply) => {
    const form = parseForm(statusForm, request.body, reply);
    if (!form) return reply;
    const log = request.log.child({ callSid: form.CallSid, callStatus: form.CallStatus });
    await forwardCallStatus(temporalClient, form, log);
    return reply.code(200).send();
  });
};
