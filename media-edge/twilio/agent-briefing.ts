// A warm transfer's briefing, driven by the conference's events (Twilio posts them to the
// agent leg's status URL, POST /v1/calls/agent-status, next to the leg's final status):
//   participant-join of the agent → the caller holds (Twilio's hold music) and the agent hears
//     the call's summary, fetched by Twilio from POST /v1/calls/agent-summary;
//   announcement-end (or -fail)   → the caller is taken off hold and the two talk.
// The summary is read from the call's workflow (the state query the desk reads too); when that
// cannot be had, the agent hears that it could not, and the call goes on all the same. A
// briefing that fails connects the two at once: an agent without a summary beats a caller
// held for ever.
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import twilio from 'twilio';
import { z } from 'zod';
import { callWorkflowId, stateQuery } from '../../contracts/call';
import { CONFERENCE_LABELS, type Telephony } from '../../providers/telephony/port';
import { AGENT_SUMMARY_PATH } from '../config';
import { requireTwilioSignature, sendTwiml, type WebhookOptions } from './webhook-calls';
import { incomingFields, parseForm } from './webhook-forms';

/** Said to the agent when the call's summary cannot be read. */
export const NO_SUMMARY = 'A caller from the assistant. Their summary could not be loaded.';

/** A conference status callback: what happened, in which conference, to whom. */
export const conferenceEventForm = z.object({
  ConferenceSid: z.string().regex(/^CF[0-9a-fA-F]{32}$/, 'ConferenceSid must be "CF" followed by 32 hex digits'), // prettier-ignore
  StatusCallbackEvent: z.string().min(1, 'StatusCallbackEvent must not be empty'),
  ParticipantLabel: z.string().optional(),
});
export type ConferenceEvent = z.infer<typeof conferenceEventForm>;

/** A conference's event (participant-join, announcement-end, …), not a call's progress (completed, …). */
export const isConferenceEvent = (body: unknown): boolean => {
  const event = (body as { StatusCallbackEvent?: unknown } | undefined)?.StatusCallbackEvent;
  return typeof event === 'string' && /^(participant|conference|announcement)-/.test(event);
};

export interface BriefingOptions {
  telephony?: Telephony;
  publicUrl: string;
}

/** Acts on one conference event of the caller's warm transfer; false when the caller may be left on hold. */
export async function onConferenceEvent(
  opts: BriefingOptions,
  callSid: string,
  event: ConferenceEvent,
  log: FastifyBaseLogger,
): Promise<boolean> {
  const { telephony } = opts;
  const joined = event.StatusCallbackEvent === 'participant-join' && event.ParticipantLabel === CONFERENCE_LABELS.agent; // prettier-ignore
  const announced = event.StatusCallbackEvent.startsWith('announcement-');
  if (!joined && !announced) return true;
  if (!telephony) {
    log.warn('no telephony on this edge: the agent joins the caller without a briefing');
    return true;
  }
  if (joined) {
    const announceUrl = `${opts.publicUrl}${AGENT_SUMMARY_PATH}?callSid=${callSid}`;
    try {
      await telephony.briefAgent(event.ConferenceSid, { announceUrl });
      log.info('the agent joined: the caller holds while the agent hears the summary');
      return true;
    } catch (err) {
      log.error({ err: String(err) }, 'the briefing failed: the agent is connected without it');
    }
  }
  try {
    await telephony.connectAgent(event.ConferenceSid);
    log.info({ event: event.StatusCallbackEvent }, 'the caller is off hold, talking to the agent');
    return true;
  } catch (err) {
    log.error({ err: String(err) }, 'the caller could not be taken off hold');
    return false;
  }
}

const summaryQuery = z.object({ callSid: incomingFields.CallSid });

/** POST /v1/calls/agent-summary: the announcement the agent hears, as TwiML. */
export const agentSummaryWebhook: FastifyPluginAsync<WebhookOptions> = async (app, opts) => {
  app.addHook('preHandler', requireTwilioSignature(opts.config));
  app.post('/agent-summary', async (request, reply) => {
    const query = parseForm(summaryQuery, request.query, reply);
    if (!query) return reply;
    const summary = await opts.temporalClient.workflow
      .getHandle(callWorkflowId(query.callSid))
      .query(stateQuery)
      .then((s) => s.summary)
      .catch((err: unknown) => {
        request.log.warn({ err: String(err), callSid: query.callSid }, 'no summary for the agent');
        return undefined;
      });
    const twiml = new twilio.twiml.VoiceResponse();
    twiml.say(summary || NO_SUMMARY);
    return sendTwiml(reply, twiml);
  });
};
