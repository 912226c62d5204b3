// The edge's side of one call's conversation with its workflow: numbers the turns and
// sends each final utterance or keypad entry as one update, whose result is the reply
// to speak. Resending a turn (after a timeout, a reconnect) reuses its update id, so
// the workflow answers it once.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DtmfEntry } from './dtmf-entry';
import {
  callWorkflowId,
  dtmfUpdate,
  streamStartedUpdate,
  utteranceUpdate,
  utteranceUpdateId,
  type AsrRecord,
  type Reply,
  type StreamInfo,
  type Utterance,
} from '../workflows/definitions';

export class CallBridge {
  private lastTurnId = 0;
  readonly handle: WorkflowHandle;

  constructor(
    client: Client,
    readonly callSid: string,
  ) {
    this.handle = client.workflow.getHandle(callWorkflowId(callSid));
  }

  /** The media stream is up: returns the greeting to play. */
  streamStarted(info: StreamInfo = {}): Promise<Reply> {
    return this.handle.executeUpdate(streamStartedUpdate, {
      args: [info],
      updateId: 'stream-started',
    });
  }

  utterance(
    text: string,
    confidence = 1,
    timings?: Utterance['timings'],
    asr?: AsrRecord,
  ): Promise<Reply> {
    const turnId = ++this.lastTurnId;
    return this.resend({
      turnId,
      text,
      confidence,
      ...(timings && { timings }),
      ...(asr && { asr }),
    });
  }

  /** Sends a turn again with its original id (the workflow answers it only once). */
  resend(u: Utterance): Promise<Reply> {
    this.lastTurnId = Math.max(this.lastTurnId, u.turnId);
    return this.handle.executeUpdate(utteranceUpdate, {
      args: [u],
      updateId: utteranceUpdateId(u.turnId),
    });
  }

  /** A keypad entry; a masked one carries only its length (it could be a PIN). */
  dtmf(entry: DtmfEntry): Promise<Reply> {
    const turnId = ++this.lastTurnId;
    return this.handle.executeUpdate(dtmfUpdate, {
      args: [
        'digits' in entry ? { turnId, digits: entry.digits } : { turnId, digits: '', ...entry },
      ],
      updateId: utteranceUpdateId(turnId),
    });
  }
}
