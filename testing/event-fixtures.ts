// Event drafts for tests and a collector that waits for what a consumer handled.
import type { AnyBusEvent, EventDraft, EventType } from '../contracts/events';
import type { Delivery } from '../providers/events/port';

const T0 = Date.parse('2026-01-05T10:00:00.000Z');

/** A realistic call's events: every type (a TTS fallback on the greeting included). */
export function callEvents(callId: string, turns = 3): EventDraft[] {
  const base = { call_id: callId, workflow_id: `call-${callId}` };
  const at = (ms: number) => new Date(T0 + ms).toISOString();
  const drafts: EventDraft[] = [];
  let line = 0;
  const say = (turn: number, speaker: 'caller' | 'agent', text: string) =>
    drafts.push({
      ...base,
      type: 'transcript.line',
      seq: line,
      occurred_at: at(line++ * 1_000),
      data:
        speaker === 'caller'
          ? { turn_id: turn, speaker, text, confidence: 0.9, asr_provider: 'pocketsphinx' }
          : { turn_id: turn, speaker, text, reason: turn === 0 ? 'greeting' : 'reply' },
    });
  say(0, 'agent', 'Thanks for calling. How can I help?');
  drafts.push({
    ...base,
    type: 'provider.fallback',
    seq: 0,
    occurred_at: at(500),
    data: {
      stage: 'tts',
      failed_provider: 'polly',
      reason: 'timeout',
      served_by: 'flite',
      turn_id: 0,
    },
  });
  for (let turn = 1; turn <= turns; turn++) {
    say(turn, 'caller', `question number ${turn}`);
    say(turn, 'agent', `answer number ${turn}`);
    drafts.push({
      ...base,
      type: 'turn.metrics',
      seq: turn,
      occurred_at: at(turn * 2_000),
      data: {
        turn_id: turn,
        latency_ms: { asr: 120, intent: 4, llm: 350, tts: 60, end_to_end: 610 },
        providers: { asr: 'pocketsphinx', intent: 'rules', llm: 'smollm2', tts: 'espeak-ng' },
        usage: { asr_audio_ms: 2_400, tts_characters: 15, llm_input_tokens: 210 },
        tts_cache_hit: false,
      },
    });
  }
  drafts.push(
    {
      ...base,
      type: 'recording.completed',
      seq: 0,
      occurred_at: at(60_000),
      data: {
        bucket: 'switchboard-recordings',
        object_key: `calls/${callId}.wav`,
        duration_ms: 58_000,
        truncated: false,
      },
    },
    {
      ...base,
      type: 'call.ended',
      seq: 0,
      occurred_at: at(60_000),
      data: {
        disposition: 'resolved',
        intents: ['check_balance', 'goodbye'],
        turns,
        duration_ms: 58_000,
        fallbacks_used: [{ stage: 'tts', provider: 'flite', turns: 1 }],
        customer_id: 'cus_ada',
      },
    },
    {
      type: 'call.analyzed',
      call_id: callId,
      workflow_id: `postcall-${callId}`,
      seq: 0,
      occurred_at: at(75_000),
      data: {
        summary: 'Caller checked their balance; the call was resolved after 3 turns (58 s).',
        disposition: 'resolved',
        qa_flags: ['fallback_used', 'fallback:tts:flite'],
        summary_provider: 'template',
        transcription_provider: 'pocketsphinx',
        transcript_words: 42,
      },
    },
    {
      ...base,
      type: 'call_log.status',
      seq: 0,
      occurred_at: at(60_500),
      data: { status: 'pending', disposition: 'resolved' },
    },
  );
  return drafts;
}

/** The processes' own provider events (no call): a breaker move and a fallback summary. */
export function providerEvents(provider = 'tts:polly'): EventDraft[] {
  const at = new Date(T0).toISOString();
  return [
    {
      type: 'provider.health_changed',
      call_id: provider,
      workflow_id: `provider-health:${provider}`,
      seq: T0,
      occurred_at: at,
      data: {
        provider,
        family: provider.split(':')[0]!,
        from: 'closed',
        to: 'open',
        since: at,
        reason: '5 failures in a row',
        failures: 5,
        requests: 5,
        last_error_kind: 'timeout',
        last_error: 'timeout: timeout after 2000 ms',
      },
    },
    {
      type: 'provider.fallback_summary',
      call_id: provider,
      workflow_id: 'fallbacks:edge-1',
      seq: 1,
      occurred_at: at,
      data: {
        family: provider.split(':')[0]!,
        failed_provider: provider,
        count: 12,
        kind: 'skipped',
        served_by: `${provider.split(':')[0]!}:local`,
        unserved: 0,
        first_at: at,
        last_at: at,
      },
    },
  ];
}

/** One transcript line: a minimal valid draft. */
export function line(callId: string, seq: number, text = `line ${seq}`): EventDraft {
  return {
    type: 'transcript.line',
    call_id: callId,
    workflow_id: `call-${callId}`,
    seq,
    occurred_at: new Date(T0 + seq).toISOString(),
    data: { turn_id: seq, speaker: 'caller', text },
  };
}

/** Records what handlers received; `until` waits for a condition on it. */
export class Collector {
  readonly received: { event: AnyBusEvent; delivery: Delivery }[] = [];
  private waiters: (() => void)[] = [];

  readonly handle = async (event: AnyBusEvent, delivery: Delivery): Promise<void> => {
    this.received.push({ event, delivery });
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  };

  /** The same handler for every type (what subscribe takes). */
  handlers(types: readonly EventType[]): Record<EventType, typeof this.handle> {
    return Object.fromEntries(types.map((t) => [t, this.handle])) as Record<
      EventType,
      typeof this.handle
    >;
  }

  ids(): string[] {
    return this.received.map((r) => r.event.id);
  }

  async until(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; received ${this.received.length}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** A call's retried activity attempt, as the call worker's interceptor publishes it. */
export function retryEvents(callId: string): EventDraft[] {
  return [
    {
      type: 'call.activity_retried',
      call_id: callId,
      workflow_id: `call-${callId}`,
      seq: 1_000_002,
      occurred_at: new Date(T0 + 1_000).toISOString(),
      data: { activity_type: 'identifyCaller', activity_id: '1', attempt: 2, local: true },
    },
  ];
}
