// The post-call workflow: batch work after the call, outliving the call workflow that
// started it (ParentClosePolicy ABANDON). Each step a retryable, idempotent activity: forget
// the call's cached speech, transcribe the recording, summarise, flag for QA, publish
// call.analyzed; when the call queued its CRM log (the CRM was away), write it; and send the
// caller the lines the call promised by text (the apology played instead of them).
// Only references and short strings enter history (transcript key, word count, summary).
import { log, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  owedTextKey,
  type OwedTexts,
  type PendingCallLog,
  type PostCallInput,
  type PostCallResult,
  type TranscriptRef,
} from './post-call-definitions';
import { isCallableNumber, SA_CALL_LOG_PENDING } from './definitions';
import { reviewFor } from './review';
import type { CallLogStatusData } from '../contracts/events';
import { failedForGood, failureType } from './failures';
import {
  owedTexts as textsOn,
  pendingCallLog,
  postCallBatch as batch,
  postCallPublishing as publishing,
  postCallQuick as quick,
} from './activity-proxies';

export async function postCallWorkflow(input: PostCallInput): Promise<PostCallResult> {
  // A call log the call could not write (the CRM was away) is written beside the analysis,
  // which does not wait for the CRM; the result waits for both.
  const callLogWritten =
    input.pendingCallLog && patched('pending-call-log')
      ? writePendingCallLog(input.pendingCallLog)
      : undefined;
  // The caller was told "I'll send it to you by text message": sent first, beside the rest.
  const textsSent =
    input.owedTexts && patched('owed-texts')
      ? sendOwedTexts(input.callWorkflowId, input.owedTexts)
      : undefined;
  // Seed §7: the call's personal speech leaves the TTS cache as soon as the call is over.
  // Best effort: entries left behind (Redis away) expire with the cache's TTL.
  let speechForgotten: number | undefined;
  if (patched('forget-call-speech')) {
    try {
      ({ removed: speechForgotten } = await quick.forgetCallSpeech({ callSid: input.callSid }));
    } catch (err) {
      log.warn('the call’s cached speech was not removed', { error: String(err) });
    }
  }

  let transcript: TranscriptRef | undefined;
  let transcriptMissing: PostCallResult['transcriptMissing'];
  if (!input.recordingKey) {
    transcriptMissing = 'no_recording';
  } else {
    try {
      transcript = await batch.transcribeRecording({
        callSid: input.callSid,
        recordingKey: input.recordingKey,
      });
    } catch (err) {
      // A missing or unreadable recording will not get better: analyse the call without it.
      if (!failedForGood(err)) throw err;
      transcriptMissing = 'transcription_failed';
    }
  }

  const summary = await batch.summarizeCall({
    callSid: input.callSid,
    disposition: input.disposition,
    intents: input.intents,
    turns: input.turns,
    durationMs: input.durationMs,
    transferred: input.transferred,
    customerId: input.customerId,
    transcriptKey: transcript?.key,
  });

  const qaFlags = await quick.flagCall({
    disposition: input.disposition,
    fallbacks: input.fallbacks,
    lowConfidenceTurns: input.lowConfidenceTurns,
    transferred: input.transferred,
    refusedAnswers: input.refusedAnswers,
    transcriptMissing,
    transcriptWords: transcript?.words,
  });

  const { eventId } = await publishing.publishCallAnalyzed({
    workflowId: workflowInfo().workflowId,
    callSid: input.callSid,
    occurredAt: new Date().toISOString(),
    data: {
      summary: summary.summary,
      disposition: summary.disposition,
      qa_flags: qaFlags,
      summary_provider: summary.provider,
      transcription_provider: transcript?.provider ?? 'none',
      transcript_words: transcript?.words ?? 0,
    },
  });

  const callLog = await callLogWritten;
  const owedTexts = await textsSent;
  return {
    callSid: input.callSid,
    ...(callLog && { callLog }),
    ...(transcript && { transcript }),
    ...(transcriptMissing && { transcriptMissing }),
    summary,
    qaFlags,
    eventId,
    ...(speechForgotten !== undefined && { speechForgotten }),
    ...(owedTexts && { owedTexts }),
  };
}

/**
 * Each owed line once by SMS (key per turn), retried until it lands; a refusal for good (a
 * number the provider will not text) is logged and left. No text to a number that cannot
 * take one (withheld, short codes).
 */
async function sendOwedTexts(
  callWorkflowId: string,
  owed: OwedTexts,
): Promise<NonNullable<PostCallResult['owedTexts']>> {
  const turns = owed.lines.map((l) => l.turnId);
  if (!isCallableNumber(owed.to)) {
    log.warn('texts owed to a number that cannot take one: not sent', { turns });
    return { sent: [], notSent: 'number_not_callable' };
  }
  const outcomes = await Promise.all(
    owed.lines.map(async ({ turnId, text }) => {
      try {
        await textsOn(owed.taskQueue).sendSms({
          to: owed.to,
          from: owed.from,
          body: text,
          idempotencyKey: owedTextKey(callWorkflowId, turnId),
        });
        return { turnId, sent: true };
      } catch (err) {
        log.error('an owed text was refused for good', { turnId, error: String(err) });
        return { turnId, sent: false };
      }
    }),
  );
  const sent = outcomes.filter((o) => o.sent).map((o) => o.turnId);
  const refused = outcomes.filter((o) => !o.sent).map((o) => o.turnId);
  log.info('owed texts sent', { sent, refused });
  return { sent, ...(refused.length && { refused }) };
}

/**
 * Writes the queued call log, retrying until the CRM is back (the same idempotency key as
 * the call's own tries: one row). CallLogPending marks this workflow while it waits; a
 * refusal for good is flagged for review instead of retried.
 */
async function writePendingCallLog(
  pending: PendingCallLog,
): Promise<{ id: string } | { refused: string }> {
  upsertSearchAttributes([{ key: SA_CALL_LOG_PENDING, value: true }]);
  const { taskQueue, ...request } = pending;
  try {
    const { id } = await pendingCallLog(taskQueue).writeCallLog(request);
    log.info('the queued call log is written', { callSid: pending.log.callSid, callLogId: id });
    upsertSearchAttributes([{ key: SA_CALL_LOG_PENDING, value: false }]);
    await publishCallLogStatus(pending, { status: 'written', call_log_id: id });
    return { id };
  } catch (err) {
    // Only a failure for good ends the retries (the policy retries everything else).
    const refused = failureType(err) ?? 'unknown';
    log.error('the CRM refused the queued call log: flagged for review', { refused, error: String(err) }); // prettier-ignore
    upsertSearchAttributes([
      { key: SA_CALL_LOG_PENDING, value: false },
      reviewFor('call_log_refused'),
    ]);
    await publishCallLogStatus(pending, { status: 'refused', reason: refused });
    return { refused };
  }
}

/** Ops hear how the queued call log ended (call_log.status). */
async function publishCallLogStatus(
  pending: PendingCallLog,
  status: Omit<CallLogStatusData, 'disposition'>,
): Promise<void> {
  await publishing.publishCallLogStatus({
    workflowId: workflowInfo().workflowId,
    callSid: pending.log.callSid,
    occurredAt: new Date().toISOString(),
    data: { ...status, disposition: pending.log.disposition },
  });
}
