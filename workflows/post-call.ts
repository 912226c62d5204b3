// The post-call workflow: batch work after the call, outliving the call workflow that
// started it (ParentClosePolicy ABANDON). Each step a retryable, idempotent activity: forget
// the call's cached speech, transcribe the recording, summarise, flag for QA, publish
// call.analyzed.
// Only references and short strings enter history (transcript key, word count, summary).
import {
  ActivityFailure,
  ApplicationFailure,
  log,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import type { PostCallInput, PostCallResult, TranscriptRef } from './post-call-definitions';
import { NON_RETRYABLE } from '../contracts/failures';
import {
  postCallBatch as batch,
  postCallPublishing as publishing,
  postCallQuick as quick,
} from './activity-proxies';

/** The failure type an activity ended with (ApplicationFailure.type), if any. */
function failureType(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return err.cause.type ?? undefined;
  }
  return undefined;
}

export async function postCallWorkflow(input: PostCallInput): Promise<PostCallResult> {
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
      if (!NON_RETRYABLE.includes(failureType(err) ?? '')) throw err;
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

  return {
    callSid: input.callSid,
    ...(transcript && { transcript }),
    ...(transcriptMissing && { transcriptMissing }),
    summary,
    qaFlags,
    eventId,
    ...(speechForgotten !== undefined && { speechForgotten }),
  };
}
