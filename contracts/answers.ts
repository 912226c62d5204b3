// What the call workflow sends to the answering activity and gets back. Only text,
// ids, the served provider and timings: the LLM's tokens and the documents stay out of
// history.
import type { KbIntentName } from './call';
import type { ProviderAttempt } from './providers';

export interface AnswerInput {
  callSid: string;
  turnId: number;
  /** The caller's question, already redacted at the edge. */
  question: string;
  intent: KbIntentName;
  customer?: { id: string; name: string };
  /** The caller's own account, for personal answers; grounding accepts these facts. */
  profile?: { balanceCents: number; dueDate?: string };
  recentTurns: { speaker: 'caller' | 'agent'; text: string }[];
  /** Turns so far: the caller's name is used now and then, not in every answer. */
  turnCount: number;
}

export type RefusalReason =
  | 'ungrounded'
  | 'commitment'
  | 'privacy'
  | 'tone'
  /** A sentence's claims are not supported by the passages or the caller's account. */
  | 'unfaithful'
  /** The answer was courtesies only ("Is there anything else I can help you with?"). */
  | 'no_content'
  | 'no_documents'
  /** The knowledge base could not be searched, on a topic only a person should answer. */
  | 'no_retrieval';

export interface AnswerRecord {
  text: string;
  servedBy: string;
  /**
   * The language models asked, in order. Histories written before attempts had a `kind`
   * hold `{provider, ok, reason?, ms, firstTokenMs?}` with skipped links as
   * `reason: 'skipped: …'`; skipped links still carry that prefix.
   */
  attempts: ProviderAttempt[];
  refused?: RefusalReason;
  /**
   * The knowledge base could not be searched (every vector index away) and the topic is not
   * a sensitive one: a general line and an offer to call back were said instead.
   */
  degraded?: 'no_retrieval';
  /**
   * The words said are the retrieved passages' own sentences. `replaced`: why the model's
   * answer (still `servedBy`, its tokens billed) was not said; absent when the extractive
   * answer went first and no model was asked (`servedBy: 'extractive'`).
   */
  extractive?: { replaced?: RefusalReason };
  documentIds: string[];
  timings: { retrieveMs: number; firstSentenceMs?: number; totalMs: number };
  /** Tokens of the serving model, for the cost report. */
  usage?: LlmUsage;
  /** Characters of text already played on the call while it was generated (edge answers). */
  spokenChars?: number;
}

/** Tokens a provider bills for one answer. */
export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
  /** Counted from characters (≈ 4 a token): the provider did not report it, e.g. cut off. */
  estimated?: boolean;
}
