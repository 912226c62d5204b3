// Activities of the post-call workflow: batch transcription of the recording, the summary,
// QA flags and the call.analyzed event. Each is idempotent, so Temporal may retry any of
// them: the transcript is a conditional put under a key derived from the call (a retry
// finds it and keeps it), the event id is derived from the workflow id, and the summary
// and flags have no side effects. Only references and short strings go back into history.
import { asyncLocalStorage } from '@temporalio/activity';
import { decodeWav } from '../audio/wav';
import { SUMMARY_MAX_CHARS, type CallSummary, type TranscriptRef } from '../contracts/post-call';
import { FailureType, asActivities, asActivity, failure } from './errors';
import { redactEventText } from '../conversation/safety/event-redaction';
import type { FallbackLanguageModel } from '../providers/llm/fallback';
import { TemplateLanguageModel } from '../providers/llm/template';
import { splitAtSilences } from '../conversation/post-call/split-silence';
import { qaFlags, type QaFacts } from '../conversation/post-call/qa-flags';
import {
  deterministicSummary,
  shortSummary,
  summaryPrompt,
  type SummaryFacts,
} from '../conversation/post-call/summary';
import type { CallAnalyzedData, CallLogStatusData } from '../contracts/events';
import type { EventBus } from '../providers/events/port';
import type { ObjectStore } from '../providers/object-store/port';
import type { SpeechToText } from '../providers/stt/port';
import { redactText } from '../conversation/safety/redact';

export interface PostCallActivityDeps {
  /** The recordings bucket (two-channel WAVs uploaded by the edge). */
  recordings: ObjectStore;
  /** Where transcripts go; default: the recordings store. */
  transcripts?: ObjectStore;
  /** The batch recognizer (local pocketsphinx by default, Deepgram pre-recorded in production). */
  stt: SpeechToText;
  /** Summaries; without one (or when no model serves) the deterministic summary is used. */
  llm?: FallbackLanguageModel;
  events: EventBus;
  /**
   * The edge's TTS cache: the call's personal entries (its greeting, amounts) are removed
   * after it. Without one there is nothing to remove.
   */
  speechCache?: { forgetCall(callId: string): Promise<number> };
  /** Recognizer hints per channel (pocketsphinx: a grammar instead of dictation). */
  hints?: { caller?: string[]; agent?: string[] };
  log?: (line: string) => void;
}

export const transcriptKey = (callSid: string): string => `transcripts/${callSid}.json`;

/** Channel order of the edge's recordings (media-edge/call/recorder.ts). */
const SPEAKERS = ['caller', 'agent'] as const;
type Speaker = (typeof SPEAKERS)[number];

export interface TranscriptSegment {
  speaker: Speaker;
  start_ms: number;
  end_ms: number;
  /** Redacted. */
  text: string;
  confidence: number;
}

/** The stored transcript document (JSON, snake_case like the events). */
export interface StoredTranscript {
  call_sid: string;
  recording_key: string;
  provider: string;
  duration_ms: number;
  words: number;
  segments: TranscriptSegment[];
  /** `caller: …` / `agent: …` lines in time order; redacted. */
  text: string;
}

export interface TranscribeInput {
  callSid: string;
  recordingKey: string;
}

export interface SummarizeInput extends SummaryFacts {
  transcriptKey?: string;
}

export interface PublishCallLogStatusInput {
  workflowId: string;
  callSid: string;
  occurredAt: string;
  data: CallLogStatusData;
}

export interface PublishAnalyzedInput {
  workflowId: string;
  callSid: string;
  /** From the workflow's clock, so a retry publishes the same event. */
  occurredAt: string;
  data: CallAnalyzedData;
}

const countWords = (text: string): number => text.split(/\s+/).filter(Boolean).length;

function heartbeat(details?: unknown): void {
  asyncLocalStorage.getStore()?.heartbeat(details);
}

function parseTranscript(key: string, body: Buffer): StoredTranscript {
  try {
    return JSON.parse(body.toString('utf8')) as StoredTranscript;
  } catch {
    throw failure(FailureType.BadInput, `${key} is not a transcript (not JSON)`);
  }
}

