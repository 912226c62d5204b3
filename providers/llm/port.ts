// The language-model family: a grounded answer streamed from a prompt.
import type { LlmUsage } from '../../contracts/answers';
import type { ScoredChunk } from '../vectors/port';

export type { LlmUsage } from '../../contracts/answers';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What a grounded answer is built from; every field is untrusted data, already redacted. */
export interface AnswerRequest {
  question: string;
  intent: string;
  documents: ScoredChunk[];
  profile?: { name: string; balanceCents?: number; dueDate?: string; plan?: string };
  recentTurns: { speaker: 'caller' | 'agent'; text: string }[];
}

/** The composed messages for chat models plus the request they came from (for templates). */
export interface Prompt {
  messages: ChatMessage[];
  request: AnswerRequest;
}

/** Adapters throw ProviderError (providers/provider-error.ts), also from inside the stream. */
export interface LanguageModel {
  readonly name: string;
  /** It bills by the token and reports them (`onUsage`); a cut-off answer's are estimated. */
  readonly reportsUsage?: boolean;
  /**
   * The answer's text as it is generated, in pieces of any size. A provider that reports
   * its token usage calls `onUsage` before the stream ends.
   */
  stream(
    prompt: Prompt,
    opts?: { signal?: AbortSignal; maxTokens?: number; onUsage?: (usage: LlmUsage) => void },
  ): AsyncIterable<string>;
}
