// Refuses answers that promise or claim an action the agent cannot take. The LLM
// never causes a side effect: only deterministic flows pay, and
// nothing on this path refunds, credits, waives or changes an account, so a
// sentence saying it did — or will — is false and must not be spoken.
// Policy statements ("credits are refunded within 10 business days after the account
// closes", "I can't promise a refund") pass.

export type CommitmentKind =
  'refund' | 'credit' | 'fee_waiver' | 'payment' | 'account_change' | 'guarantee';

export type CommitmentCheck =
  { ok: true } | { ok: false; kind: CommitmentKind; phrase: string; reason: string };

/** Said instead of an answer that promised an action. */
export const COMMITMENT_REFUSAL =
  "I can't make that change on this call, but an agent can help. Let me connect you to an agent.";

interface Verb {
  kind: CommitmentKind;
  base: string; // after will / can / let me
  done: string; // after have / has been
}

// Each verb in its base and past-participle form (regex fragments).
const VERBS: Verb[] = [
  { kind: 'refund', base: 'refund|reimburse|compensate', done: 'refunded|reimbursed|compensated' },
  {
    kind: 'credit',
    base: 'credit|(?:add|apply|put|give you|issue) (?:a|an|the)? ?(?:\\$?\\d[\\d.,]* ?(?:dollars? )?)?(?:account )?(?:credit|discount|refund)',
    done: 'credited|(?:added|applied|put|given you|issued) (?:a|an|the)? ?(?:\\$?\\d[\\d.,]* ?(?:dollars? )?)?(?:account )?(?:credit|discount|refund)',
  },
  {
    kind: 'fee_waiver',
    base: 'waive|remove (?:the|that|your)(?: late)? (?:fee|charge)|reverse|drop (?:the|that)(?: late)? (?:fee|charge)',
    done: 'waived|removed (?:the|that|your)(?: late)? (?:fee|charge)|reversed|dropped (?:the|that)(?: late)? (?:fee|charge)',
  },
  {
    kind: 'payment',
    base: 'pay|process (?:the|your|a) payment|make (?:the|a|your) payment|charge (?:your|the) card|take care of (?:the|your) (?:bill|payment|balance)|mark (?:the|your) bill (?:as )?paid',
    done: 'paid|processed (?:the|your|a) payment|made (?:the|a|your) payment|charged (?:your|the) card|taken care of (?:the|your) (?:bill|payment|balance)|marked (?:the|your) bill (?:as )?paid',
  },
  {
    kind: 'account_change',
    base: 'cancel|close (?:your|the) account|change your (?:plan|service|account|address|due date)|update your (?:plan|account|address|card|billing)|upgrade|downgrade|switch you|sign you up|enroll you|set up (?:autopay|a payment arrangement|your)|disconnect|reconnect|extend (?:your|the) due date|apply (?:the|a) discount',
    done: 'cancell?ed|closed (?:your|the) account|changed your (?:plan|service|account|address|due date)|updated your (?:plan|account|address|card|billing)|upgraded|downgraded|switched you|signed you up|enrolled you|set up (?:autopay|a payment arrangement|your)|disconnected|reconnected|extended (?:your|the) due date|applied (?:the|a) discount',
  },
];

// "I will", "I'll", "we can", "let me", "I am going to", "I'd be happy to", with
// harmless adverbs; negations ("can't", "will not") do not match.
const SUBJECT = '(?:i|we)';
const ADVERB =
  '(?:(?:also|just|now|gladly|happily|certainly|definitely|quickly|go ahead and|be (?:happy|glad) to|personally)\\s+)*';
const FUTURE = `\\b(?:${SUBJECT}(?:'ll|\\s+will|\\s+can|\\s+could|'d be (?:happy|glad) to|\\s+am going to|'m going to|\\s+are going to|'re going to|\\s+shall)|let me|allow me to)\\s+${ADVERB}`;
const PERFECT = `\\b(?:${SUBJECT}(?:'ve|\\s+have|\\s+just|\\s+already)?)\\s+(?:(?:just|already|now|also|successfully)\\s+)*(?:gone ahead and\\s+|went ahead and\\s+)?`;

