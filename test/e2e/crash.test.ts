// Resume after a crash: a call worker in its own process is SIGKILLed mid-call and a new
// worker takes the call over. The conversation finishes, no turn is lost or answered
// twice, and the payment that was written just before the crash lands exactly once.
import {
  killHard,
  spawnWorkerProcess,
  waitForMarker,
  type WorkerProcess,
} from '../helpers/worker-process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import type { PaymentReceipt } from '../../providers/billing/port';
import { migrate, seed } from '../../providers/postgres/schema';
import { databaseUrl } from '../../infra';
import { postgresDeps } from '../../workers/postgres-deps';
import { transcriptQuery, type CallResult, type Reply } from '../../contracts/call';
import { decryptedHistory, callWorker, startCall } from '../../testing/calls';
import { localEnv, testDb, workflowBundle } from '../../testing/platform';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'crash-worker.ts');
const READY = 'crash-worker: ready';
/** Its own queue: other test files' workers on the shared dev server never see these calls. */
const TASK_QUEUE = `switchboard-calls-crash-${randomBytes(4).toString('hex')}`;
/**
 * Its own schema in the test database: other test runs on this machine reset the shared
 * tables at any moment, and this test spends seconds between a payment and its retry.
 */
const SCHEMA = `crash_${randomBytes(4).toString('hex')}`;
const DATABASE_URL = `${databaseUrl('switchboard_test')}?options=${encodeURIComponent(`-c search_path=${SCHEMA}`)}`;
/** Longer than any wait in these tests, so no silence reprompt lands between turns. */
const CALL_CONFIG = { noInputTimeoutMs: 120_000 };

type HistoryEvent = NonNullable<
  Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']
>[number];

type CrashWorker = WorkerProcess;

