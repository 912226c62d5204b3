// A small, honest keyword classifier: fixed phrase patterns per intent, confidence from
// how specific the match is and whether intents compete. The embedding model
// (embedding.ts) replaced it as the default behind the same IntentClassifier port.
import type { Intent, IntentName } from '../../contracts/call';
import type { IntentClassifier } from './port';

type Rule = { intent: Exclude<IntentName, 'out_of_scope'>; strong: RegExp[]; weak: RegExp[] };

const RULES: Rule[] = [
  {
    intent: 'pay_bill',
    strong: [
      /\bpay\b.*\b(bill|balance|invoice|it|now)\b/,
      /\bmake (a )?payment\b/,
      /\bpay (off|down)\b/,
    ],
    weak: [/\bpay(ment|ing)?\b/, /\bsettle\b/],
  },
  {
    intent: 'check_balance',
    strong: [
      /\b(what|how much)\b.*\b(balance|owe|bill|due)\b/,
      /\b(check|know|tell me)\b.*\bbalance\b/,
    ],
    weak: [/\bmy balance\b/, /\bbalance\b/, /\bowe\b/, /\bhow much\b/, /\bamount due\b/],
  },
  {
    intent: 'talk_to_agent',
    strong: [
      /\b(speak|talk)\b.*\b(agent|person|human|someone|representative|operator)\b/,
      /\b(real|live) (person|agent|human)\b/,
    ],
    weak: [/\b(agent|human|representative|operator)\b/],
  },
  {
    intent: 'goodbye',
    strong: [/\b(good ?bye|bye|that's all|that is all|nothing else|no,? that's it|hang up)\b/],
    weak: [/\bthanks?,? (that's|that is) it\b/, /\bno thanks?\b/],
  },
  {
    intent: 'confirm_yes',
    strong: [/^(yes|yeah|yep|yup|sure|correct|confirm|please do|go ahead|okay|ok)\b/],
    weak: [/\b(yes|yeah|please do|go ahead|do it)\b/],
  },
  {
    intent: 'confirm_no',
    strong: [/^(no|nope|nah|don't|do not|cancel|not now)\b/],
    weak: [/\b(don't|do not|cancel|not now)\b/],
  },
];

export class RulesIntentClassifier implements IntentClassifier {
  readonly name = 'rules';

  async classify(text: string): Promise<Intent> {
    const t = text
      .toLowerCase()
      .replace(/[^a-z0-9' ,]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    const scored = RULES.map((r) => ({
      intent: r.intent,
      score: r.strong.some((re) => re.test(t)) ? 0.9 : r.weak.some((re) => re.test(t)) ? 0.7 : 0,
    }))
      // An answer that starts with yes/no is an answer, whatever follows it.
      .map((s) => (s.score === 0.9 && /^confirm_/.test(s.intent) ? { ...s, score: 0.95 } : s))
      .filter((s) => s.score > 0)
      .sort((a, b) => b.score - a.score);
    // "no, that's all" is a goodbye, not a refusal.
    const bye = scored.find((x) => x.intent === 'goodbye');
    if (bye && scored.some((x) => x.intent === 'confirm_no'))
      return { name: 'goodbye', confidence: bye.score };
    const [best, second] = scored;
    if (!best) {
      // Something said with no known request is out of scope; a fragment is a mishearing.
      const words = t.split(' ').filter(Boolean).length;
      return { name: 'out_of_scope', confidence: words >= 3 ? 0.6 : 0.3 };
    }
    if (second) {
      // Competing matches lower the confidence; two equally strong ones fall below the gate.
      const confidence = Math.max(0.3, best.score - second.score / 2);
      return { name: best.intent, confidence: Math.round(confidence * 100) / 100 };
    }
    return { name: best.intent, confidence: best.score };
  }
}