// Passive statements of a done or promised action on this caller's account.
const PASSIVE: { kind: CommitmentKind; re: RegExp }[] = [
  {
    kind: 'payment',
    re: /\byour (?:payment|bill|balance)(?: of [^.]*?)? (?:has been|was|is now|will be) (?:paid|processed|made|submitted|taken care of|settled)\b/i,
  },
  {
    kind: 'fee_waiver',
    re: /\b(?:the|that|your)(?: late| reconnection| equipment| cancellation)? (?:fee|charge)s? (?:has been|have been|was|were|is|are|will be) (?:waived|removed|reversed|refunded|credited|dropped)\b/i,
  },
  {
    kind: 'refund',
    re: /\b(?:a|the|your)(?: full)? refund (?:of [^.]*? )?(?:has been|was|is being|will be) (?:issued|processed|sent|approved|applied|on its way)\b/i,
  },
  {
    kind: 'credit',
    re: /\b(?:a|the|your)(?: prorated)? credit (?:of [^.]*? )?(?:has been|was|is being) (?:issued|processed|applied|added|posted)\b/i,
  },
  {
    kind: 'account_change',
    re: /\byour (?:account|plan|service|autopay|address)(?: has been| was| is now| will be) (?:cancell?ed|closed|changed|upgraded|downgraded|updated|switched|disconnected|reconnected|set up)\b/i,
  },
  {
    kind: 'refund',
    re: /\byou(?:'ll| will)(?: also)? (?:get|receive|be getting|see)(?: a| your| the)(?: full)? refund(?: of\b| for\b| today| now| right away| shortly)/i,
  },
  {
    kind: 'credit',
    re: /\byou(?:'ll| will)(?: also)? (?:get|receive|be getting|see)(?: a| an| your| the)(?: account)? credit(?: of\b| for \$| today| now| right away| shortly)/i,
  },
  { kind: 'refund', re: /\byou(?:'ll| will)(?: also)? be (?:refunded|reimbursed)\b/i },
  { kind: 'credit', re: /\byou(?:'ll| will)(?: also)? be credited\b/i },
  {
    kind: 'fee_waiver',
    re: /\byou (?:won't|will not) be charged (?:the|a|any|that)(?: late| reconnection| equipment)? fee\b/i,
  },
  { kind: 'guarantee', re: /\b(?:i|we) (?:promise|guarantee)\b/i },
];

const REASONS: Record<CommitmentKind, string> = {
  refund: 'promises a refund; refunds are reviewed by the billing team',
  credit: 'promises an account credit the agent cannot issue',
  fee_waiver: 'promises to waive or remove a fee',
  payment: 'claims or promises a payment; only the payment flow pays',
  account_change: 'claims or promises an account change the agent cannot make',
  guarantee: 'makes a promise on the company’s behalf',
};

const PATTERNS: { kind: CommitmentKind; re: RegExp }[] = [
  ...VERBS.flatMap((v) => [
    { kind: v.kind, re: new RegExp(`${FUTURE}(?:${v.base})\\b`, 'i') },
    { kind: v.kind, re: new RegExp(`${PERFECT}(?:${v.done})\\b`, 'i') },
  ]),
  ...PASSIVE,
];

/** Normalises typographic apostrophes so "I’ll" matches like "I'll". */
const plain = (text: string): string => text.replace(/[’‘]/g, "'").replace(/\s+/g, ' ');

export function checkCommitments(text: string): CommitmentCheck {
  const t = plain(text);
  for (const p of PATTERNS) {
    const m = p.re.exec(t);
    if (m) return { ok: false, kind: p.kind, phrase: m[0].trim(), reason: REASONS[p.kind] };
  }
  return { ok: true };
}
