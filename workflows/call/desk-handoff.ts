// The hand-off to the agent desk (the in-house path; handoff.ts is Twilio's): the call stays
// on the edge, and the workflow waits — bounded — for an agent to accept it. While it waits
// and while a human has it, the caller's turns are written to the transcript but the AI does
// not answer them (an empty reply: the edge plays nothing). The agent hands the call back
// (the AI says one line and the conversation goes on) or ends it (the goodbye, then the call
// ends as any call does). Nobody within the bound: the caller is told and called back.
import { condition, log, upsertSearchAttributes } from '@temporalio/workflow';
import { edgeHost } from '../activity-proxies';
import { PROMPTS } from '../call-state';
import {
  NO_AGENT_CALL_LATER,
  NO_AGENT_CALLBACK,
  SA_HUMAN_HANDOFF,
  type DeskAgent,
  type DeskHandoffView,
  type HumanHandoff,
  type StreamInfo,
} from '../definitions';
import type { Conversation } from './conversation';

export type DeskOutcome = 'handed_back' | 'ended_by_agent' | 'missed' | 'caller_left';

export interface DeskCall {
  callSid: string;
  conversation: Conversation;
  answerTimeoutMs: number;
  /** While waiting, "Thanks for holding…" this often. */
  remindEveryMs: number;
  stream(): StreamInfo | undefined;
  hungUp(): boolean;
  /** A callback can be placed (a phone number and an agents' queue). */
  canCallBack: boolean;
  lastTurnId(): number;
}

/** The line an agent's hand back puts the caller on again with the AI. */
export const BACK_WITH_ASSISTANT = `${PROMPTS.backWithAssistant} ${PROMPTS.anythingElse}`;

const AGENT_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** Where the call stands with the desk; its handlers run in the workflow, one at a time. */
export class DeskHandoff {
  private view?: DeskHandoffView;
  private asked?: 'hand_back' | 'end';
  /** Kept across hand-offs: a call handed back and transferred again names its last agent. */
  private lastAgent?: string;

  /** Set when the call is on the desk (waiting or with a human): turns are heard, not answered. */
  get holdsCall(): boolean {
    return this.view?.status === 'waiting' || this.view?.status === 'with_human';
  }

  get state(): DeskHandoffView | undefined {
    return this.view && { ...this.view };
  }

  /** Who handled the call last, for its call log. */
  get handledBy(): string | undefined {
    return this.lastAgent;
  }

  validateAccept({ agent }: DeskAgent): void {
    validAgent(agent);
    if (this.view?.status === 'with_human')
      throw new Error(`the call was already taken by ${this.view.agent}`);
    if (this.view?.status !== 'waiting') throw new Error('the call is not waiting for an agent');
  }

  /** Synchronous, so a second accept in the same task sees the call taken. */
  accept({ agent }: DeskAgent): DeskHandoffView {
    this.lastAgent = agent;
    this.move('with_human', { agent, acceptedAt: new Date().getTime() });
    log.info('an agent took the call', { agent });
    return this.state!;
  }

  validateHolder({ agent }: DeskAgent): void {
    validAgent(agent);
    if (this.view?.status !== 'with_human') throw new Error('no agent has this call');
    if (this.view.agent !== agent) throw new Error(`the call is with ${this.view.agent}`);
    if (this.asked) throw new Error('the call is already being handed back or ended');
  }

  ask(what: 'hand_back' | 'end'): DeskHandoffView {
    this.asked = what;
    return this.state!;
  }

  /** From the transfer line to the call's next step: back to the AI, its end, or a callback. */
  async run(call: DeskCall): Promise<DeskOutcome> {
    this.asked = undefined;
    this.view = { status: 'waiting', waitingSince: new Date().getTime() };
    upsertSearchAttributes([{ key: SA_HUMAN_HANDOFF, value: 'waiting' }]);
    const taken = await this.waitForAgent(call);
    if (call.hungUp()) return this.close('ended', 'caller_left');
    if (!taken) {
      log.warn('nobody on the desk took the call: the caller is told and called back');
      this.move('missed');
      await say(call, call.canCallBack ? NO_AGENT_CALLBACK : NO_AGENT_CALL_LATER, true);
      return 'missed';
    }
    await condition(() => this.asked !== undefined || call.hungUp());
    if (call.hungUp()) return this.close('ended', 'caller_left');
    if (this.asked === 'hand_back') {
      this.move('handed_back');
      await say(call, BACK_WITH_ASSISTANT, false);
      return 'handed_back';
    }
    await say(call, PROMPTS.goodbye, true);
    return this.close('ended', 'ended_by_agent');
  }

  /** Until an agent accepts, the caller leaves, or the bound; a reminder line now and then. */
  private async waitForAgent(call: DeskCall): Promise<boolean> {
    const deadline = new Date().getTime() + call.answerTimeoutMs;
    for (;;) {
      const left = deadline - new Date().getTime();
      if (left <= 0) return false;
      const done = await condition(
        () => this.view?.status === 'with_human' || call.hungUp(),
        Math.min(left, call.remindEveryMs),
      );
      if (done) return true;
      if (deadline - new Date().getTime() > 0) await say(call, PROMPTS.deskStillWaiting, false);
    }
  }

  private close(status: HumanHandoff, outcome: DeskOutcome): DeskOutcome {
    this.move(status);
    return outcome;
  }

  private move(status: HumanHandoff, more: Partial<DeskHandoffView> = {}): void {
    this.view = { ...this.view!, ...more, status };
    upsertSearchAttributes([{ key: SA_HUMAN_HANDOFF, value: status }]);
  }
}

/** A line nobody's turn asked for: noted in the transcript, said by the edge holding the call. */
async function say(call: DeskCall, text: string, hangUpAfter: boolean): Promise<void> {
  const convo = call.conversation;
  convo.speak(call.lastTurnId(), text, 'continue', 'handoff');
  const queue = call.stream()?.edgeTaskQueue;
  if (!queue || call.hungUp()) return;
  await edgeHost(queue)
    .speakOnCall({ callSid: call.callSid, text, hangUpAfter })
    .catch((err) => log.warn('the edge could not speak the desk line', { error: String(err) }));
}

function validAgent(agent: unknown): void {
  if (typeof agent !== 'string' || !AGENT_NAME.test(agent))
    throw new Error('agent must be a user name (letters, digits, . _ @ -)');
}