export function createPostCallActivities(deps: PostCallActivityDeps) {
  const transcripts = deps.transcripts ?? deps.recordings;
  const log = deps.log ?? ((line: string) => console.log(`[post-call] ${line}`));

  async function transcribeChannel(
    speaker: Speaker,
    samples: Int16Array,
    sampleRate: number,
  ): Promise<TranscriptSegment[]> {
    const out: TranscriptSegment[] = [];
    const hints = deps.hints?.[speaker];
    let previous = '';
    for (const seg of splitAtSilences(samples, { sampleRate })) {
      heartbeat({ speaker, atMs: Math.round((seg.start * 1000) / sampleRate) });
      const r = await asActivity(() =>
        deps.stt.transcribe(
          { samples: samples.subarray(seg.start, seg.end), sampleRate },
          hints?.length ? { hints } : {},
        ),
      );
      const raw = r.text.trim();
      if (!raw) continue;
      // Spoken digits may run across a pause: the previous line is the redactor's context.
      const text = redactText(raw, { contextBefore: previous });
      previous = raw;
      out.push({
        speaker,
        start_ms: Math.round((seg.start * 1000) / sampleRate),
        end_ms: Math.round((seg.end * 1000) / sampleRate),
        text,
        confidence: Math.round(r.confidence * 1000) / 1000,
      });
    }
    return out;
  }

  return asActivities({
    /**
     * Transcribes both channels of the recording, redacts, and stores the transcript once
     * (conditional put). An existing transcript is returned as is: nothing is recognised
     * twice, and the first stored version stays.
     */
    async transcribeRecording(input: TranscribeInput): Promise<TranscriptRef> {
      const key = transcriptKey(input.callSid);
      const existing = await transcripts.get(key);
      if (existing) {
        const t = parseTranscript(key, existing);
        return { key, provider: t.provider, words: t.words, created: false };
      }
      const wav = await deps.recordings.get(input.recordingKey);
      if (!wav) throw failure(FailureType.NotFound, `no recording at ${input.recordingKey}`);
      let audio: ReturnType<typeof decodeWav>;
      try {
        audio = decodeWav(wav);
      } catch (err) {
        throw failure(
          FailureType.BadInput,
          `recording ${input.recordingKey} is not readable: ${(err as Error).message}`,
        );
      }
      const segments: TranscriptSegment[] = [];
      for (const [i, samples] of audio.channels.slice(0, SPEAKERS.length).entries()) {
        segments.push(...(await transcribeChannel(SPEAKERS[i]!, samples, audio.sampleRate)));
      }
      segments.sort((a, b) => a.start_ms - b.start_ms || a.speaker.localeCompare(b.speaker));
      const text = segments.map((s) => `${s.speaker}: ${s.text}`).join('\n');
      const doc: StoredTranscript = {
        call_sid: input.callSid,
        recording_key: input.recordingKey,
        provider: deps.stt.name,
        duration_ms: Math.round(
          (Math.max(0, ...audio.channels.map((c) => c.length)) * 1000) / audio.sampleRate,
        ),
        words: segments.reduce((n, s) => n + countWords(s.text), 0),
        segments,
        text,
      };
      const { created } = await transcripts.put(key, Buffer.from(JSON.stringify(doc)), {
        contentType: 'application/json',
        ifAbsent: true,
      });
      if (!created) {
        // Another attempt stored it first: that one is the transcript.
        const stored = await transcripts.get(key);
        if (stored) {
          const t = parseTranscript(key, stored);
          return { key, provider: t.provider, words: t.words, created: false };
        }
      }
      log(`${input.callSid}: ${segments.length} segments, ${doc.words} words → ${key}`);
      return { key, provider: doc.provider, words: doc.words, created };
    },

    /** One or two sentences through the LLM chain; the deterministic summary when none serves. */
    async summarizeCall(input: SummarizeInput): Promise<CallSummary> {
      const fallback = (): CallSummary => ({
        summary: shortSummary(deterministicSummary(input), SUMMARY_MAX_CHARS),
        disposition: input.disposition,
        provider: 'template',
      });
      const body = input.transcriptKey ? await transcripts.get(input.transcriptKey) : undefined;
      const transcript = body ? parseTranscript(input.transcriptKey!, body).text : '';
      if (!deps.llm || !transcript.trim()) return fallback();
      const result = await deps.llm.complete(summaryPrompt(input, transcript), {
        signal: asyncLocalStorage.getStore()?.cancellationSignal,
      });
      const text = result.text.trim();
      // The chain's template link answers questions from a document; a call summary is
      // better told from the call's facts (the deterministic summary).
      const served = deps.llm.links.find((l) => l.provider === result.servedBy);
      if (served?.port instanceof TemplateLanguageModel) return fallback();
      if (!result.servedBy || !text) {
        log(`${input.callSid}: no model summarised (${describeAttempts(result.attempts)})`);
        return fallback();
      }
      return {
        // A model may echo digits from the transcript: redact its words too.
        summary: shortSummary(redactText(text), SUMMARY_MAX_CHARS),
        disposition: input.disposition,
        provider: result.servedBy,
      };
    },

    /** Idempotent: a repeat finds nothing left and returns 0. */
    async forgetCallSpeech(input: { callSid: string }): Promise<{ removed: number }> {
      if (!deps.speechCache) return { removed: 0 };
      const removed = await deps.speechCache.forgetCall(input.callSid);
      if (removed) log(`${input.callSid}: removed ${removed} cached personal audio entr${removed === 1 ? 'y' : 'ies'}`); // prettier-ignore
      return { removed };
    },

    async flagCall(input: QaFacts): Promise<string[]> {
      return qaFlags(input);
    },

    /** Publishes call.analyzed with seq 0: its id is `<workflow id>:call.analyzed:0`. */
    async publishCallAnalyzed(input: PublishAnalyzedInput): Promise<{ eventId: string }> {
      const [event] = await deps.events.publish([
        redactEventText({
          type: 'call.analyzed',
          call_id: input.callSid,
          workflow_id: input.workflowId,
          seq: 0,
          occurred_at: input.occurredAt,
          data: input.data,
        }),
      ]);
      return { eventId: event!.id };
    },

    /** The queued call log written or refused (seq 1: the call's own `pending` was seq 0). */
    async publishCallLogStatus(input: PublishCallLogStatusInput): Promise<{ eventId: string }> {
      const [event] = await deps.events.publish([
        {
          type: 'call_log.status',
          call_id: input.callSid,
          workflow_id: input.workflowId,
          seq: 1,
          occurred_at: input.occurredAt,
          data: input.data,
        },
      ]);
      return { eventId: event!.id };
    },
  });
}

function describeAttempts(attempts: { provider: string; reason?: string }[]): string {
  return attempts.map((a) => `${a.provider}: ${a.reason ?? 'ok'}`).join('; ') || 'no providers';
}

export type PostCallActivities = ReturnType<typeof createPostCallActivities>;
