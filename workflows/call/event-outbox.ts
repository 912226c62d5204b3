// The call's events to Kafka: transcript lines, turn metrics, provider fallbacks, and at the
// end the recording and the call's end. Every event id is `<workflowId>:<type>:<seq>` with
// seq from workflow state, so a batch sent twice (a retry, a continued run) is dropped by
// consumers, and batches are sent one after another, so a call's events stay in order.
//
// Sending: a batch is one `publishEvents` activity, awaited by no turn; its completion
// costs the workflow a task of its own. With batches (patch `event-batches`) what the
// turns produce waits in the outbox and goes out at most once per BATCH_INTERVAL_MS (the
// first at once), or when MAX_BATCH events are waiting; the rest goes out when the call
// ends, and the call closes once the broker has every event. Before the patch each turn
// sent its own batch.
import { log } from '@temporalio/workflow';
import type { AnswerRecord } from '../../contracts/answers';
import type { EventDraft } from '../../contracts/events';
import type { ProviderAttempt } from '../../contracts/providers';
import { events } from '../activity-proxies';
import type { CarriedState, RecordingRef, TranscriptEntry, TurnTimingReport } from '../definitions';
import type { CallState } from '../call-state';
import { markDegraded } from './degraded';

/** At most one batch per this interval while the call runs. */
export const BATCH_INTERVAL_MS = 15_000;
/** A batch goes out regardless of the interval once this many events wait. */
export const MAX_BATCH = 100;
/** Turns whose metrics wait for the edge's timing report, at most (a lost report is dropped). */
const MAX_PENDING_METRICS = 8;
/** Edge timing reports kept until the next batch, at most. */
const MAX_EDGE_TIMINGS = 64;

/** What the workflow knows of one turn, for its turn.metrics event. */
export interface TurnFacts {
  confidence?: number;
  asrProvider?: string;
  asrMs?: number;
  llmProvider?: string;
  llmMs?: number;
  retrievalMs?: number;
  llmUsage?: { inputTokens: number; outputTokens: number };
  /** Workflow time from the turn's arrival to its reply (text calls' end to end). */
  replyMs: number;
}

/**
 * One provider asked for a turn. Histories recorded before the one attempt record hold
 * `{provider, ok, error?, ms?}`, and LLM answers passed over a provider with `reason:
 * 'skipped: …'`: both still read here.
 */
type Attempt = ProviderAttempt & { error?: string };
type Fallback = { stage: 'asr' | 'llm'; provider: string; turns: number };

export interface OutboxOptions {
  callSid: string;
  workflowId: string;
  /** The data plane is on for this run: without it every method does nothing. */
  enabled: boolean;
  /** Batches at most once per interval (patch `event-batches`); otherwise a batch per flush. */
  batched: boolean;
  carried?: CarriedState;
}

export class EventOutbox {
  /** Distinct fallback providers that served, for call.ended and the post-call workflow. */
  readonly fallbacksUsed = new Map<string, Fallback>();
  lowConfidenceTurns = 0;
  /** Turns whose line the edge replaced by the apology: each owed to the caller by SMS. */
  readonly owedTexts = new Set<number>();

  private readonly opts: OutboxOptions;
  private publishedSeq: number;
  private readonly edgeTimings: TurnTimingReport[] = [];
  private readonly turnFacts = new Map<number, TurnFacts>();
  private readonly pendingFallbacks: EventDraft[] = [];
  /** Built and not yet sent (batches only). */
  private readonly waiting: EventDraft[] = [];
  private lastSentAt = -Infinity;
  private publishing: Promise<void> = Promise.resolve();
  private readonly inFlight = new Map<number, EventDraft[]>();
  private readonly held: EventDraft[][] = [];
  private holding = false;
  private batches = 0;

  constructor(opts: OutboxOptions) {
    this.opts = opts;
    this.publishedSeq = opts.carried?.publishedSeq ?? 0;
    // Batches a previous run had not seen delivered go first, under the same ids.
    this.send(opts.carried?.unpublished ?? []);
  }

  get enabled(): boolean {
    return this.opts.enabled;
  }

  /** The edge's timing report of a turn (a signal); used by the next flush. */
  noteTiming(t: TurnTimingReport): void {
    if (t.smsFollowUp) this.owedTexts.add(t.turnId);
    if (this.edgeTimings.length < MAX_EDGE_TIMINGS) this.edgeTimings.push(t);
  }

