// A telephony activity tells the adapter when a request is a retry, and since when: Twilio
// keeps no request keys, so its adapter looks for what the first try made before acting.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTelephonyActivities } from '../../activities/telephony-activities';
import { FakeTelephony } from '../../providers/telephony/fake';
import type { CallbackRequest, TelephonyCallOptions } from '../../providers/telephony/port';

class OptionsSeen extends FakeTelephony {
  readonly seen: (TelephonyCallOptions | undefined)[] = [];

  override placeCallback(req: CallbackRequest, opts?: TelephonyCallOptions) {
    this.seen.push(opts);
    return super.placeCallback(req);
  }
}

const req: CallbackRequest = {
  to: '+15550100001',
  from: '+15550009999',
  say: 'Hello again.',
  connectTo: '+15550002222',
  idempotencyKey: 'k:callback',
};

describe('telephony activities: retries', () => {
  it('a first attempt is no retry; a later one carries the first attempt scheduling time', async () => {
    const telephony = new OptionsSeen();
    const activities = createTelephonyActivities(telephony);
    const scheduledTimestampMs = Date.parse('2026-12-05T10:00:00Z');
    await new MockActivityEnvironment({ attempt: 1, scheduledTimestampMs }).run(() => activities.placeCallback(req)); // prettier-ignore
    await new MockActivityEnvironment({ attempt: 2, scheduledTimestampMs }).run(() => activities.placeCallback(req)); // prettier-ignore
    assert.deepEqual(telephony.seen, [{}, { firstTriedAt: new Date(scheduledTimestampMs) }]);
  });
});
