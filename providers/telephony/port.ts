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
 * A warm transfer: the caller waits in a conference while the agents' line is called; the
 * agent hears the call's summary first, then joins. Twilio posts the agent leg's final
 * status (no-answer, busy, failed, completed) to `agentStatusUrl`.
 */
export interface WarmTransferRequest {
  to: string;
  /** The number the agent's leg comes from (the one the caller dialled). */
  from: string;
  /** The conference both legs join (one per call). */
  conference: string;
  /** Said to the agent before they join. */
  summary: string;
  idempotencyKey: string;
  ringTimeoutInS: number;
  agentStatusUrl: string;
}

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
