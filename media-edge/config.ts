// Media-edge configuration, read once from the environment. Secrets come only from here;
// error messages name the variable and never echo its value.
import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_PAYMENT_CONFIRM_THRESHOLD, type CallConfig } from '../contracts/call';

/** The transfer's `<Dial action>` route and the warm transfer's agent-leg status route (media-edge/twilio/dial-status.ts). */
export const DIAL_STATUS_PATH = '/v1/calls/dial-status';
export const AGENT_STATUS_PATH = '/v1/calls/agent-status';
/** What the agent of a warm transfer hears before the caller is put through (twilio/agent-briefing.ts). */
export const AGENT_SUMMARY_PATH = '/v1/calls/agent-summary';

export interface EdgeConfig {
  twilioAuthToken: string;
  /** Public base URL Twilio calls (no trailing slash): signature URL and stream URL base. */
  publicUrl: string;
  streamTokenSecret: string;
  /** How long the caller's TwiML stream token is accepted (Twilio connects at once). */
  streamTokenTtlMs: number;
  host: string;
  port: number;
  hostId: string;
  /** Host-bound activity queue of this edge: `media-edge.<hostId>`. */
  hostTaskQueue: string;
  temporal: { address: string; namespace: string };
  /** Passed to every call workflow as `CallInput.config`. */
  call: CallConfig;
}

export type EdgeEnv = Record<string, string | undefined>;

const required = (iss: { input: unknown }): string =>
  iss.input === undefined ? 'is required' : 'must be a string';

const publicUrl = z
  .string({ error: required })
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash;
    } catch {
      return false;
    }
  }, 'must be an http(s) base URL without query or fragment, e.g. https://edge.example.com')
  .transform((value) => value.replace(/\/+$/, ''));

const schema = z.object({
  TWILIO_AUTH_TOKEN: z.string({ error: required }),
  EDGE_PUBLIC_URL: publicUrl,
  STREAM_TOKEN_SECRET: z.string({ error: required }).min(32, 'must be at least 32 characters'),
  STREAM_TOKEN_TTL_MS: z.coerce.number().int().positive().default(120_000),
  EDGE_HOST: z.string().default('127.0.0.1'),
  EDGE_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  EDGE_HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits, ".", "_" and "-"')
    .default(() => os.hostname()),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('switchboard'),
  CALL_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.5),
  CALL_PAYMENT_CONFIRM_CONFIDENCE: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(DEFAULT_PAYMENT_CONFIRM_THRESHOLD),
  CALL_NO_INPUT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  CALL_RECORDING_WAIT_MS: z.coerce.number().int().min(0).default(30_000),
  AGENT_QUEUE_NUMBER: z
    .string()
    .regex(
      /^(\+[1-9][0-9]{6,14}|sip:\S+|client:\S+)$/,
      'must be E.164 (+15551234567), sip: or client:',
    )
    .optional(),
  CALL_TRANSFER_MODE: z.enum(['cold', 'warm']).default('cold'),
  CALL_TRANSFER_RING_TIMEOUT_S: z.coerce.number().int().min(5).max(600).default(30),
  CALL_CALLBACK_DELAY_MS: z.coerce.number().int().min(0).default(300_000),
  HANDOFF_TARGET: z.enum(['twilio', 'desk']).default('twilio'),
  DESK_ANSWER_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
});

/** Parses the edge config; throws one Error listing every bad or missing variable. */
export function loadEdgeConfig(env: EdgeEnv = process.env): EdgeConfig {
  // An empty variable (`FOO=`) means "unset", so defaults and "is required" apply.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new Error(`Invalid media-edge configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    twilioAuthToken: e.TWILIO_AUTH_TOKEN,
    publicUrl: e.EDGE_PUBLIC_URL,
    streamTokenSecret: e.STREAM_TOKEN_SECRET,
    streamTokenTtlMs: e.STREAM_TOKEN_TTL_MS,
    host: e.EDGE_HOST,
    port: e.EDGE_PORT,
    hostId: e.EDGE_HOST_ID,
    hostTaskQueue: `media-edge.${e.EDGE_HOST_ID}`,
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE },
    call: {
      confidenceThreshold: e.CALL_CONFIDENCE_THRESHOLD,
      paymentConfirmThreshold: e.CALL_PAYMENT_CONFIRM_CONFIDENCE,
      noInputTimeoutMs: e.CALL_NO_INPUT_TIMEOUT_MS,
      recordingWaitMs: e.CALL_RECORDING_WAIT_MS,
      ...(e.AGENT_QUEUE_NUMBER && {
        agentQueueNumber: e.AGENT_QUEUE_NUMBER,
        dialStatusUrl: `${e.EDGE_PUBLIC_URL}${DIAL_STATUS_PATH}`,
        transferMode: e.CALL_TRANSFER_MODE,
        agentStatusUrl: `${e.EDGE_PUBLIC_URL}${AGENT_STATUS_PATH}`,
      }),
      transferRingTimeoutInS: e.CALL_TRANSFER_RING_TIMEOUT_S,
      callbackDelayMs: e.CALL_CALLBACK_DELAY_MS,
      // Only a desk-bound call carries these: the default (Twilio) call's input is unchanged.
      ...(e.HANDOFF_TARGET === 'desk' && {
        handoffTarget: e.HANDOFF_TARGET,
        deskAnswerTimeoutMs: e.DESK_ANSWER_TIMEOUT_MS,
      }),
    },
  };
}
