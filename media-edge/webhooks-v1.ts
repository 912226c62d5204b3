// Twilio voice webhooks, version 1. Registered under V1_PREFIX so a /v2 can live beside it.
//   POST incoming: start (or reach) the call workflow, answer <Connect><Stream> TwiML.
//   POST status:   forward Twilio's call status to the workflow as a signal.
// Every request must carry a valid X-Twilio-Signature; both routes change call state.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import twilio from 'twilio';
import { z } from 'zod';
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import {
  CALL_TASK_QUEUE,
  SA_CALLER_NUMBER,
  callStatusSignal,
  callWorkflowId,
  type CallInput,
  type TwilioCallStatus,
} from '../workflows/definitions';
import type { EdgeConfig } from './config';
import { issueStreamToken } from './stream-token';
import { isValidTwilioSignature } from './twilio-signature';

export const V1_PREFIX = '/v1/calls';
export const STREAM_PATH_V1 = `${V1_PREFIX}/stream`;
/** Workflow type name; by string so the edge does not load workflow code. */
export const CALL_WORKFLOW_TYPE = 'callWorkflow';

export interface WebhooksV1Options {
  config: EdgeConfig;
  temporalClient: Client;
}

/** Keeps only the last 4 digits of a phone number (or any caller id) for logs. */
export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  return `***${digits.slice(-4)}`;
}

const field = (name: string) =>
  z.string({
    error: (iss) =>
      iss.input === undefined ? `${name} is required` : `${name} must be a single value`,
  });

// Twilio CallSids are "CA" + 32 hex; anything else is not a Twilio call and must not
// become a workflow id.
const callSid = field('CallSid').regex(
  /^CA[0-9a-fA-F]{32}$/,
  'CallSid must be "CA" followed by 32 hex digits',
);
// From/To are usually E.164, but may be "client:…", "sip:…" or "anonymous".
const party = (name: string) =>
  field(name).min(1, `${name} must not be empty`).max(256, `${name} is too long`);

const incomingForm = z.object({ CallSid: callSid, From: party('From'), To: party('To') });

// Keyed by the union, so the compiler flags a status added to definitions.ts but not here.
const KNOWN_STATUSES: Record<TwilioCallStatus, true> = {
  queued: true,
  ringing: true,
  'in-progress': true,
  completed: true,
  busy: true,
  failed: true,
  'no-answer': true,
  canceled: true,
};
const CALL_STATUSES = Object.keys(KNOWN_STATUSES) as [TwilioCallStatus, ...TwilioCallStatus[]];

const statusForm = z.object({
  CallSid: callSid,
  CallStatus: z.enum(CALL_STATUSES, {
    error: (iss) =>
      iss.input === undefined
        ? 'CallStatus is required'
        : `CallStatus must be one of ${CALL_STATUSES.join(', ')}`,
  }),
});

function parseForm<T>(schema: z.ZodType<T>, body: unknown, reply: FastifyReply): T | undefined {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues.map((i) => i.message).join('; ');
  reply.code(400).send({ error: 'Bad Request', message });
  return undefined;
}

const sendTwiml = (reply: FastifyReply, twiml: twilio.twiml.VoiceResponse): FastifyReply =>
  reply.code(200).type('text/xml').send(twiml.toString());

/** wss:// (or ws:// for a plain-http dev URL) address of the media stream route. */
export function streamUrl(publicUrl: string): string {
  const url = new URL(publicUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${STREAM_PATH_V1}`;
  return url.toString();
}

export const webhooksV1: FastifyPluginAsync<WebhooksV1Options> = async (app, opts) => {
  const { config, temporalClient } = opts;

  app.addHook('preHandler', async (request, reply) => {
    if (!isValidTwilioSignature(config.twilioAuthToken, config.publicUrl, request)) {
      const reason = request.headers['x-twilio-signature'] ? 'invalid' : 'missing';
      request.log.warn({ reason }, 'rejected webhook: bad X-Twilio-Signature');
      return reply.code(403).send({ error: 'Forbidden', message: 'invalid Twilio signature' });
    }
  });

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

    try {
      const handle = await temporalClient.workflow.start(CALL_WORKFLOW_TYPE, {
        taskQueue: CALL_TASK_QUEUE,
        workflowId: callWorkflowId(form.CallSid),
        args: [input],
        // A retried webhook while the call runs reaches the same run...
        workflowIdConflictPolicy: 'USE_EXISTING',
        // ...and a finished call's sid is never started again.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [{ key: SA_CALLER_NUMBER, value: form.From }],
      });
      log.info({ workflowId: handle.workflowId }, 'call workflow started or reached');
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        log.warn('incoming webhook for a call whose workflow already ended; hanging up');
        const twiml = new twilio.twiml.VoiceResponse();
        twiml.hangup();
        return sendTwiml(reply, twiml);
      }
      throw err; // 500: Twilio then uses the number's fallback URL
    }

    const twiml = new twilio.twiml.VoiceResponse();
    const stream = twiml.connect().stream({ url: streamUrl(config.publicUrl) });
    stream.parameter({
      name: 'token',
      value: issueStreamToken(config.streamTokenSecret, form.CallSid, config.streamTokenTtlMs),
    });
    stream.parameter({ name: 'callSid', value: form.CallSid });
    return sendTwiml(reply, twiml);
  });

  app.post('/status', async (request, reply) => {
    const form = parseForm(statusForm, request.body, reply);
    if (!form) return reply;
    const log = request.log.child({ callSid: form.CallSid, callStatus: form.CallStatus });
    try {
      await temporalClient.workflow
        .getHandle(callWorkflowId(form.CallSid))
        .signal(callStatusSignal, form.CallStatus);
      log.info('call status forwarded to workflow');
    } catch (err) {
      // Unknown or already closed: nothing to tell. Still 2xx, since Twilio retries otherwise.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      log.info('call status for a call with no running workflow; ignored');
    }
    return reply.code(200).send();
  });
};
