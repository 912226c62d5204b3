// CrmClient on the local PostgreSQL database (production: the CRM's HTTP API). Its errors
// are ProviderErrors (postgres/errors.ts): a call log naming an unknown customer is bad_input.
import type { HealthCheck } from '../health-check';
import type { Pool } from 'pg';
import { pgCall } from '../postgres/errors';
import { ProviderError } from '../provider-error';
import type { AttachedRecording, Balance, CallLog, CrmClient, Customer } from './port';

interface CallLogRow {
  id: string;
  call_sid: string;
  customer_id: string | null;
  caller_number: string;
  intent_path: string[];
  disposition: string;
  turns: number;
  duration_ms: number;
  recording_key: string | null;
  handled_by: string | null;
}

const CALL_LOG_COLUMNS =
  'id, call_sid, customer_id, caller_number, intent_path, disposition, turns, duration_ms, recording_key, handled_by';

export class PostgresCrm implements CrmClient, HealthCheck {
  readonly name = 'postgres-crm';

  constructor(private readonly pool: Pool) {}

  /** The health check: `SELECT 1` under the pool's bounded connect and query waits. */
  async check(): Promise<void> {
    await pgCall(this.name, () => this.pool.query('SELECT 1'));
  }

  async findCustomerByPhone(phone: string): Promise<Customer | undefined> {
    const { rows } = await pgCall(this.name, () =>
      this.pool.query<Customer>('SELECT id, name, phone FROM customers WHERE phone = $1', [phone]),
    );
    return rows[0];
  }

  async getBalance(customerId: string): Promise<Balance> {
    const { rows } = await pgCall(this.name, () =>
      this.pool.query<{ id: string; amount_cents: number; due_date: string }>(
        `SELECT id, amount_cents, to_char(due_date, 'YYYY-MM-DD') AS due_date
         FROM invoices WHERE customer_id = $1 AND status = 'open' ORDER BY due_date, id`,
        [customerId],
      ),
    );
    const first = rows[0];
    return {
      customerId,
      balanceCents: rows.reduce((sum, r) => sum + r.amount_cents, 0),
      openInvoice: first && {
        id: first.id,
        customerId,
        amountCents: first.amount_cents,
        dueDate: first.due_date,
        status: 'open',
      },
    };
  }

  async writeCallLog(
    idempotencyKey: string,
    log: CallLog,
  ): Promise<{ id: string; created: boolean }> {
    return pgCall(this.name, () => this.insertCallLog(idempotencyKey, log));
  }

  private async insertCallLog(
    idempotencyKey: string,
    log: CallLog,
  ): Promise<{ id: string; created: boolean }> {
    const inserted = await this.pool.query<{ id: string }>(
      `INSERT INTO call_logs (idempotency_key, call_sid, customer_id, caller_number, intent_path, disposition, turns, duration_ms, recording_key, handled_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [
        idempotencyKey,
        log.callSid,
        log.customerId ?? null,
        log.callerNumber,
        log.intentPath,
        log.disposition,
        log.turns,
        log.durationMs,
        log.recordingKey ?? null,
        log.handledBy ?? null,
      ],
    );
    if (inserted.rows[0]) return { id: String(inserted.rows[0].id), created: true };
    const { rows } = await this.pool.query<{ id: string }>(
      'SELECT id FROM call_logs WHERE idempotency_key = $1',
      [idempotencyKey],
    );
    return { id: String(rows[0]?.id), created: false };
  }

  async attachRecording(
    callSid: string,
    recordingKey: string,
  ): Promise<AttachedRecording | undefined> {
    return pgCall(this.name, () => this.updateRecordingKey(callSid, recordingKey));
  }

  /** Only a log without a recording takes one: a repeat (or a race) updates nothing. */
  private async updateRecordingKey(
    callSid: string,
    recordingKey: string,
  ): Promise<AttachedRecording | undefined> {
    const first = `SELECT id FROM call_logs WHERE call_sid = $1 ORDER BY id LIMIT 1`;
    const updated = await this.pool.query<CallLogRow>(
      `UPDATE call_logs SET recording_key = $2
       WHERE id = (${first}) AND recording_key IS NULL RETURNING ${CALL_LOG_COLUMNS}`,
      [callSid, recordingKey],
    );
    if (updated.rows[0]) return { ...fromRow(updated.rows[0]), changed: true };
    const { rows } = await this.pool.query<CallLogRow>(
      `SELECT ${CALL_LOG_COLUMNS} FROM call_logs WHERE id = (${first})`,
      [callSid],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (row.recording_key !== recordingKey)
      throw new ProviderError(this.name, 'bad_input', `call ${callSid} has recording ${row.recording_key}`); // prettier-ignore
    return { ...fromRow(row), changed: false };
  }
}

function fromRow(row: CallLogRow): Omit<AttachedRecording, 'changed'> {
  return {
    id: String(row.id),
    log: {
      callSid: row.call_sid,
      ...(row.customer_id !== null && { customerId: row.customer_id }),
      callerNumber: row.caller_number,
      intentPath: row.intent_path as CallLog['intentPath'],
      disposition: row.disposition,
      turns: row.turns,
      durationMs: row.duration_ms,
      ...(row.recording_key !== null && { recordingKey: row.recording_key }),
      ...(row.handled_by !== null && { handledBy: row.handled_by }),
    },
  };
}
