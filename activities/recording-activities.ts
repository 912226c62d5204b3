// The activity of the late-recording workflow (workflows/recording.ts), on the call worker
// where the CRM is: a recording uploaded after its call closed is put on the call's CRM log.
// The CRM's attach is idempotent (the same key twice is one update), so Temporal may retry it.
import { ApplicationFailure } from '@temporalio/common';
import type { AttachRecordingInput, AttachedCallLog } from '../contracts/post-call';
import { FailureType, asActivities } from './errors';
import type { CrmClient } from '../providers/crm/port';

export function createRecordingActivities({ crm }: { crm: CrmClient }) {
  return asActivities({
    /**
     * The call's log with the recording's key. No log yet (queued while the CRM was away):
     * a retryable NotFound, so the retries wait until the queued log is written.
     */
    async attachRecording(input: AttachRecordingInput): Promise<AttachedCallLog> {
      const attached = await crm.attachRecording(input.callSid, input.recordingKey);
      if (!attached)
        throw ApplicationFailure.create({
          type: FailureType.NotFound,
          message: `call ${input.callSid} has no call log yet`,
          nonRetryable: false,
        });
      const { log } = attached;
      return {
        callLogId: attached.id,
        changed: attached.changed,
        ...(log.customerId && { customerId: log.customerId }),
        disposition: log.disposition,
        intents: log.intentPath,
        turns: log.turns,
        durationMs: log.durationMs,
      };
    },
  });
}

export type RecordingActivities = ReturnType<typeof createRecordingActivities>;
