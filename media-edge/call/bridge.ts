// The edge's side of one call's conversation with its workflow: numbers the turns and
// sends each final utterance or keypad entry as one update, whose result is the reply
// to speak; the edge's facts (a barge-in, a turn's timing, the recording) go as signals. Resending a turn (after a timeout, a reconnect) reuses its update id, so
// the workflow answers it once. Card numbers, CVVs and PINs are redacted here, before the
// text enters history.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { redactText } from '../../conversation/safety/redact';
import type { DtmfEntry } from './dtmf-entry';
import {
  bargeInSignal,
  callWorkflowId,
  dtmfUpdate,
  recordingReadySignal,
  streamStartedUpdate,
  turnTimingSignal,
  utteranceUpdate,
  utteranceUpdateId,
  type AsrRecord,
  type BargeIn,
  type RecordingRef,
  type Reply,
  type StreamInfo,
  type TurnTimingReport,
  type Utterance,
} from '../../contracts/call';

export class CallBridge {
  private lastTurnId = 0;
  /** The agent's last words: "what is your PIN?" makes the next digits a PIN. */
  private lastReplyText = '';
  /** …and so does the caller's "my pin is" before the digits in the next utterance. */
  private lastCallerText = '';
  readonly handle: WorkflowHandle;

  constructor(
    client: Client,
    readonly callSid: string,
  ) {
    this.handle = client.workflow.getHandle(callWorkflowId(callSid));
  }

  /** The media stream is up: returns the greeting to play. */
  async streamStarted(info: StreamInfo = {}): Promise<Reply> {
    return this.heard(
      await this.handle.executeUpdate(streamStartedUpdate, {
        args: [info],
        updateId: 'stream-started',
      }),
    );
  }

  utterance(
    text: string,
    confidence = 1,
    timings?: Utterance['timings'],
    asr?: AsrRecord,
  ): Promise<Reply> {
    const turnId = ++this.lastTurnId;
    const context = `${this.lastReplyText}\n${this.lastCallerText}`;
    this.lastCallerText = text;
    return this.resend({
      turnId,
      text: redactText(text, { contextBefore: context }),
      confidence,
      ...(timings && { timings }),
      ...(asr && { asr }),
    });
  }

  /** Sends a turn again with its original id (the workflow answers it only once). */
  async resend(u: Utterance): Promise<Reply> {
    this.lastTurnId = Math.max(this.lastTurnId, u.turnId);
    return this.heard(
      await this.handle.executeUpdate(utteranceUpdate, {
        args: [u],
        updateId: utteranceUpdateId(u.turnId),
      }),
    );
  }

  private heard(reply: Reply): Reply {
    this.lastReplyText = reply.text;
    return reply;
  }

  /** A keypad entry; a masked one carries only its length (it could be a PIN). */
  async dtmf(entry: DtmfEntry): Promise<Reply> {
    const turnId = ++this.lastTurnId;
    return this.heard(
      await this.handle.executeUpdate(dtmfUpdate, {
        args: [
          'digits' in entry ? { turnId, digits: entry.digits } : { turnId, digits: '', ...entry },
        ],
        updateId: utteranceUpdateId(turnId),
      }),
    );
  }

  /** The caller cut the agent's reply short after hearing `heardMs` of it. */
  bargeIn(cut: BargeIn): Promise<void> {
    return this.handle.signal(bargeInSignal, cut);
  }

  /** Where a turn's time went; the workflow publishes it with the turn's metrics. */
  turnTiming(timing: TurnTimingReport): Promise<void> {
    return this.handle.signal(turnTimingSignal, timing);
  }

  recordingReady(recording: RecordingRef): Promise<void> {
    return this.handle.signal(recordingReadySignal, recording);
  }
}
