// The telephony family: what the agent asks of the phone network beyond the live call's
// audio. A live call is handed to a human, a text message is sent, a caller is called
// back. Each request carries an idempotency key: the same key twice is one transfer, one
// message, one call, whoever retries. A vendor that does not dedupe by key itself (Twilio
// does not: a retried Calls.create is a second call) is told when a request is a retry
// (`firstTriedAt`), and looks for what the first try made before making it again.

export interface TransferRequest {
  /** Where the call goes: the human agents' queue number (E.164, sip:, client:). */
  to: string;
  idempotencyKey: string;
  /** Said to the caller before the dialling starts. */
  say?: string;
  /** How long the agents' line rings before the dial gives up (`<Dial timeout>`). */
  ringTimeoutInS: number;
  /** Told the dial's outcome (no-answer, busy, failed, completed): the `<Dial action>` URL. */
  statusUrl: string;
}

/**
 * A warm transfer: the caller waits in a conference while the agents' line is called into it.
 * Twilio posts the agent leg's final status (no-answer, busy, failed, completed) and the
 * conference's events (a participant joined, an announcement ended) to `agentStatusUrl`.
 * When the agent joins, the edge briefs them (`briefAgent`): the caller holds while the agent
 * hears the call's summary (read from the call when Twilio fetches the announcement); when it
 * ends, `connectAgent` puts the two together.
 */
export interface WarmTransferRequest {
  to: string;
  /** The number the agent's leg comes from (the one the caller dialled). */
  from: string;
  /** The conference both legs join (one per call). */
  conference: string;
  idempotencyKey: string;
  ringTimeoutInS: number;
  agentStatusUrl: string;
}

/** How the two sides of a warm transfer's conference are known in it (Twilio's labels). */
export const CONFERENCE_LABELS = { caller: 'caller', agent: 'agent' } as const;

export interface SmsRequest {
  to: string;
  /** The sending number (the number the caller dialled). */
  from: string;
  body: string;
  idempotencyKey: string;
}

export interface CallbackRequest {
  /** The caller's number. */
  to: string;
  /** The number the call comes from (the one the caller dialled). */
  from: string;
  /** Said when the caller answers, before the agents' queue is dialled. */
  say: string;
  /** The agents' queue number the answered callback is connected to. */
  connectTo: string;
  idempotencyKey: string;
}

/** What the network made of a request: its resource id (CA… or SM…) and status. */
export interface TelephonyReceipt {
  sid: string;
  status: string;
  provider: string;
}

export interface TelephonyCallOptions {
  signal?: AbortSignal;
  /** This request was tried before, no earlier than this: it may have landed already. */
  firstTriedAt?: Date;
}

export interface Telephony {
  /** Replaces the live call's instructions: it leaves the agent and dials `to`. */
  transfer(
    callSid: string,
    req: TransferRequest,
    opts?: TelephonyCallOptions,
  ): Promise<TelephonyReceipt>;
  /** Holds the caller in a conference and calls the agent into it; the receipt is the agent leg's. */
  warmTransfer(
    callSid: string,
    req: WarmTransferRequest,
    opts?: TelephonyCallOptions,
  ): Promise<TelephonyReceipt>;
  /** The agent joined the conference: the caller holds while the agent hears `announceUrl`. */
  briefAgent(conferenceSid: string, req: { announceUrl: string }, opts?: TelephonyCallOptions): Promise<void>; // prettier-ignore
  /** The briefing is over (or failed): the caller off hold, talking to the agent. */
  connectAgent(conferenceSid: string, opts?: TelephonyCallOptions): Promise<void>;
  /** Replaces the live call's instructions with a last line and a hang-up. */
  sayAndHangUp(
    callSid: string,
    req: { text: string; idempotencyKey: string },
    opts?: TelephonyCallOptions,
  ): Promise<TelephonyReceipt>;
  sendSms(req: SmsRequest, opts?: TelephonyCallOptions): Promise<TelephonyReceipt>;
  /** Places an outbound call to the caller that connects them to the agents when answered. */
  placeCallback(req: CallbackRequest, opts?: TelephonyCallOptions): Promise<TelephonyReceipt>;
}
