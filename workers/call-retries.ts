// Counts a call's activity retries for the incident watcher: every activity of a call
// workflow that starts again (attempt > 1) leaves a call.activity_retried event, published in
// the background so the retry itself never waits for the broker.
import type { Context } from '@temporalio/activity';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  Next,
} from '@temporalio/worker';
import type { EventDraft } from '../contracts/events';

const CALL_WORKFLOW_TYPE = 'callWorkflow';
const CALL_WORKFLOW_PREFIX = 'call-';

/** The event of one retried attempt; undefined for a first attempt or another workflow's. */
export function retryEvent(info: Context['info'], at: Date): EventDraft | undefined {
  const workflowId = info.workflowExecution?.workflowId;
  if (info.attempt < 2 || info.workflowType !== CALL_WORKFLOW_TYPE || !workflowId) return;
  return {
    type: 'call.activity_retried',
    call_id: workflowId.startsWith(CALL_WORKFLOW_PREFIX)
      ? workflowId.slice(CALL_WORKFLOW_PREFIX.length)
      : workflowId,
    workflow_id: workflowId,
    // One id per attempt of an activity: a repeated publish is dropped by consumers.
    seq: activityNumber(info.activityId) * 1_000_000 + info.attempt,
    occurred_at: at.toISOString(),
    data: {
      activity_type: info.activityType,
      activity_id: info.activityId,
      attempt: info.attempt,
      local: info.isLocal,
    },
  };
}

/** Temporal numbers a workflow's activities; any other id gets a stable number of its own. */
function activityNumber(id: string): number {
  if (/^\d{1,9}$/.test(id)) return Number(id);
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 1_000_000_000;
  return h;
}

export function callRetryInterceptors(
  publish: (e: EventDraft) => void,
): ActivityInterceptorsFactory {
  return (ctx) => ({ inbound: new CallRetryCounter(ctx, publish) });
}

class CallRetryCounter implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly publish: (e: EventDraft) => void,
  ) {}

  execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
    const event = retryEvent(this.ctx.info, new Date());
    if (event) this.publish(event);
    return next(input);
  }
}
