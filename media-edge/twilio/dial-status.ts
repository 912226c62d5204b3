// The transfer's <Dial action> webhook (POST /v1/calls/dial-status): Twilio calls it when
// the dial to the agents' queue ends, with the caller still on the line. Nobody took the
// call (DialCallStatus no-answer, busy, failed): the caller hears that no agent is free and
// that they will be called back (or to call again, without a callable number), then the call ends; the call's workflow is signalled and
// schedules the callback. An agent who took it and hung up (completed): the call ends. An
// outcome the workflow no longer takes (it ended: the dial outlasted its wait) is late: a
// missed one starts the callback from here (late-dial.ts), an answered one is logged.
// A warm transfer's agent leg reports its final status to POST /v1/calls/agent-status instead
// (the caller is in a conference then; the workflow tells them; a late missed one is called
// back from here too, the caller's number read from the call's input); its conference's events
// come there too, and agent-briefing.ts acts on them. Signature-checked like every Twilio
// webhook.
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import twilio from 'twilio';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import {
  callWorkflowId,
  dialStatusSignal,
  MISSED_DIAL_STATUSES,
  noAgentLine,
  type DialCallStatus,
} from '../../contracts/call';
import type { Telephony } from '../../providers/telephony/port';
import { conferenceEventForm, isConferenceEvent, onConferenceEvent } from './agent-briefing';
import { callParties, startLateCallback } from './late-dial';
import { maskPhone, requireTwilioSignature, sendTwiml, type WebhookOptions } from './webhook-calls';
import { incomingFields, parseForm } from './webhook-forms';

const DIAL_STATUSES: Record<DialCallStatus, true> = {
  completed: true,
  answered: true,
  busy: true,
  'no-answer': true,
  failed: true,
  canceled: true,
};

const dialStatusForm = z.object({
  CallSid: incomingFields.CallSid,
  /** The caller: told a callback is coming only when their number can be called. */
  From: z.string().optional(),
  /** The number they called: a late callback comes from it. */
  To: z.string().optional(),
  DialCallStatus: z.enum(Object.keys(DIAL_STATUSES) as [DialCallStatus, ...DialCallStatus[]], {
    error: () => `DialCallStatus must be one of ${Object.keys(DIAL_STATUSES).join(', ')}`,
  }),
});

// A warm transfer's agent leg reports its final CallStatus; the caller's CallSid is in the
// query of the status callback URL the workflow gave Twilio.
const agentStatusForm = z.object({
  CallStatus: z.enum(Object.keys(DIAL_STATUSES) as [DialCallStatus, ...DialCallStatus[]], {
    error: () => `CallStatus must be one of ${Object.keys(DIAL_STATUSES).join(', ')}`,
  }),
});
const agentStatusQuery = z.object({ callSid: incomingFields.CallSid });

export const dialStatusWebhook: FastifyPluginAsync<
  WebhookOptions & { telephony?: Telephony }
> = async (app, opts) => {
  // prettier-ignore
  app.addHook('preHandler', requireTwilioSignature(opts.config));

  /** Tells the caller's workflow how the agent's side ended; false when no workflow took it. */
  const forward = async (callSid: string, status: DialCallStatus): Promise<boolean> => {
    try {
      await opts.temporalClient.workflow
        .getHandle(callWorkflowId(callSid))
        .signal(dialStatusSignal, status);
      return true;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err; // 500: Twilio retries
      return false;
    }
  };

  /** A missed outcome nobody took: the callback, started here. */
  const callBackLate = async (
    log: FastifyBaseLogger,
    call: { callSid: string; from: string; to: string },
    status: DialCallStatus,
  ): Promise<void> => {
    const callback = await startLateCallback(opts.temporalClient, opts.config.call, call, status);
    const fields = { callback, caller: maskPhone(call.from) };
    if (callback === 'started' || callback === 'already_scheduled')
      log.warn(fields, 'a missed dial after the call workflow ended: called back by the edge');
    else log.error(fields, 'a missed dial after the call workflow ended: no callback possible');
  };

  app.post('/agent-status', async (request, reply) => {
    const query = parseForm(agentStatusQuery, request.query, reply);
    if (query && isConferenceEvent(request.body)) {
      const event = parseForm(conferenceEventForm, request.body, reply);
      if (!event) return reply;
      const log = request.log.child({ callSid: query.callSid, conferenceEvent: event.StatusCallbackEvent }); // prettier-ignore
      const briefing = { publicUrl: opts.config.publicUrl, ...(opts.telephony && { telephony: opts.telephony }) }; // prettier-ignore
      const done = await onConferenceEvent(briefing, query.callSid, event, log);
      return reply.code(done ? 204 : 500).send();
    }
    const form = query && parseForm(agentStatusForm, request.body, reply);
    if (!query || !form) return reply;
    const log = request.log.child({ callSid: query.callSid, agentCallStatus: form.CallStatus });
    if (await forward(query.callSid, form.CallStatus))
      log.info('agent leg status forwarded to the call workflow');
    else if (!MISSED_DIAL_STATUSES.includes(form.CallStatus))
      log.info('a late agent leg status after the call workflow ended: no callback');
    else {
      const call = await callParties(opts.temporalClient, query.callSid);
      if (call) await callBackLate(log, call, form.CallStatus);
      else log.error('a late missed warm transfer with no call input: no callback');
    }
    return reply.code(204).send();
  });

  app.post('/dial-status', async (request, reply) => {
    const form = parseForm(dialStatusForm, request.body, reply);
    if (!form) return reply;
    const status = form.DialCallStatus;
    const log = request.log.child({ callSid: form.CallSid, dialCallStatus: status });
    const missed = MISSED_DIAL_STATUSES.includes(status);
    try {
      await opts.temporalClient.workflow
        .getHandle(callWorkflowId(form.CallSid))
        .signal(dialStatusSignal, status);
      log.info('dial status forwarded to the call workflow');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err; // 500: Twilio retries
      if (!missed) log.info('a late dial outcome after the call workflow ended: no callback');
      else if (!form.To) log.error('a late missed dial without the number called: no callback');
      else await callBackLate(log, { callSid: form.CallSid, from: form.From ?? '', to: form.To }, status); // prettier-ignore
    }
    const twiml = new twilio.twiml.VoiceResponse();
    if (missed) twiml.say(noAgentLine(form.From ?? ''));
    twiml.hangup();
    return sendTwiml(reply, twiml);
  });
};
