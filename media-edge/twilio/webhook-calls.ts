// What /v1 and /v2 Twilio webhooks do alike: check X-Twilio-Signature, start (or reach)
// the call workflow and answer <Connect><Stream> TwiML, forward a status to the workflow.
// The versions differ only in the workflow input they build and in the status answer.
import type { FastifyBaseLogger, FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import twilio from 'twilio';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import {
  CALL_TASK_QUEUE,
  CALLER_MEMO,
  SA_CALLER_NUMBER,
  callStatusSignal,
  callWorkflowId,
  type CallInput,
} from '../../contracts/call';
import { callerNumberIndex } from '../../infra/caller-index';
import type { EdgeConfig } from '../config';
import { issueStreamToken } from './stream-token';
import { isValidTwilioSignature } from './signature';
import type { StatusForm } from './webhook-forms';

export const V1_PREFIX = '/v1/calls';
/** The media stream route; /v2 answers with it too (the stream protocol did not change). */
export const STREAM_PATH_V1 = `${V1_PREFIX}/stream`;
/** Workflow type name; by string so the edge does not load workflow code. */
export const CALL_WORKFLOW_TYPE = 'callWorkflow';

export interface WebhookOptions {
  config: EdgeConfig;
  temporalClient: Client;
}

/** Keeps only the last 4 digits of a phone number (or any caller id) for logs. */
export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  return `***${digits.slice(-4)}`;
}

/** wss:// (or ws:// for a plain-http dev URL) address of the media stream route. */
export function streamUrl(publicUrl: string): string {
  const url = new URL(publicUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${STREAM_PATH_V1}`;
  return url.toString();
}

/** preHandler answering 403 to a request without a valid X-Twilio-Signature. */
export function requireTwilioSignature(config: EdgeConfig): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    if (!isValidTwilioSignature(config.twilioAuthToken, config.publicUrl, request)) {
      const reason = request.headers['x-twilio-signature'] ? 'invalid' : 'missing';
      request.log.warn({ reason }, 'rejected webhook: bad X-Twilio-Signature');
      return reply.code(403).send({ error: 'Forbidden', message: 'invalid Twilio signature' });
    }
  };
}

/** Answers a webhook with TwiML. */
export const sendTwiml = (reply: FastifyReply, twiml: twilio.twiml.VoiceResponse): FastifyReply =>
  reply.code(200).type('text/xml').send(twiml.toString());

/**
 * Starts (or reaches) the call's workflow with `input` and answers the stream TwiML, or
 * <Hangup/> when this CallSid's workflow already ended. `logNote` tells versions apart.
 */
export async function answerIncomingCall(
  { config, temporalClient }: WebhookOptions,
  input: CallInput,
  log: FastifyBaseLogger,
  reply: FastifyReply,
  logNote = '',
): Promise<FastifyReply> {
  try {
    const handle = await temporalClient.workflow.start(CALL_WORKFLOW_TYPE, {
      taskQueue: CALL_TASK_QUEUE,
      workflowId: callWorkflowId(input.callSid),
      args: [input],
      // A retried webhook while the call runs reaches the same run...
      workflowIdConflictPolicy: 'USE_EXISTING',
      // ...and a finished call's sid is never started again.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      // Found by number through a keyed hash; the number itself only encrypted, in the memo.
      typedSearchAttributes: [{ key: SA_CALLER_NUMBER, value: callerNumberIndex(input.from) }],
      memo: { [CALLER_MEMO]: input.from },
    });
    log.info({ workflowId: handle.workflowId }, `call workflow started or reached${logNote}`);
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
    value: issueStreamToken(config.streamTokenSecret, input.callSid, config.streamTokenTtlMs),
  });
  stream.parameter({ name: 'callSid', value: input.callSid });
  return sendTwiml(reply, twiml);
}

/** Signals the status to the call's workflow; false when no running workflow took it. */
export async function forwardCallStatus(
  temporalClient: Client,
  form: StatusForm,
  log: FastifyBaseLogger,
  logNote = '',
): Promise<boolean> {
  try {
    await temporalClient.workflow
      .getHandle(callWorkflowId(form.CallSid))
      .signal(callStatusSignal, form.CallStatus);
    log.info(`call status forwarded to workflow${logNote}`);
    return true;
  } catch (err) {
    // Unknown or already closed: nothing to tell. The caller still answers 2xx, since
    // Twilio retries otherwise.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    log.info('call status for a call with no running workflow; ignored');
    return false;
  }
}
