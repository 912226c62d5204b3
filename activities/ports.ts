// Ports: what the activities need from the outside world. One adapter per vendor
// under providers/<port>/<vendor>.ts; each adapter passes its port's conformance suite.
import type { Intent, IntentName } from '../workflows/definitions';

export interface IntentClassifier {
  readonly name: string;
  classify(text: string): Promise<Intent>;
}

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

export interface CallLog {
  callSid: string;
  customerId?: string;
  callerNumber: string;
  intentPath: IntentName[];
  disposition: string;
  turns: number;
  durationMs: number;
}

export interface CrmClient {
  findCustomerByPhone(phone: string): Promise<Customer | undefined>;
  getBalance(customerId: string): Promise<Balance>;
  /** Writes the call log once per idempotency key; a repeat returns the first row's id. */
  writeCallLog(idempotencyKey: string, log: CallLog): Promise<{ id: string; created: boolean }>;
}

export interface PaymentReceipt {
  paymentId: string;
  invoiceId: string;
  amountCents: number;
  /** False when this key had already paid: the first payment is returned. */
  created: boolean;
}

export interface Billing {
  /**
   * Pays an open invoice once per idempotency key. Throws PaymentDeclinedError when
   * the invoice is not payable (already paid, wrong amount, unknown).
   */
  payInvoice(
    idempotencyKey: string,
    invoiceId: string,
    amountCents: number,
  ): Promise<PaymentReceipt>;
}

export class PaymentDeclinedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentDeclinedError';
  }
}
