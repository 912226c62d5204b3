// A grounded answer to a knowledge-base question: retrieve → compose → LLM chain →
// sentences → checks → for the ear. Each sentence is checked before it is spoken
// (grounding, faithfulness, promises the agent cannot keep) and handed on at once, so the
// first one plays while the model is still writing the second. When the model's answer fails
// the grounding or faithfulness check before anything was said, the best passage sentences
// are said instead (the extractive answer), checked the same way. The caller's words,
// documents and CRM fields are data: nothing here can pay, write or change an account.
import { performance } from 'node:perf_hooks';
import type { AnswerRequest } from '../../providers/llm/port';
import type { KbTopic, ScoredChunk } from '../../providers/vectors/port';
import { KB_INTENTS, type KbIntentName } from '../../contracts/call';
import { checkCommitments, COMMITMENT_REFUSAL } from '../safety/commitments';
import { forTheEar } from '../safety/for-the-ear';
import { FaithfulnessIndex } from '../safety/faithfulness';
import { GroundingIndex, NOT_CONFIDENT } from '../safety/grounding';
import { checkPrivacy, PRIVACY_REFUSAL } from '../safety/privacy';
import { redactText } from '../safety/redact';
import { CALM_REPLY, checkTone } from '../safety/tone';
import type { AnswerInput, AnswerRecord, RefusalReason } from '../../contracts/answers';
import type { AnswerOptions, Answerer } from './answerer';
import type { FallbackLanguageModel, LlmAnswerResult } from '../../providers/llm/fallback';
import type { Embedder } from '../../providers/embeddings/port';
import { ExtractiveAnswerer } from './extractive';
import { MemoEmbedder } from './memo-embedder';
import { composePrompt } from './prompt';
import { sentences } from '../../providers/llm/sentence-chunker';

export interface AnswererDeps {
  retrieve(question: string, opts: { topic?: KbTopic; topK: number }): Promise<ScoredChunk[]>;
  chain: FallbackLanguageModel;
  /** Known plan names (from the knowledge base): a plan name not among them is invented. */
  planNames?: string[];
  /** Documents passed to the model. */
  topK?: number;
  /** Sentences spoken at most (an answer for the ear is short). */
  maxSentences?: number;
  /** Told when no vector index answered (the answer is then the no-retrieval line). */
  onRetrievalFailed?: (err: Error) => void;
  /**
   * Sentence embeddings for the faithfulness check and the extractive answer. Without it
   * (tests of the chain alone) neither runs: only figures are checked, as before.
   */
  embedder?: Embedder;
  /** Say the extractive answer first and ask the chain only when it has nothing to say. */
  extractiveFirst?: boolean;
}

/** A model answer refused for these reasons is replaced by the extractive answer. */
const EXTRACTIVE_REPLACES: ReadonlySet<RefusalReason> = new Set([
  'ungrounded',
  'unfaithful',
  'no_content',
]);

type Cut = { reason: RefusalReason; text: string };

/**
 * What is said when the knowledge base cannot be searched. Billing (disputes, fees, payments)
 * and policies are sensitive: a wrong general line could cost the caller, so a person answers.
 */
const NO_RETRIEVAL: Record<KbIntentName, { sensitive: boolean; text: string }> = {
  ask_billing: {
    sensitive: true,
    text: 'I cannot look up billing details right now. Let me connect you to an agent.',
  },
  ask_policy: {
    sensitive: true,
    text: 'I cannot look up our policies right now. Let me connect you to an agent.',
  },
  ask_plans: {
    sensitive: false,
    text:
      'I cannot look up plan details right now. Our plans are listed on our website, ' +
      'and if you call back a little later I can go through them with you.',
  },
  ask_outage: {
    sensitive: false,
    text:
      'I cannot check outage details right now. If your service is down, please call back ' +
      'in a little while and I can tell you more.',
  },
};

export function noRetrievalLine(intent: KbIntentName): { sensitive: boolean; text: string } {
  return NO_RETRIEVAL[intent];
}

/** The company's own name is never an invented plan. */
const COMPANY = 'Northwind Power & Telecom';

