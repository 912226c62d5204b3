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

export interface CrmClient {
  findCustomerByPhone(phone: string): Promise<Customer | undefined>;
  getBalance(customerId: string): Promise<Balance>;
  /** Writes the call log once per idempotency key; a repeat returns the first row's id. */
  writeCallLog(idempotencyKey: string, log: CallLog): Promise<{ id: string; created: boolean }>;
}
