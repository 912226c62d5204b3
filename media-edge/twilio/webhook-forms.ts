// Twilio webhook form fields shared by /v1 and /v2: CallSid, From, To and the status
// callback's CallStatus, validated with messages a caller of the route can act on.
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { TwilioCallStatus } from '../../contracts/call';

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

/** The fields every incoming-call webhook carries; versions extend it. */
export const incomingFields = { CallSid: callSid, From: party('From'), To: party('To') };

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

export const statusForm = z.object({
  CallSid: callSid,
  CallStatus: z.enum(CALL_STATUSES, {
    error: (iss) =>
      iss.input === undefined
        ? 'CallStatus is required'
        : `CallStatus must be one of ${CALL_STATUSES.join(', ')}`,
  }),
});
export type StatusForm = z.infer<typeof statusForm>;

/** The parsed form, or undefined after answering 400 with every problem found. */
export function parseForm<T>(
  schema: z.ZodType<T>,
  body: unknown,
  reply: FastifyReply,
): T | undefined {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues.map((i) => i.message).join('; ');
  reply.code(400).send({ error: 'Bad Request', message });
  return undefined;
}
