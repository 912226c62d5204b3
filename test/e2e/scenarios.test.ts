// The task-success harness of `bench --scenarios` on two of its scenarios, through the real
// edge (Media Streams simulator → media-edge → call workflow on Temporal, PostgreSQL): a
// balance call in the default caller voice and a keypad transfer must pass their checks, and
// an expectation the call does not meet must come back as a failure that names it.
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import { ADA } from '../../testing/calls';
import { startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { localEnv, resetDb, testDb } from '../../testing/platform';
import { runHistories } from '../../testing/calls';
import { runScenario, type ScenarioRun } from '../../testing/scenario-run';
import { judge, paidOnce, pickScenarios, transferred } from '../../testing/scenarios';

describe('scenario harness: scripted calls judged on what happened', function () {
  this.timeout(300_000);
  let stack: EdgeStack;
  let db: Pool;
  let balance: ScenarioRun;

  before(async () => {
    // No reset: these checks hold whatever state the demo customers' bills are in.
    db = await testDb();
    stack = await startEdgeStack({ env: { TTS_CACHE_NAMESPACE: `scenarios-test-${process.pid}` } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('a balance question in the default caller voice passes every check', async () => {
    const [scenario] = pickScenarios(['balance-plain']);
    balance = await runScenario(stack, db, scenario!, { from: ADA, pace: 2 });
    assert.ok(balance.verdict.ok, balance.verdict.failed.join('; '));
    const heard = balance.outcome.transcript.filter((e) => e.speaker === 'caller');
    assert.match(heard.map((e) => e.text).join(' '), /balance/, 'the edge heard the question');
    assert.deepEqual(balance.outcome.result?.intentPath, ['check_balance']);
    assert.equal(balance.outcome.payments.payments, 0);
  });

  it('the same call judged against a payment it never made is a failure naming that check', () => {
    assert.ok(balance, 'the balance call ran');
    const verdict = judge({ checks: [...pickScenarios(['balance-plain'])[0]!.checks, paidOnce, transferred] }, balance.outcome); // prettier-ignore
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.failed, [paidOnce.what, transferred.what]);
  });

  it('keypad 0 hands the call to a person, with no payment', async () => {
    const [scenario] = pickScenarios(['keypad-agent']);
    const run = await runScenario(stack, db, scenario!, { from: ADA, pace: 2 });
    assert.ok(run.verdict.ok, run.verdict.failed.join('; '));
    assert.equal(run.outcome.result?.disposition, 'transferred');
  });

  it('a patient caller says a line once more when the agent asks for it again', async () => {
    const asked = {
      name: 'keys-asked-again',
      category: 'keypad' as const,
      script: [{ kind: 'dtmf' as const, digits: '5' }],
      checks: [],
    };
    const callerLines = (r: ScenarioRun) =>
      r.outcome.transcript.filter((e) => e.speaker === 'caller').length;
    const agentAsked = (r: ScenarioRun) =>
      r.outcome.transcript.filter((e) => e.speaker === 'agent').map((e) => e.text);
    const patient = await runScenario(stack, db, asked, { from: ADA, pace: 2, patient: true });
    // A key that means nothing here is asked again: the patient caller pressed it twice.
    assert.equal(callerLines(patient), 2, agentAsked(patient).join(' | '));
    assert.equal(patient.outcome.report.turns.filter((t) => t.item).length, 2);
    const once = await runScenario(stack, db, asked, { from: ADA, pace: 2 });
    assert.equal(callerLines(once), 1, agentAsked(once).join(' | '));
  });

  it('silence over a payment question: one re-prompt, said once however long, and the yes after it pays once', async () => {
    await resetDb(); // the demo customer's bill open again
    const [scenario] = pickScenarios(['silence-while-confirming']);
    // Patient: a yes heard with doubt (after 40 s of silence the recognizer's score for it
    // sits near the payment threshold) is asked once more, and the caller says it again.
    const run = await runScenario(stack, db, scenario!, { from: ADA, pace: 2, patient: true });
    const agent = run.outcome.transcript.filter((e) => e.speaker === 'agent').map((e) => e.text);
    assert.ok(run.verdict.ok, `${run.verdict.failed.join('; ')}: ${agent.join(' | ')}`);
    // The re-prompt repeats the question: longer than an edge activity's old 10 s bound.
    const reprompt = run.outcome.report.turns.find((t) => t.item?.kind === 'pause')!;
    assert.ok(reprompt.agentAudioMs > 10_000, `re-prompt ${reprompt.agentAudioMs} ms`);
    // The edge said each line in one try: no retry said it again.
    const { client } = await localEnv();
    const events = (await runHistories(client, run.outcome.report.workflowId)).flatMap(
      (h) => h.events ?? [],
    );
    const speakIds = new Set(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'speakOnCall')
        .map((e) => String(e.eventId)),
    );
    const tries = events
      .map((e) => e.activityTaskStartedEventAttributes)
      .filter((a) => a && speakIds.has(String(a.scheduledEventId)))
      .map((a) => a!.attempt);
    assert.deepEqual(tries, [1], 'one speakOnCall, one attempt');
  });

  it('an unknown scenario name is refused with the list of names', () => {
    assert.throws(
      () => pickScenarios(['no-such-call']),
      /no scenario no-such-call; one of balance-plain/,
    );
  });
});
