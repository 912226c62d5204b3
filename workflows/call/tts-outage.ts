// A prolonged TTS outage, as the edge reports it at stream start (`ttsOutage`: every
// synthesizer out for TTS_OUTAGE_AFTER_MS): a call not yet in conversation is not given one
// it could not hear. Its greeting, not yet handed to the edge, becomes the prerecorded
// outage notice, the call ends, and a caller who can be called back is owed a call back
// (scheduled at the call's end like every other). The call is marked for ops: DegradedMode
// `tts:outage`, NeedsReview `tts_outage`. A call already under way keeps its conversation
// (pieces and the apology). Behind the patch `tts-outage-notice`.
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SA_DEGRADED_MODE } from '../../contracts/call';
import { step } from '../call-state';
import type { StreamInfo } from '../definitions';
import { reviewFor } from '../review';
import type { Conversation } from './conversation';
import { isPatched, PATCHES } from './versions';

export const TTS_OUTAGE_MODE = 'tts:outage';
export const TTS_OUTAGE_REVIEW = 'tts_outage';

export class TtsOutageNotice {
  private state: 'none' | 'pending' | 'told' = 'none';

  constructor(private readonly convo: Conversation) {}

  /** The notice is owed and not yet said: the greeting must wait for it. */
  get pending(): boolean {
    return this.state === 'pending' && !this.convo.ended;
  }

  /** A stream start; `inConversation`: the caller has spoken already (a live call is kept). */
  streamStarted(info: StreamInfo, inConversation: boolean): void {
    if (!info.ttsOutage || this.state !== 'none' || inConversation || this.convo.ended) return;
    if (isPatched(PATCHES.ttsOutageNotice)) this.state = 'pending';
  }

  /** Says the notice instead of the greeting and ends the conversation. */
  tell(callBack: boolean): void {
    const s = step(this.convo.state, { kind: 'tts_outage', callBack });
    this.convo.state = s.state;
    this.convo.replaceGreeting(s.say ?? '', s.action);
    this.state = 'told';
    const degraded = workflowInfo().typedSearchAttributes.get(SA_DEGRADED_MODE) ?? [];
    upsertSearchAttributes([
      { key: SA_DEGRADED_MODE, value: [...new Set([...degraded, TTS_OUTAGE_MODE])] },
      reviewFor(TTS_OUTAGE_REVIEW),
    ]);
  }
}
