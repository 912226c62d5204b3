// Every committed history must replay on the current workflow code: a change to live
// workflow behaviour without patched() fails here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../testing/platform';

const dir = path.join(__dirname, '..', 'histories');
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('replay of recorded histories (test/histories)', () => {
  it('has the histories the spine promises', () => {
    for (const name of [
      'balance-call',
      'paid-bill',
      'declined-bill',
      'low-confidence-reprompt',
      'silence-timeout',
      // Recorded after grounded answers, the payment saga and the data plane.
      'kb-answer-with-events',
      'keypad-paid-saga',
      // The post-call workflow, recorded before it forgot the call's cached speech.
      'post-call-transcribed',
      // A call's events sent per turn (before event-batches) and in batches (after).
      'events-per-turn',
      'events-in-batches',
      // Recorded before CRM-down handling (identify, call log, post-call without a queued log).
      'crm-up-call-log',
      'post-call-before-pending-log',
      // After it: a call whose log was queued (CRM down), the post-call workflow that wrote
      // it, and a call whose log the CRM refused.
      'crm-down-call-log-queued',
      'post-call-pending-log-written',
      'call-log-refused',
      // An answer served by a fallback, recorded before the degraded-mode search attributes.
      'llm-fallback-answer',
      // A call transferred to an agent, recorded before the hand-off through Twilio.
      'transfer-before-handoff',
      // A call that owed a text (a line the apology replaced), recorded before it was sent.
      'sms-follow-up-owed',
      // Recorded before callbacks were scheduled: a CRM-down call whose caller accepted the
      // call back, and a call whose answer could not be produced (an agent was offered).
      'crm-down-callback-accepted',
      'answer-failed-before-callback',
      // Three failed recognitions, recorded before they offered a call back (an agent then).
      'asr-failed-before-offer',
      // A missed dial outcome that came after the hand-off stopped waiting (the call still
      // finishing), recorded before it scheduled the callback (it was ignored).
      'late-dial-after-wait',
      // A stream start reporting every synthesizer out, recorded before it got the outage
      // notice (the greeting then), and a callable caller's no-retrieval answer, recorded
      // before it offered a call back (the general line alone).
      'tts-outage-before-notice',
      'no-retrieval-before-offer',
      // A transfer with the agent desk as target, recorded before the desk hand-off (the
      // Twilio path then).
      'transfer-to-desk-before-desk',
      // A paid bill whose replies said a yes/no answer was expected and what a yes leads to
      // (paid-bill is from before both).
      'paid-bill-replies-ahead',
      // A spoken yes at confidence 0.6 that paid, recorded before a payment's yes needed the
      // payment confidence (it is asked again now).
      'paid-bill-doubtful-yes-before',
      // A stream that started 20 s into the call, recorded while the first silence still
      // counted from the call's start (the re-prompt came 40 s after the greeting, not 60).
      'late-stream-reprompt-before',
      // A no to "anything else?", recorded while it was asked "How can I help you today?"
      // (it says goodbye now).
      'no-after-anything-else-before',
      // A goodbye to the payment question, recorded while it was asked again (a no now).
      'goodbye-while-confirming-before',
      // A paid bill whose payment question listened for "yes" and "no" but not for answers
      // said in words (paid-bill-account-ahead), and one recorded after (worded-answers).
      'paid-bill-account-ahead',
      'paid-bill-worded-answers',
    ])
      assert.ok(files.includes(`${name}.json`), `missing test/histories/${name}.json`);
  });

  it(`replays all ${files.length} histories without non-determinism`, async () => {
    const histories = files.map((f) => ({
      workflowId: path.basename(f, '.json'),
      history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))),
    }));
    const results = Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      histories,
    );
    let replayed = 0;
    for await (const r of results) {
      assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
      replayed++;
    }
    assert.equal(replayed, files.length);
  });
});