const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** The caller's own account as plain facts the grounding check accepts. */
function profileFacts(input: AnswerInput): string[] {
  const p = input.profile;
  if (!p) return [];
  return [`balance ${dollars(p.balanceCents)}`, ...(p.dueDate ? [`due date ${p.dueDate}`] : [])];
}

/** The same facts as sentences, for the faithfulness check (it compares sentences). */
function profileSentences(input: AnswerInput): string[] {
  const p = input.profile;
  if (!p) return [];
  return [
    `Your balance is ${dollars(p.balanceCents)}.`,
    ...(p.dueDate ? [`Your bill is due on ${p.dueDate}.`] : []),
  ];
}

export function createAnswerer(deps: AnswererDeps): Answerer {
  const maxSentences = deps.maxSentences ?? 2;
  const embedder = deps.embedder && new MemoEmbedder(deps.embedder);
  return {
    async answer(input: AnswerInput, opts: AnswerOptions = {}): Promise<AnswerRecord> {
      const started = performance.now();
      const since = () => Math.round(performance.now() - started);
      // Redacted at the edge already; again here, because this is what reaches the model.
      const question = redactText(input.question);
      let retrieved: ScoredChunk[] | undefined;
      try {
        retrieved = await deps.retrieve(question, {
          topic: KB_INTENTS[input.intent],
          topK: deps.topK ?? 4,
        });
      } catch (err) {
        deps.onRetrievalFailed?.(err as Error);
      }
      // Documents are untrusted too: a poisoned one must not carry a card number to the model.
      const documents = (retrieved ?? []).map((d) => ({
        ...d,
        title: redactText(d.title),
        text: redactText(d.text),
      }));
      const retrieveMs = since();
      const documentIds = documents.map((d) => d.id);
      const spoken: string[] = [];
      let firstSentenceMs: number | undefined;
      const say = async (sentence: string) => {
        spoken.push(sentence);
        firstSentenceMs ??= since();
        await opts.onSentence?.(sentence);
      };
      /** The record of what was said; `chain` absent when no model was asked (or it was cut off). */
      const record = (
        text: string,
        chain?: Pick<LlmAnswerResult, 'servedBy' | 'attempts' | 'usage'>,
        refused?: RefusalReason,
        extracted?: AnswerRecord['extractive'],
      ): AnswerRecord => ({
        text,
        // A replaced model answer was still generated (and billed): it stays the served one.
        servedBy: chain?.servedBy ?? (extracted ? 'extractive' : 'none'),
        attempts: chain?.attempts ?? [],
        ...(refused && { refused }),
        ...(extracted && { extractive: extracted }),
        ...(chain?.usage && { usage: chain.usage }),
        documentIds,
        timings: { retrieveMs, firstSentenceMs, totalMs: since() },
      });
      if (!retrieved) {
        // No index answered: nothing may be stated as fact. A sensitive topic goes to a person
        // (a refusal, which the call turns into a transfer); another gets a general line.
        const line = noRetrievalLine(input.intent);
        await say(line.text);
        return line.sensitive
          ? record(line.text, undefined, 'no_retrieval')
          : { ...record(line.text), degraded: 'no_retrieval' };
      }
      if (documents.length === 0) {
        await say(NOT_CONFIDENT);
        return record(NOT_CONFIDENT, undefined, 'no_documents');
      }

      const request: AnswerRequest = {
        question,
        intent: input.intent,
        documents,
        ...(input.customer && {
          profile: {
            name: input.customer.name,
            ...(input.profile && {
              balanceCents: input.profile.balanceCents,
              ...(input.profile.dueDate && { dueDate: input.profile.dueDate }),
            }),
          },
        }),
        recentTurns: input.recentTurns.map((t) => ({ ...t, text: redactText(t.text) })),
      };
      const passages = documents.map((d) => `${d.title}\n${d.text}`);
      const grounding = new GroundingIndex({
        documents: passages,
        facts: [...profileFacts(input), COMPANY],
        planNames: deps.planNames ?? [],
      });
      // Embedded while the model reads its prompt; a failure surfaces at the first check.
      const faithfulness = embedder
        ? FaithfulnessIndex.build(embedder, {
            documents: passages,
            facts: profileSentences(input),
          })
        : undefined;
      faithfulness?.catch(() => undefined);
      /** Every check a sentence passes before it is said; a courtesy claims nothing. */
      const check = async (sentence: string): Promise<{ cut?: Cut; courtesy: boolean }> => {
        if (!grounding.check(sentence).ok)
          return { cut: { reason: 'ungrounded', text: NOT_CONFIDENT }, courtesy: false };
        const faithful = await (await faithfulness)?.check(sentence);
        if (faithful && !faithful.ok)
          return { cut: { reason: 'unfaithful', text: NOT_CONFIDENT }, courtesy: false };
        const courtesy = faithful?.pleasantry ?? false;
        if (!checkCommitments(sentence).ok)
          return { cut: { reason: 'commitment', text: COMMITMENT_REFUSAL }, courtesy };
        if (!checkPrivacy(sentence, { callerName: input.customer?.name }).ok)
          return { cut: { reason: 'privacy', text: PRIVACY_REFUSAL }, courtesy };
        if (!checkTone(sentence).ok) return { cut: { reason: 'tone', text: CALM_REPLY }, courtesy };
        return { courtesy };
      };
      const sayForTheEar = async (sentence: string) => {
        const ear = forTheEar(sentence, {
          ...(spoken.length === 0 && input.customer && { name: input.customer.name }),
          turn: input.turnCount,
          properNouns: deps.planNames ?? [],
          maxSentences: 1,
        });
        if (ear) await say(ear);
      };
      /** The best passage sentences, each checked like a model's; false when none passed. */
      const sayExtractive = async (): Promise<boolean> => {
        if (!embedder) return false;
        // From the passages' text: a title or a heading is not an answer.
        const extractive = new ExtractiveAnswerer(embedder, { maxSentences });
        for (const sentence of await extractive.pick(question, documents)) {
          if (opts.signal?.aborted || spoken.length >= maxSentences) break;
          const verdict = await check(redactText(sentence));
          if (verdict.cut || verdict.courtesy) continue;
          await sayForTheEar(redactText(sentence));
        }
        return spoken.length > 0;
      };

      if (deps.extractiveFirst && (await sayExtractive())) {
        return record(spoken.join(' '), undefined, undefined, {});
      }
      if (opts.signal?.aborted) return record(spoken.join(' '));

      // Stops the model once enough is said, on a refusal, or when the caller barges in.
      const stop = new AbortController();
      const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
      const llm = deps.chain.answer(composePrompt(request), { signal, maxTokens: 160 });
      let cut: Cut | undefined;
      /** Courtesies are not refused but not said either: the call asks "anything else" itself. */
      let courtesies = 0;
      try {
        for await (const raw of sentences(llm)) {
          const sentence = redactText(raw);
          const verdict = await check(sentence);
          if (verdict.cut) {
            cut = verdict.cut;
            break;
          }
          if (verdict.courtesy) {
            courtesies += 1;
            continue;
          }
          await sayForTheEar(sentence);
          if (spoken.length >= maxSentences) break;
        }
      } catch (err) {
        // A barge-in or hang-up: what was said stands.
        if (opts.signal?.aborted) return record(spoken.join(' '));
        throw err;
      } finally {
        stop.abort();
      }
      if (opts.signal?.aborted) return record(spoken.join(' '));
      const chain = await llm.result;
      // Nothing grounded was said: the passages' own sentences, else refuse. Something was:
      // end the answer there.
      const refusal = spoken.length
        ? undefined
        : (cut ?? {
            reason: courtesies ? ('no_content' as const) : ('ungrounded' as const),
            text: NOT_CONFIDENT,
          });
      if (refusal && EXTRACTIVE_REPLACES.has(refusal.reason) && !deps.extractiveFirst) {
        if (await sayExtractive()) {
          return record(spoken.join(' '), chain, undefined, { replaced: refusal.reason });
        }
        if (opts.signal?.aborted) return record(spoken.join(' '), chain);
      }
      if (refusal) {
        await say(refusal.text);
        return record(refusal.text, chain, refusal.reason);
      }
      return record(spoken.join(' '), chain);
    },
  };
}
