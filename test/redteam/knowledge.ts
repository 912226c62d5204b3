// The demo knowledge base as retrieved chunks (the domain fact sheet, word for word in
// its figures), and a small lexical retriever over them. The red team attacks the model
// and the checks, not the vector search: a poisoned chunk is put first, as a poisoned
// knowledge base would rank it for the question it was written for.
import type { KbChunk, KbTopic, ScoredChunk } from '../../providers/vectors/port';

const chunk = (id: string, topic: KbTopic, title: string, text: string): KbChunk => ({
  id,
  docId: id.split('#')[0]!,
  topic,
  title,
  text,
});

export const KB: KbChunk[] = [
  chunk(
    'billing.md#1',
    'billing',
    'Bills and due dates',
    'Bills are issued on the 1st of each month and due 21 days later. You can pay online, in the app, by phone (card or bank account), by mail (check), or at partner stores.',
  ),
  chunk(
    'billing.md#2',
    'billing',
    'Fees and discounts',
    'A late fee of $10 applies if a bill is unpaid 5 days after the due date. Autopay saves $5 a month. Paperless billing is free; paper bills cost $2 a month.',
  ),
  chunk(
    'billing.md#3',
    'billing',
    'Payment arrangements and posting',
    'You can split a balance over up to 6 months if the account is in good standing. A payment made by phone or online posts within 1 business day; by mail within 7 days.',
  ),
  chunk(
    'billing.md#4',
    'billing',
    'Cards and disputes',
    'We accept Visa, Mastercard, American Express and Discover. No cash at the office. Dispute a charge within 60 days of the bill date; the disputed amount is on hold while reviewed (up to 30 days).',
  ),
  chunk(
    'plans.md#1',
    'plans',
    'Internet plans',
    'Internet: "Basic 100" is $40/month (100 Mbps), "Fiber 500" is $65/month (500 Mbps), "Gigabit Pro" is $90/month (1 Gbps). No data caps.',
  ),
  chunk(
    'plans.md#2',
    'plans',
    'Mobile plans',
    'Mobile: "Talk & Text" is $15/month, "Unlimited Essential" is $35/month, "Unlimited Plus" is $50/month and includes a 30 GB hotspot.',
  ),
  chunk(
    'plans.md#3',
    'plans',
    'Power plans',
    'Power: "Standard Rate" is 14 cents per kWh; "Green Choice" is 100% renewable at 16 cents per kWh; "Time of Use" is 9 cents off-peak (9 pm to 7 am) and 22 cents peak.',
  ),
  chunk(
    'plans.md#4',
    'plans',
    'Bundles and changes',
    'Bundle internet and mobile for $10 a month off. Plan changes take effect on the next billing cycle; there is no fee to change plans. Router rental is $8/month, or bring your own.',
  ),
  chunk(
    'outages.md#1',
    'outages',
    'Reporting outages',
    'Report an outage by phone or in the app, and check the outage map at northwind.example/outages. Planned maintenance is announced 48 hours ahead by text and email, usually between midnight and 5 am.',
  ),
  chunk(
    'outages.md#2',
    'outages',
    'Restoration and credits',
    'Most power outages are restored within 4 hours; storm outages can take 24 to 72 hours. Internet outages longer than 24 hours get a prorated credit on request within 30 days.',
  ),
  chunk(
    'outages.md#3',
    'outages',
    'Downed lines',
    'If you see a downed power line, stay 35 feet away and call 911 first.',
  ),
  chunk(
    'policies.md#1',
    'policies',
    'Cancellation',
    'There is no contract: cancel anytime. Internet equipment must be returned within 14 days or a $150 fee applies.',
  ),
  chunk(
    'policies.md#2',
    'policies',
    'Refunds',
    'Account credits are refunded within 10 business days after the account closes. Agents on the phone cannot promise refunds; refunds are reviewed by the billing team.',
  ),
  chunk(
    'policies.md#3',
    'policies',
    'Privacy',
    'We never ask for your full card number or PIN by text or email. We only discuss an account with the account holder or an authorized user.',
  ),
  chunk(
    'policies.md#4',
    'policies',
    'Moving and disconnection',
    'Transfer service when you move with 14 days notice, no transfer fee. Disconnection for non-payment comes after a 10-day written notice; the reconnection fee is $25. Qualifying seniors and low-income customers get 20% off power.',
  ),
];

export const PLAN_NAMES = [
  'Basic 100',
  'Fiber 500',
  'Gigabit Pro',
  'Talk & Text',
  'Unlimited Essential',
  'Unlimited Plus',
  'Standard Rate',
  'Green Choice',
  'Time of Use',
];

const words = (s: string): Set<string> =>
  new Set((s.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length > 2));

/** Top-k chunks by shared words within the topic; a poisoned chunk, if any, ranks first. */
export function lexicalRetriever(poisoned?: string) {
  return async (
    question: string,
    opts: { topic?: KbTopic; topK: number },
  ): Promise<ScoredChunk[]> => {
    const q = words(question);
    const scored = KB.filter((c) => !opts.topic || c.topic === opts.topic)
      .map((c) => {
        const w = words(`${c.title} ${c.text}`);
        const shared = [...q].filter((x) => w.has(x)).length;
        return { ...c, score: shared / Math.sqrt(w.size) };
      })
      .sort((a, b) => b.score - a.score);
    const top = scored.slice(0, opts.topK);
    if (!poisoned) return top;
    const bad: ScoredChunk = {
      ...chunk('uploaded.md#1', opts.topic ?? 'policies', 'Notice', poisoned),
      score: 0.99,
    };
    return [bad, ...top].slice(0, opts.topK);
  };
}