describe('crash: a call survives its worker process being killed', function () {
  this.timeout(120_000);

  let env: TestWorkflowEnvironment;
  let db: Pool;
  let tmp: string;
  let bundlePath: string;
  const children: CrashWorker[] = [];
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  const handles: WorkflowHandle[] = [];

  before(async () => {
    env = await localEnv();
    await (await testDb()).query(`CREATE SCHEMA ${SCHEMA}`);
    db = new Pool({ connectionString: DATABASE_URL, max: 4 });
    await migrate(db);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-crash-'));
    // Bundled once here; the fixture loads the same code instead of bundling again.
    bundlePath = path.join(tmp, 'workflow-bundle.js');
    fs.writeFileSync(bundlePath, (await workflowBundle()).code);
  });

  beforeEach(async () => {
    await db.query('TRUNCATE call_logs, payments, invoices, customers');
    await seed(db);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const c of children) console.error(`--- crash-worker output ---\n${c.output.join('')}`);
    }
    // Whatever happened: no fixture process, no poller and no open call is left behind.
    await Promise.all(children.splice(0).map(killHard));
    await Promise.all(
      workers.splice(0).map(async ({ worker, running }) => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      }),
    );
    await Promise.all(
      handles.splice(0).map((h) => h.terminate('crash test cleanup').catch(() => undefined)),
    );
  });

  after(async () => {
    await db?.end();
    await (await testDb()).query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Starts the fixture worker process and resolves once it polls. */
  async function startCrashWorker(marker: string): Promise<CrashWorker> {
    const crash = await spawnWorkerProcess(
      FIXTURE,
      {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        CALL_TASK_QUEUE: TASK_QUEUE,
        CRASH_MARKER_FILE: marker,
        DATABASE_URL,
        WORKFLOW_BUNDLE_CODE: bundlePath,
      },
      READY,
      'crash worker',
    );
    children.push(crash);
    return crash;
  }

  async function startWorker(): Promise<void> {
    const { pool, ...deps } = await postgresDeps(DATABASE_URL);
    const worker = await callWorker(env, deps, TASK_QUEUE);
    workers.push({ worker, running: worker.run().finally(() => pool.end()) });
  }

  async function placeCall() {
    const call = await startCall(env.client, { taskQueue: TASK_QUEUE, config: CALL_CONFIG });
    handles.push(call.handle);
    return call;
  }

  const count = async (sql: string, args: unknown[] = []) =>
    Number((await db.query(sql, args)).rows[0].count);

  async function assertPaidOnce(workflowId: string): Promise<void> {
    const { rows } = await db.query(
      "SELECT idempotency_key, amount_cents FROM payments WHERE invoice_id = 'inv_ada_1'",
    );
    assert.deepEqual(rows, [
      { idempotency_key: `${workflowId}:pay:inv_ada_1`, amount_cents: 4250 },
    ]);
    assert.equal(
      (await db.query("SELECT status FROM invoices WHERE id = 'inv_ada_1'")).rows[0].status,
      'paid',
    );
  }

  /** Every caller turn once, in order, each followed by exactly one agent reply. */
  async function assertTranscript(
    handle: WorkflowHandle,
    callerTurns: string[],
    replies: Reply[],
  ): Promise<void> {
    const transcript = await handle.query(transcriptQuery);
    const expected = [{ speaker: 'agent', turnId: 0 }];
    callerTurns.forEach((text, i) =>
      expected.push({ speaker: 'caller', turnId: i + 1, text } as never, {
        speaker: 'agent',
        turnId: i + 1,
      }),
    );
    assert.deepEqual(
      transcript.map((e) =>
        e.speaker === 'caller'
          ? { speaker: e.speaker, turnId: e.turnId, text: e.text }
          : { speaker: e.speaker, turnId: e.turnId },
      ),
      expected,
    );
    const agentReplies = transcript
      .filter((e) => e.speaker === 'agent' && e.turnId > 0)
      .map((e) => e.text);
    assert.deepEqual(
      agentReplies,
      replies.map((r) => r.text),
      'the transcript holds the replies the caller heard',
    );
    assert.deepEqual(
      transcript.map((e) => e.seq),
      transcript.map((_, i) => i + 1),
    );
  }

  async function assertCallLoggedOnce(callSid: string, result: CallResult): Promise<void> {
    const { rows } = await db.query(
      'SELECT id, disposition, turns FROM call_logs WHERE call_sid = $1',
      [callSid],
    );
    assert.equal(rows.length, 1);
    assert.deepEqual(
      [String(rows[0].id), rows[0].disposition, rows[0].turns],
      [result.callLogId, 'resolved', result.turns],
    );
  }

  /** The payInvoice activity as history saw it: how often it was scheduled, its last attempt and its result. */
  async function paymentActivity(handle: WorkflowHandle) {
    const events: HistoryEvent[] = (await decryptedHistory(handle)).events ?? [];
    assert.equal(
      events.filter((e) => e.workflowExecutionContinuedAsNewEventAttributes).length,
      0,
      'the call stayed in one run (the history below is all of it)',
    );
    const scheduled = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'payInvoice',
    );
    assert.equal(scheduled.length, 1, 'payInvoice is scheduled once');
    const scheduledId = scheduled[0]!.eventId!.toString();
    const ofPayment = (
      attrs: { scheduledEventId?: { toString(): string } | null } | null | undefined,
    ) => attrs?.scheduledEventId?.toString() === scheduledId;
    const started = events.filter((e) => ofPayment(e.activityTaskStartedEventAttributes));
    const completed = events.filter((e) => ofPayment(e.activityTaskCompletedEventAttributes));
    assert.equal(started.length, 1);
    assert.equal(completed.length, 1, 'payInvoice completed once');
    const payload = completed[0]!.activityTaskCompletedEventAttributes!.result!.payloads![0]!;
    return {
      attempt: started[0]!.activityTaskStartedEventAttributes!.attempt!,
      lastFailure: started[0]!.activityTaskStartedEventAttributes!.lastFailure,
      receipt: defaultPayloadConverter.fromPayload<PaymentReceipt>(payload),
      updatesAccepted: events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)
        .length,
    };
  }

  it('killed after the payment was written, before its activity completed: paid once, the turn answered once', async () => {
    const marker = path.join(tmp, 'paid-1');
    const crashWorker = await startCrashWorker(marker);
    const { bridge, handle, callSid } = await placeCall();

    assert.equal(
      (await bridge.streamStarted()).text,
      'Hello Ada, thanks for calling. How can I help you today?',
    );
    const offer = await bridge.utterance('pay my bill');
    assert.match(offer.text, /bill of 42 dollars and 50 cents is due on December 5/);
    // "yes" is in flight: the fixture pays, writes the marker and hangs in the activity.
    const yes = bridge.utterance('yes');
    yes.catch(() => undefined);
    const written = await waitForMarker<PaymentReceipt>(marker, crashWorker, 'crash worker');
    assert.equal(written.created, true);
    assert.equal(
      await count("SELECT count(*) FROM payments WHERE invoice_id = 'inv_ada_1'"),
      1,
      'the payment committed before the crash',
    );

    await killHard(crashWorker);
    const killedAt = Date.now();
    await startWorker();

    // The activity times out on the dead worker (startToClose 10 s), its retry on the new
    // worker finds the idempotency key and returns the first payment.
    const confirmed = await yes;
    const recoveryMs = Date.now() - killedAt;
    assert.match(confirmed.text, /Your payment of 42 dollars and 50 cents is complete/);
    assert.equal(confirmed.turnId, 2);

    const balance = await bridge.utterance("what's my balance");
    assert.match(balance.text, /^Your balance is 0 dollars\./);
    const bye = await bridge.utterance('goodbye');
    assert.equal(bye.action, 'hangup');

    const result: CallResult = await handle.result();
    assert.equal(result.disposition, 'resolved');
    assert.deepEqual(result.intentPath, ['pay_bill', 'confirm_yes', 'check_balance', 'goodbye']);
    assert.equal(result.turns, 4);

    await assertPaidOnce(handle.workflowId);
    await assertTranscript(
      handle,
      ['pay my bill', 'yes', "what's my balance", 'goodbye'],
      [offer, confirmed, balance, bye],
    );
    await assertCallLoggedOnce(callSid, result);

    const payment = await paymentActivity(handle);
    assert.ok(
      payment.attempt > 1,
      `payInvoice was retried after the crash (attempt ${payment.attempt})`,
    );
    assert.match(
      String(payment.lastFailure?.message),
      /timeout|timed out/i,
      'the retry followed the dead attempt timing out',
    );
    assert.equal(
      payment.receipt.created,
      false,
      `the retry found the payment by its idempotency key: ${JSON.stringify(payment.receipt)} vs ${JSON.stringify(written)}`,
    );
    assert.equal(
      payment.receipt.paymentId,
      written.paymentId,
      'and returned the payment written before the crash',
    );
    assert.equal(payment.updatesAccepted, 5, 'greeting + four turns, each accepted once');
    console.log(`      (reply ${(recoveryMs / 1000).toFixed(1)} s after the kill)`);
  });

  it('killed between turns: the next turn waits for a worker and is answered once', async () => {
    const crashWorker = await startCrashWorker(path.join(tmp, 'paid-2'));
    const { bridge, handle, callSid } = await placeCall();

    await bridge.streamStarted();
    const offer = await bridge.utterance('pay my bill');
    assert.match(offer.text, /bill of 42 dollars and 50 cents is due on December 5/);

    await killHard(crashWorker);
    const killedAt = Date.now();
    // No worker runs: the turn is held by the server, not answered and not lost.
    const yes = bridge.utterance('yes');
    yes.catch(() => undefined);
    assert.equal(
      await Promise.race([yes.then(() => 'answered'), sleep(2000).then(() => 'waiting')]),
      'waiting',
    );
    assert.equal(await count('SELECT count(*) FROM payments'), 0);

    await startWorker();
    const confirmed = await yes;
    const recoveryMs = Date.now() - killedAt;
    assert.match(confirmed.text, /Your payment of 42 dollars and 50 cents is complete/);
    assert.equal(confirmed.turnId, 2);
    const bye = await bridge.utterance('goodbye');
    assert.equal(bye.action, 'hangup');

    const result: CallResult = await handle.result();
    assert.equal(result.disposition, 'resolved');
    assert.deepEqual(result.intentPath, ['pay_bill', 'confirm_yes', 'goodbye']);

    await assertPaidOnce(handle.workflowId);
    await assertTranscript(handle, ['pay my bill', 'yes', 'goodbye'], [offer, confirmed, bye]);
    await assertCallLoggedOnce(callSid, result);
    const payment = await paymentActivity(handle);
    assert.equal(payment.attempt, 1, 'the payment ran once, on the new worker');
    assert.equal(payment.receipt.created, true);
    assert.equal(payment.updatesAccepted, 4, 'greeting + three turns, each accepted once');
    console.log(`      (reply ${(recoveryMs / 1000).toFixed(1)} s after the kill)`);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