  /** What one answered turn leaves for the events: its facts, low confidence, fallbacks. */
  noteTurn(
    turnId: number,
    facts: TurnFacts,
    opts: {
      lowConfidence: boolean;
      asr?: { attempts: Attempt[]; servedBy?: string };
      answer?: AnswerRecord;
    },
  ): void {
    if (!this.opts.enabled) return;
    if (opts.lowConfidence) this.lowConfidenceTurns++;
    if (opts.asr) this.noteFallbacks('asr', turnId, opts.asr.attempts, opts.asr.servedBy);
    if (opts.answer) this.noteFallbacks('llm', turnId, opts.answer.attempts, opts.answer.servedBy);
    if (opts.asr) markDegraded('asr', opts.asr.attempts);
    if (opts.answer) markDegraded('llm', opts.answer.attempts);
    this.turnFacts.set(turnId, facts);
  }

  /**
   * New transcript lines, turn metrics and fallbacks since the last flush: sent as a batch,
   * or with batches kept until one is due. An audio call's turn metrics wait for the edge's
   * timing report (a bounded number of turns).
   */
  flush(transcript: TranscriptEntry[], streaming: boolean): void {
    if (!this.opts.enabled) return;
    const drafts = [...this.collect(transcript, streaming), ...this.pendingFallbacks.splice(0)];
    if (!this.opts.batched) return this.send(drafts);
    this.waiting.push(...drafts);
    const now = new Date().getTime();
    if (
      this.waiting.length > 0 &&
      (now - this.lastSentAt >= BATCH_INTERVAL_MS || this.waiting.length >= MAX_BATCH)
    ) {
      this.lastSentAt = now;
      this.send(this.waiting.splice(0));
    }
  }

  /**
   * Continue-as-new is due: new batches are held for the next run, and batches in flight
   * get a bounded time to land (one completing while the run closes would fail the closing
   * task, and an update arriving then).
   */
  async hold(wait: (done: () => boolean) => Promise<unknown>): Promise<void> {
    if (!this.opts.enabled) return;
    this.holding = true;
    await wait(() => this.inFlight.size === 0);
  }

  /** What the next run needs: where the transcript's events stand and what was not delivered. */
  carried(): Pick<CarriedState, 'publishedSeq' | 'unpublished'> {
    if (!this.opts.enabled) return {};
    return {
      publishedSeq: this.publishedSeq,
      unpublished: [...this.inFlight.values(), ...this.held, this.waiting].flat(),
    };
  }

  /**
   * The call is over: everything still waiting, the metrics of turns whose timing never
   * came, then the recording and the call's end (after every line of the transcript).
   * `drained()` resolves once the broker has all of it.
   */
  close(
    transcript: TranscriptEntry[],
    streaming: boolean,
    end: {
      state: CallState;
      disposition: string;
      durationMs: number;
      /** Absent while the call log is pending or after the CRM refused it. */
      callLogId?: string;
      /** The call log was not written: queued until the CRM is back, or refused for good. */
      callLog?: { status: 'pending' } | { status: 'refused'; reason: string };
      recording?: RecordingRef;
    },
  ): void {
    if (!this.opts.enabled) return;
    this.holding = false;
    const ending = [
      ...(end.recording
        ? [
            this.draft('recording.completed', 0, {
              bucket: end.recording.bucket ?? 'recordings',
              object_key: end.recording.key,
              duration_ms: end.recording.durationMs,
              truncated: end.recording.truncated,
            }),
          ]
        : []),
      this.draft('call.ended', 0, {
        disposition: end.disposition,
        intents: end.state.intentPath,
        turns: end.state.turns,
        duration_ms: end.durationMs,
        fallbacks_used: [...this.fallbacksUsed.values()],
        ...(end.state.customer && { customer_id: end.state.customer.id }),
        ...(end.recording && { recording_key: end.recording.key }),
        ...(end.callLogId && { call_log_id: end.callLogId }),
      }),
      ...(end.callLog
        ? [this.draft('call_log.status', 0, { ...end.callLog, disposition: end.disposition })]
        : []),
    ];
    if (this.opts.batched) {
      const rest = [...this.held.splice(0).flat(), ...this.waiting.splice(0)];
      rest.push(...this.collect(transcript, streaming), ...this.pendingFallbacks.splice(0));
      for (const [turnId, f] of this.turnFacts) rest.push(this.turnMetrics(turnId, f));
      this.turnFacts.clear();
      this.send(rest);
      this.send(ending);
      return;
    }
    for (const batch of this.held.splice(0)) this.send(batch);
    this.flush(transcript, streaming);
    for (const [turnId, f] of this.turnFacts) this.send([this.turnMetrics(turnId, f)]);
    this.turnFacts.clear();
    this.send(ending);
  }

  /** Resolves once every batch sent so far is delivered. */
  drained(): Promise<void> {
    return this.publishing;
  }

