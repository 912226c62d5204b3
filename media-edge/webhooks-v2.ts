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
import { CALL_WORKFLOW_TYPE, maskPhone, streamUrl } from './webhooks-v1';

export const V2_PREFIX = '/v2/calls';

/**
 * Caller metadata Twilio sends with a voice webhook, when it has it. Belongs beside CallInput
 * in workflows/definitions.ts (as `CallInput.metadata?: CallMetadata`).
 */
export interface CallMetadata {
  /** CNAM caller name (Twilio's CallerName, when caller-name lookup is on). */
  callerName?: string;
  fromCity?: string;
  fromState?: string;
  fromCountry?: string;
  /** The number that forwarded the call to us (Twilio's ForwardedFrom). */
  forwardedFrom?: string;
}

/** CallInput as /v2 starts it (until definitions.ts carries `metadata` itself). */
export type CallInputV2 = CallInput & { metadata?: CallMetadata };

export interface WebhooksV2Options {
  config: EdgeConfig;
  temporalClient: Client;
}

const field = (name: string) =>
  z.string({
    error: (iss) =>
      iss.input === undefined ? `${name} is required` : `${name} must be a single value`,
  });

const callSid = field('CallSid').regex(
  /^CA[0-9a-fA-F]{32}$/,
  'CallSid must be "CA" followed by 32 hex digits',
);
const party = (name: string) =>
  field(name).min(1, `${name} must not be empty`).max(256, `${name} is too long`);

// Control characters (incl. newlines) out, whitespace collapsed; empty means absent.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const optionalText = (name: string, max: number) =>
  z
    .string({ error: () => `${name} must be a single value` })
    .max(max, `${name} is too long (at most ${max} characters)`)
    .optional()
    .transform((s) => s?.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim() || undefined);

const incomingForm = z.object({
  CallSid: callSid,
  From: party('From'),
  To: party('To'),
  CallerName: optionalText('CallerName', 64),
  FromCity: optionalText('FromCity', 64),
  FromState: optionalText('FromState', 64),
  FromCountry: optionalText('FromCountry', 8),
  ForwardedFrom: optionalText('ForwardedFrom', 64),
});

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

const sendTwiml = (reply: FastifyReply, twiml: twilio.twiml.VoiceResponse): FastifyReply =>
  reply.code(200).type('text/xml').send(twiml.toString());

export const webhooksV2: FastifyPluginAsync<WebhooksV2Options> = async (app, opts) => {
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
    const metadata = callMetadata(form);
    // Caller name and forwarding number are personal data: logged only as present or not.
    const log = request.log.child({
      callSid: form.CallSid,
      from: maskPhone(form.From),
      metadata: metadata ? Object.keys(metadata) : [],
    });
    const input: CallInputV2 = {
      callSid: form.CallSid,
      from: form.From,
      to: form.To,
      config: config.call,
      ...(metadata && { metadata }),
    };
    try {
      const handle = await temporalClient.workflow.start(CALL_WORKFLOW_TYPE, {
        taskQueue: CALL_TASK_QUEUE,
        workflowId: callWorkflowId(form.CallSid),
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [{ key: SA_CALLER_NUMBER, value: form.From }],
      });
      log.info({ workflowId: handle.workflowId }, 'call workflow started or reached (v2)');
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        log.warn('incoming webhook for a call whose workflow already ended; hanging up');
        const twiml = new twilio.twiml.VoiceResponse();
        twiml.hangup();
        return sendTwiml(reply, twiml);
      }
      throw err;
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
    const answer = { callSid: form.CallSid, callStatus: form.CallStatus };
    try {
      await temporalClient.workflow
        .getHandle(callWorkflowId(form.CallSid))
        .signal(callStatusSignal, form.CallStatus);
      log.info('call status forwarded to workflow (v2)');
      return reply.code(200).send({ accepted: true, ...answer });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // Still 2xx (Twilio would retry), but say that no running call took it.
      log.info('call status for a call with no running workflow; ignored');
      return reply.code(200).send({ accepted: false, ...answer, reason: 'no running call' });
    }
  });
};
