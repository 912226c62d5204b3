// A text to a caller may carry an agent's line: the telephony activity redacts its body
// before the SMS provider sees it.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTelephonyActivities } from '../../activities/telephony-activities';
import { FakeTelephony } from '../../providers/telephony/fake';

describe('sendSms activity', () => {
  it('sends no card number or PIN; the rest of the line is kept', async () => {
    const telephony = new FakeTelephony();
    const activities = createTelephonyActivities(telephony);
    const body = 'Your card number is 4111 1111 1111 1111 and your PIN is 4921. Your balance is 42 dollars.'; // prettier-ignore
    await new MockActivityEnvironment().run(
      (r: Parameters<typeof activities.sendSms>[0]) => activities.sendSms(r),
      {
        to: '+15550100001',
        from: '+15550009999',
        body,
        idempotencyKey: 'k:1',
      },
    );
    const [sent] = [...telephony.done.values()];
    assert.ok(sent?.request.kind === 'sms');
    const got = sent.request.req.body;
    assert.doesNotMatch(got, /4111|4921/, got);
    assert.match(got, /Your balance is 42 dollars\./);
  });
});