  private collect(transcript: TranscriptEntry[], streaming: boolean): EventDraft[] {
    const drafts: EventDraft[] = [];
    for (const e of transcript) {
      if (e.seq <= this.publishedSeq) continue;
      const f = e.speaker === 'caller' ? this.turnFacts.get(e.turnId) : undefined;
      drafts.push(
        this.draft('transcript.line', e.seq, {
          turn_id: e.turnId,
          speaker: e.speaker,
          text: e.text,
          ...(e.intent && { intent: e.intent.name }),
          ...(e.reason && { reason: e.reason }),
          ...(e.interrupted && { interrupted_heard_ms: e.interrupted.heardMs }),
          ...(f?.asrProvider && { asr_provider: f.asrProvider }),
          ...(f?.confidence !== undefined && { confidence: f.confidence }),
        }),
      );
      this.publishedSeq = e.seq;
    }
    // Audio calls: the edge reports the voice-to-voice time once the reply started playing.
    for (const t of this.edgeTimings.splice(0)) {
      drafts.push(this.turnMetrics(t.turnId, this.turnFacts.get(t.turnId), t));
      this.turnFacts.delete(t.turnId);
    }
    for (const [turnId, f] of this.turnFacts) {
      if (streaming && this.turnFacts.size <= MAX_PENDING_METRICS) break;
      drafts.push(this.turnMetrics(turnId, f));
      this.turnFacts.delete(turnId);
    }
    return drafts;
  }

  /** One batch after another: a batch's activity is scheduled once the previous one landed. */
  private send(drafts: EventDraft[]): void {
    if (!this.opts.enabled || drafts.length === 0) return;
    if (this.holding) return void this.held.push(drafts);
    const batch = this.batches++;
    this.inFlight.set(batch, drafts);
    this.publishing = this.publishing
      .then(async () => void (await events.publishEvents(drafts)))
      .catch((err) => log.error('events could not be published', { error: String(err) }))
      .finally(() => this.inFlight.delete(batch));
  }

  private noteFallbacks(
    stage: 'asr' | 'llm',
    turnId: number,
    attempts: Attempt[],
    servedBy: string | undefined,
  ): void {
    const failed = attempts.filter(
      (a) => !a.ok && a.kind !== 'skipped' && !(a.reason ?? '').startsWith('skipped'),
    );
    failed.forEach((a, i) =>
      this.pendingFallbacks.push(
        this.draft('provider.fallback', turnId * 16 + (stage === 'llm' ? 8 : 0) + Math.min(i, 7), {
          stage,
          failed_provider: a.provider,
          reason: (a.reason ?? a.error ?? 'failed').slice(0, 500),
          ...(servedBy && { served_by: servedBy }),
          turn_id: turnId,
        }),
      ),
    );
    if (servedBy && failed.length) {
      const key = `${stage}:${servedBy}`;
      const used = this.fallbacksUsed.get(key) ?? { stage, provider: servedBy, turns: 0 };
      this.fallbacksUsed.set(key, { ...used, turns: used.turns + 1 });
    }
  }

  /**
   * A turn's metrics: an audio call's from the edge's timing report (voice to voice; turn 0,
   * the greeting, heard no caller and its end to end is the time to greet), a text call's
   * (or a turn whose report never came) from the workflow's own reply time.
   */
  private turnMetrics(turnId: number, f: TurnFacts | undefined, edge?: TurnTimingReport) {
    return this.draft('turn.metrics', turnId, {
      turn_id: turnId,
      latency_ms: {
        ...(edge && turnId > 0 && { asr: Math.round(edge.asrMs) }),
        ...(f?.retrievalMs !== undefined && { retrieval: f.retrievalMs }),
        ...(f?.llmMs !== undefined && { llm: f.llmMs }),
        ...(edge && { tts: Math.round(edge.ttsMs) }),
        end_to_end: edge ? Math.round(edge.voiceToVoiceMs) : (f?.replyMs ?? 0),
      },
      providers: {
        ...(f?.asrProvider && { asr: f.asrProvider }),
        ...(f?.llmProvider && { llm: f.llmProvider }),
        ...(edge?.ttsProvider && { tts: edge.ttsProvider }),
      },
      // Speech is synthesized (and billed) on the edge: a text call's turn has none.
      usage: {
        ...(f?.asrMs !== undefined && { asr_audio_ms: f.asrMs }),
        tts_characters: edge?.ttsCharacters ?? 0,
        ...(f?.llmUsage && {
          llm_input_tokens: f.llmUsage.inputTokens,
          llm_output_tokens: f.llmUsage.outputTokens,
        }),
      },
      ...(edge && { tts_cache_hit: edge.cacheHit }),
      ...(edge?.spokenAs && { spoken_as: edge.spokenAs }),
      ...(edge?.smsFollowUp && { sms_follow_up: true }),
    });
  }

  private draft<T extends EventDraft['type']>(
    type: T,
    seq: number,
    data: Extract<EventDraft, { type: T }>['data'],
  ): EventDraft {
    return {
      type,
      call_id: this.opts.callSid,
      workflow_id: this.opts.workflowId,
      seq,
      occurred_at: new Date().toISOString(),
      data,
    } as EventDraft;
  }
}
