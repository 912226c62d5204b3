// The CRM family: who is calling, their account, and the call log written once.
import type { CallLog } from '../../contracts/post-call';

export interface Customer {
  id: string;
  name: string;
  phone: string;
}

export interface Invoice {
  id: string;
  customerId: string;
  amountCents: number;
  dueDate: string;
  status: 'open' | 'paid';
}

export interface Balance {
  customerId: string;
  balanceCents: number;
  /** Oldest open invoice, the one a payment settles. */
  openInvoice?: Invoice;
}

export type { CallLog };

/** A call log as the CRM holds it, after a recording was attached to it. */
export interface AttachedRecording {
  id: string;
  log: CallLog;
  /** False when the log named this recording already (a repeat changes nothing). */
  changed: boolean;
}

export interface CrmClient {
  findCustomerByPhone(phone: string): Promise<Customer | undefined>;
  getBalance(customerId: string): Promise<Balance>;
  /** Writes the call log once per idempotency key; a repeat returns the first row's id. */
  writeCallLog(idempotencyKey: string, log: CallLog): Promise<{ id: string; created: boolean }>;
  /**
   * Puts a recording that arrived after the call log on the call's log. Idempotent: the same
   * key again is no change. Undefined when the call has no log yet (it may still be queued);
   * a log that names another recording already is bad_input (never overwritten).
   */
  attachRecording(callSid: string, recordingKey: string): Promise<AttachedRecording | undefined>;
}
