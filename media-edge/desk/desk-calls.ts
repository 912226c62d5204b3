// What the desk shows and does, from Temporal alone: the live calls (visibility over running
// call workflows, then each call's state query), one call's state and transcript, finished
// calls with their recordings, and the desk's updates to a call (accept, hand back, end).
import {
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import {
  CALLER_MEMO,
  acceptHandoffUpdate,
  callWorkflowId,
  endCallUpdate,
  handBackUpdate,
  SA_CUSTOMER_ID,
  SA_HUMAN_HANDOFF,
  SA_LAST_INTENT,
  stateQuery,
  transcriptQuery,
  type CallResult,
  type DeskHandoffView,
  type LiveState,
  type TranscriptEntry,
} from '../../contracts/call';

/** One row of the calls list. */
export interface DeskCallRow {
  callSid: string;
  caller?: string;
  customer?: string;
  intentPath: string[];
  /** The dialogue's phase, or where the call is on the desk. */
  state: string;
  startedAt: number;
  /** Live: how long so far; finished: how long it lasted. */
  durationMs: number;
  waitingForHuman: boolean;
  handoff?: DeskHandoffView;
  live: boolean;
  disposition?: string;
  hasRecording: boolean;
}

export interface DeskCallDetail extends DeskCallRow {
  summary?: string;
  context: { customer?: { id: string; name: string }; turns: number; callbackRequested: boolean };
  transcript: TranscriptEntry[];
}

/** A desk action the workflow refused: its reason is for the user (who has the call, …). */
export class DeskActionRefused extends Error {}

/** What the desk reads of an execution, from a list or a describe alike. */
type Execution = Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'startTime' | 'closeTime' | 'typedSearchAttributes' | 'memo'>; // prettier-ignore

const CALL_PREFIX = 'call-';
const LIVE = "WorkflowType = 'callWorkflow' AND ExecutionStatus = 'Running'";
// A run that continued as new is not a finished call: its call goes on in the next run.
const FINISHED =
  "WorkflowType = 'callWorkflow' AND ExecutionStatus != 'Running' AND ExecutionStatus != 'ContinuedAsNew'";
const FINISHED_SHOWN = 20;
/** The state queries of a list run this many at a time (each is a round trip to a worker). */
const QUERY_BATCH = 16;
const RESULTS_KEPT = 500;

export class DeskCalls {
  /** Finished calls' results by run: they never change, and the list asks every 2 s. */
  private readonly results = new Map<string, CallResult | undefined>();

  constructor(
    private readonly client: Client,
    private readonly now: () => number = Date.now,
  ) {}

  async live(): Promise<DeskCallRow[]> {
    const infos: WorkflowExecutionInfo[] = [];
    for await (const info of this.client.workflow.list({ query: LIVE })) infos.push(info);
    const rows: DeskCallRow[] = [];
    for (let i = 0; i < infos.length; i += QUERY_BATCH) {
      const batch = infos.slice(i, i + QUERY_BATCH);
      rows.push(...(await Promise.all(batch.map((info) => this.liveRow(info)))));
    }
    return rows.sort((a, b) => Number(b.waitingForHuman) - Number(a.waitingForHuman) || a.startedAt - b.startedAt); // prettier-ignore
  }

  async finished(): Promise<DeskCallRow[]> {
    const rows: DeskCallRow[] = [];
    for await (const info of this.client.workflow.list({ query: FINISHED })) {
      if (!info.workflowId.startsWith(CALL_PREFIX)) continue;
      rows.push(await this.finishedRow(info));
      if (rows.length >= FINISHED_SHOWN) break;
    }
    return rows;
  }

  /** One call, live or finished; undefined when there is no such call. */
  async call(callSid: string): Promise<DeskCallDetail | undefined> {
    const handle = this.client.workflow.getHandle(callWorkflowId(callSid));
    let info: Execution;
    try {
      info = await handle.describe();
    } catch {
      return undefined;
    }
    const live = info.status.name === 'RUNNING';
    const [state, transcript] = await Promise.all([
      handle.query(stateQuery).catch(() => undefined),
      handle.query(transcriptQuery).catch(() => [] as TranscriptEntry[]),
    ]);
    const row = live ? rowOf(info, state, this.now()) : await this.finishedRow(info, state);
    return {
      ...row,
      ...(state?.summary && { summary: state.summary }),
      context: {
        ...(state?.state.customer && { customer: state.state.customer }),
        turns: state?.turns ?? 0,
        callbackRequested: state?.state.callbackRequested === true,
      },
      transcript,
    };
  }

  /** The finished call's result (its recording, who handled it); undefined while live. */
  async result(callSid: string): Promise<CallResult | undefined> {
    const handle = this.client.workflow.getHandle(callWorkflowId(callSid));
    const info = await handle.describe().catch(() => undefined);
    if (!info || info.status.name !== 'COMPLETED') return undefined;
    return (await handle.result()) as CallResult;
  }

  accept(callSid: string, agent: string): Promise<DeskHandoffView> {
    return this.act(callSid, (h) => h.executeUpdate(acceptHandoffUpdate, { args: [{ agent }] }));
  }

  handBack(callSid: string, agent: string): Promise<DeskHandoffView> {
    return this.act(callSid, (h) => h.executeUpdate(handBackUpdate, { args: [{ agent }] }));
  }

  end(callSid: string, agent: string): Promise<DeskHandoffView> {
    return this.act(callSid, (h) => h.executeUpdate(endCallUpdate, { args: [{ agent }] }));
  }

  private async act(
    callSid: string,
    update: (h: ReturnType<Client['workflow']['getHandle']>) => Promise<DeskHandoffView>,
  ): Promise<DeskHandoffView> {
    try {
      return await update(this.client.workflow.getHandle(callWorkflowId(callSid)));
    } catch (err) {
      // The validator's reason (e.g. "the call was already taken by alice") is the answer.
      if (err instanceof WorkflowUpdateFailedError)
        throw new DeskActionRefused(err.cause?.message ?? err.message);
      if ((err as Error).name === 'WorkflowNotFoundError')
        throw new DeskActionRefused('the call has ended');
      throw err;
    }
  }

  private async liveRow(info: Execution): Promise<DeskCallRow> {
    const state = await this.client.workflow
      .getHandle(info.workflowId, info.runId)
      .query(stateQuery)
      .catch(() => undefined);
    return rowOf(info, state, this.now());
  }

  private async finishedRow(info: Execution, state?: LiveState): Promise<DeskCallRow> {
    const result = await this.resultOf(info);
    const row = rowOf(info, state, (info.closeTime ?? new Date(this.now())).getTime());
    return {
      ...row,
      live: false,
      waitingForHuman: false,
      ...(result && { disposition: result.disposition, durationMs: result.durationMs, intentPath: result.intentPath }), // prettier-ignore
      ...(!row.handoff && result?.handledBy && { handoff: { status: 'ended', agent: result.handledBy, waitingSince: 0 } }), // prettier-ignore
      hasRecording: result?.recording !== undefined,
    };
  }

  private async resultOf(info: Execution): Promise<CallResult | undefined> {
    if (info.status.name !== 'COMPLETED') return undefined;
    if (!this.results.has(info.runId)) {
      const result = await this.client.workflow
        .getHandle(info.workflowId, info.runId)
        .result()
        .then((r) => r as CallResult)
        .catch(() => undefined);
      if (this.results.size >= RESULTS_KEPT) this.results.delete(this.results.keys().next().value!); // prettier-ignore
      this.results.set(info.runId, result);
    }
    return this.results.get(info.runId);
  }
}

function rowOf(info: Execution, state: LiveState | undefined, now: number): DeskCallRow {
  const sa = info.typedSearchAttributes;
  const callSid = info.workflowId.slice(CALL_PREFIX.length);
  const handoff = state?.handoff;
  const status = handoff?.status ?? sa.get(SA_HUMAN_HANDOFF);
  const customer = state?.state.customer?.name ?? sa.get(SA_CUSTOMER_ID);
  const memo = info.memo?.[CALLER_MEMO];
  const caller = state?.caller ?? (typeof memo === 'string' ? memo : undefined);
  const lastIntent = sa.get(SA_LAST_INTENT);
  const startedAt = info.startTime.getTime();
  return {
    callSid,
    ...(caller && { caller }),
    ...(customer && { customer }),
    intentPath: state?.state.intentPath ?? (lastIntent ? [lastIntent] : []),
    state: status === 'waiting' || status === 'with_human' ? status : (state?.state.phase ?? 'unknown'), // prettier-ignore
    startedAt,
    durationMs: Math.max(0, now - startedAt),
    waitingForHuman: status === 'waiting',
    ...(handoff && { handoff }),
    live: info.status.name === 'RUNNING',
    ...(state?.disposition && { disposition: state.disposition }),
    hasRecording: state?.recording !== undefined,
  };
}
