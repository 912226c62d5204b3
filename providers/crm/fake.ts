// The fake CrmClient, in process memory: the "instantaneous provider" of the benchmark and
// of tests that must not depend on a database. It behaves as the PostgreSQL adapter does
// (the conformance suite in test/activity/crm-billing-conformance.test.ts runs both):
// balances sum open invoices, the oldest open invoice (by due date, then id) is the one
// to pay, and a call log is written once per idempotency key. The store is shared with
// FakeBilling (billing/fake.ts) so a payment changes the balance, as in the database.
// `failures` makes it fail on demand.
import { FakeFailures } from '../fake-failures';
import { ProviderError } from '../provider-error';
import type { SeedCustomer } from '../postgres/schema';
import type { AttachedRecording, Balance, CallLog, CrmClient, Customer, Invoice } from './port';

export interface StoredPayment {
  paymentId: string;
  invoiceId: string;
  amountCents: number;
}

/** The rows of the fake CRM/billing "database": customers, invoices, payments, call logs. */
export class FakeCrmStore {
  readonly customers = new Map<string, Customer>();
  readonly invoices = new Map<string, Invoice>();
  /** Payments by idempotency key (the UNIQUE key of the payments table). */
  readonly payments = new Map<string, StoredPayment>();
  /** Call logs by idempotency key (the UNIQUE key of the call_logs table). */
  readonly callLogs = new Map<string, { id: string; log: CallLog }>();
  private readonly byPhone = new Map<string, string>();
  private lastId = 0;

  /** Seeds like `seed()` of the PostgreSQL schema: inserting a known row again changes nothing. */
  constructor(customers: SeedCustomer[] = []) {
    this.seed(customers);
  }

  seed(customers: SeedCustomer[]): void {
    for (const c of customers) {
      if (!this.customers.has(c.id) && !this.byPhone.has(c.phone)) {
        this.customers.set(c.id, { id: c.id, name: c.name, phone: c.phone });
        this.byPhone.set(c.phone, c.id);
      }
      for (const i of c.invoices) {
        if (this.invoices.has(i.id)) continue;
        if (!Number.isInteger(i.amountCents) || i.amountCents < 0)
          throw new Error(`invoice ${i.id}: amountCents must be a non-negative integer`);
        this.invoices.set(i.id, {
          id: i.id,
          customerId: c.id,
          amountCents: i.amountCents,
          dueDate: i.dueDate,
          status: i.status ?? 'open',
        });
      }
    }
  }

  customerIdByPhone(phone: string): string | undefined {
    return this.byPhone.get(phone);
  }

  /** A new row id, like a bigserial column (one sequence for the whole store). */
  nextId(): string {
    return String(++this.lastId);
  }
}

export class FakeCrmClient implements CrmClient {
  readonly name = 'fake-crm';
  readonly failures = new FakeFailures(this.name);

  constructor(readonly store: FakeCrmStore) {}

  async findCustomerByPhone(phone: string): Promise<Customer | undefined> {
    await this.failures.check();
    const id = this.store.customerIdByPhone(phone);
    const c = id === undefined ? undefined : this.store.customers.get(id);
    return c && { ...c };
  }

  async getBalance(customerId: string): Promise<Balance> {
    await this.failures.check();
    const open = [...this.store.invoices.values()]
      .filter((i) => i.customerId === customerId && i.status === 'open')
      .sort(
        (a, b) => compare(a.dueDate, b.dueDate) || compare(a.id, b.id), // ORDER BY due_date, id
      );
    const first = open[0];
    return {
      customerId,
      balanceCents: open.reduce((sum, i) => sum + i.amountCents, 0),
      openInvoice: first && { ...first },
    };
  }

  async writeCallLog(
    idempotencyKey: string,
    log: CallLog,
  ): Promise<{ id: string; created: boolean }> {
    await this.failures.check();
    const prior = this.store.callLogs.get(idempotencyKey);
    if (prior) return { id: prior.id, created: false };
    // The database's foreign key: a log names a known customer or none.
    if (log.customerId !== undefined && !this.store.customers.has(log.customerId))
      throw new ProviderError(
        this.name,
        'bad_input',
        `call log names unknown customer ${log.customerId}`,
      );
    const id = this.store.nextId();
    this.store.callLogs.set(idempotencyKey, {
      id,
      log: { ...log, intentPath: [...log.intentPath] },
    });
    return { id, created: true };
  }

  async attachRecording(
    callSid: string,
    recordingKey: string,
  ): Promise<AttachedRecording | undefined> {
    await this.failures.check();
    // The first log of the call, like the database's lowest id.
    const row = [...this.store.callLogs.values()].find((r) => r.log.callSid === callSid);
    if (!row) return undefined;
    const prior = row.log.recordingKey;
    if (prior !== undefined && prior !== recordingKey)
      throw new ProviderError(this.name, 'bad_input', `call ${callSid} has recording ${prior}`);
    row.log = { ...row.log, recordingKey };
    return { id: row.id, log: { ...row.log }, changed: prior === undefined };
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
