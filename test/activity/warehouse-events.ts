// The conformance suite's events: one call with every event type (seven events). Fixed
// here, not shared, because the Snowflake replay (test/fixtures/snowflake/load-twice.json)
// recorded exactly these bindings.
import { EventCodec } from '../../providers/events';
import type { AnyBusEvent, EventDraft } from '../../contracts/events';

const call = { call_id: 'CAsnowflake0001', workflow_id: 'call-CAsnowflake0001' };

const DRAFTS: EventDraft[] = [
  {
    ...call,
    type: 'transcript.line',
    seq: 0,
    occurred_at: '2026-01-05T10:00:00.000Z',
    data: { turn_id: 0, speaker: 'agent', text: 'Thanks for calling. How can I help?', reason: 'greeting' }, // prettier-ignore
  },
  {
    ...call,
    type: 'transcript.line',
    seq: 1,
    occurred_at: '2026-01-05T10:00:04.000Z',
    data: { turn_id: 1, speaker: 'caller', text: "what's my balance", confidence: 0.91, intent: 'check_balance', asr_provider: 'pocketsphinx' }, // prettier-ignore
  },
  {
    ...call,
    type: 'provider.fallback',
    seq: 0,
    occurred_at: '2026-01-05T10:00:04.500Z',
    data: { stage: 'tts', failed_provider: 'polly', reason: 'timeout', served_by: 'local', turn_id: 1 }, // prettier-ignore
  },
  {
    ...call,
    type: 'turn.metrics',
    seq: 1,
    occurred_at: '2026-01-05T10:00:05.000Z',
    data: {
      turn_id: 1,
      latency_ms: { asr: 120, intent: 4, tts: 60, end_to_end: 610 },
      providers: { asr: 'pocketsphinx', intent: 'embedding', tts: 'local' },
      usage: { asr_audio_ms: 2_400, tts_characters: 38 },
    },
  },
  {
    ...call,
    type: 'recording.completed',
    seq: 0,
    occurred_at: '2026-01-05T10:00:30.000Z',
    data: { bucket: 'switchboard-recordings', object_key: 'calls/CAsnowflake0001.wav', duration_ms: 29_000, truncated: false }, // prettier-ignore
  },
  {
    ...call,
    type: 'call.ended',
    seq: 0,
    occurred_at: '2026-01-05T10:00:30.000Z',
    data: { disposition: 'resolved', intents: ['check_balance'], turns: 1, duration_ms: 29_000, fallbacks_used: [{ stage: 'tts', provider: 'local', turns: 1 }] }, // prettier-ignore
  },
  {
    type: 'call.analyzed',
    call_id: call.call_id,
    workflow_id: 'postcall-CAsnowflake0001',
    seq: 0,
    occurred_at: '2026-01-05T10:00:40.000Z',
    data: { summary: 'Caller checked their balance.', disposition: 'resolved', qa_flags: ['fallback_used'], summary_provider: 'template', transcription_provider: 'pocketsphinx', transcript_words: 12 }, // prettier-ignore
  },
];

export function conformanceEvents(): AnyBusEvent[] {
  const codec = new EventCodec();
  return DRAFTS.map((d) => codec.build(d));
}
