// The telephony family: what the agent asks of the phone network beyond the live call's
// audio. A live call is handed to a human, a text message is sent, a caller is called
// back. Each request carries an idempotency key: the same key twice is one transfer, one
// message, one call, whoever retries.

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

export interface Telephony {
  /** Replaces the live call's instructions: it leaves the agent and dials `to`. */
  transfer(
    callSid: string,
    req: TransferRequest,
    opts?: { signal?: AbortSignal },
  ): Promise<TelephonyReceipt>;
  sendSms(req: SmsRequest, opts?: { signal?: AbortSignal }): Promise<TelephonyReceipt>;
  /** Places an outbound call to the caller that connects them to the agents when answered. */
  placeCallback(req: CallbackRequest, opts?: { signal?: AbortSignal }): Promise<TelephonyReceipt>;
}
