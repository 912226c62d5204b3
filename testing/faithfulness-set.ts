// The labelled set the faithfulness threshold is chosen on: a question, the knowledge-base
// articles retrieved for it (kb/<topic>/<name>.md, read as the index stores them), an answer
// sentence and whether the articles support it. Supported: paraphrases and near-quotes of
// the articles, and the caller's own account. Unsupported: fluent fluff about the agent or
// the company, wrong claims without figures ("Late fees are waived for all customers"),
// claims borrowed from another article, and off-topic sentences. Figures are kept right in
// the unsupported ones on purpose: the grounding check would catch wrong figures anyway.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_KB_FOLDER } from '../conversation/knowledge/local-index';

export interface FaithfulnessCase {
  question: string;
  /** kb/ articles, without `.md`. */
  articles: string[];
  /** The caller's account as the answerer states it, when the answer is personal. */
  facts?: string[];
  sentence: string;
  supported: boolean;
}

const LATE = 'billing/late-fees-and-arrangements';
const CYCLE = 'billing/billing-cycle';
const AUTOPAY = 'billing/autopay';
const DISPUTES = 'billing/disputes';
const POSTING = 'billing/payment-posting';
const PAY = 'billing/ways-to-pay';
const LINES = 'outages/downed-power-lines';
const CREDIT = 'outages/internet-outage-credit';
const MAINT = 'outages/planned-maintenance';
const RESTORE = 'outages/power-restoration';
const REPORT = 'outages/reporting-an-outage';
const BUNDLES = 'plans/bundles-and-plan-changes';
const EQUIP = 'plans/equipment';
const INTERNET = 'plans/internet-plans';
const MOBILE = 'plans/mobile-plans';
const RATES = 'plans/power-rates';
const CANCEL = 'policies/cancellation';
const DISCONNECT = 'policies/disconnection';
const MOVING = 'policies/moving';
const PRIVACY = 'policies/privacy-and-account-access';
const REFUNDS = 'policies/refunds';
const SENIOR = 'policies/senior-and-low-income-discounts';
const ACCOUNT = ['Your balance is $42.50.', 'Your bill is due on 2026-12-05.'];

const yes = (question: string, articles: string[], sentence: string): FaithfulnessCase => ({
  question,
  articles,
  sentence,
  supported: true,
});
const no = (question: string, articles: string[], sentence: string): FaithfulnessCase => ({
  question,
  articles,
  sentence,
  supported: false,
});

export const FAITHFULNESS_SET: readonly FaithfulnessCase[] = [
  // ---- supported: paraphrases and near-quotes
  yes(
    'what is the late fee',
    [LATE, CYCLE],
    'If your bill is still unpaid five days after the due date, a late fee of $10 is added.',
  ),
  yes(
    'what is the late fee',
    [LATE, CYCLE],
    'A $10 late fee is charged when the bill stays unpaid 5 days past its due date.',
  ),
  yes(
    'can i pay over time',
    [LATE, DISCONNECT],
    'You can ask for a payment arrangement and split your balance over up to 6 months.',
  ),
  yes(
    'can i pay over time',
    [LATE, DISCONNECT],
    'Payment arrangements are available when your account is in good standing.',
  ),
  yes('when is my bill due', [CYCLE, LATE], 'Your bill is due 21 days after it is issued.'),
  yes(
    'when do bills come out',
    [CYCLE],
    'Every bill is issued on the 1st of the month and covers all of your services.',
  ),
  yes(
    'do paper bills cost extra',
    [CYCLE],
    'Paper bills by mail cost $2 a month, while paperless billing is free.',
  ),
  yes(
    'is there an autopay discount',
    [AUTOPAY],
    'Customers on autopay get $5 a month off their bill.',
  ),
  yes(
    'how do i turn on autopay',
    [AUTOPAY],
    'You can turn on autopay online in your account, in the app, or by phone with an agent.',
  ),
  yes(
    'how do i dispute a charge',
    [DISPUTES],
    'You can dispute a charge within 60 days of the bill date, by phone or in the app.',
  ),
  yes(
    'do i pay a disputed charge',
    [DISPUTES],
    'While the dispute is reviewed, the disputed amount is on hold and you do not have to pay it.',
  ),
  yes(
    'when will my payment show',
    [POSTING],
    'A phone or online payment posts to your account within 1 business day.',
  ),
  yes(
    'when will my check post',
    [POSTING],
    'A check sent by mail posts within 7 days, so mail it well before the due date.',
  ),
  yes(
    'what cards do you take',
    [PAY],
    'We accept Visa, Mastercard, American Express and Discover.',
  ),
  yes(
    'can i pay cash at the office',
    [PAY],
    'We do not take cash at the office, but you can pay in person at a partner store.',
  ),
  yes(
    'there is a power line down',
    [LINES, REPORT],
    'Treat a downed line as live, stay 35 feet away, and call 911 first.',
  ),
  yes(
    'do i get a credit for an internet outage',
    [CREDIT],
    'If your internet is out for more than 24 hours, you can get a prorated credit on your bill.',
  ),
  yes(
    'do i get a credit for an internet outage',
    [CREDIT],
    'Ask for the credit within 30 days of the outage, by phone or in the app.',
  ),
  yes(
    'when is maintenance done',
    [MAINT],
    'Planned maintenance usually happens between midnight and 5 am.',
  ),
  yes(
    'will you warn me about maintenance',
    [MAINT],
    'We announce planned maintenance 48 hours ahead by text and email.',
  ),
  yes(
    'when will my power be back',
    [RESTORE],
    'We aim to restore most power outages within 4 hours.',
  ),
  yes(
    'when will my power be back',
    [RESTORE],
    'After a storm, outages can take 24 to 72 hours because crews must clear damage first.',
  ),
  yes(
    'how do i report an outage',
    [REPORT],
    'You can report an outage by phone or in the Northwind app.',
  ),
  yes(
    'is there a bundle discount',
    [BUNDLES],
    'With both internet and mobile service you get $10 a month off with the bundle.',
  ),
  yes(
    'can i change my plan',
    [BUNDLES],
    'There is no fee to change plans, and the change takes effect on your next billing cycle.',
  ),
  yes(
    'can i use my own router',
    [EQUIP],
    'You can bring your own router instead of renting one and skip the rental charge.',
  ),
  yes('how much is the fiber plan', [INTERNET], 'Fiber 500 gives you 500 Mbps for $65 a month.'),
  yes('do you have data caps', [INTERNET], 'None of our internet plans have data caps.'),
  yes(
    'which mobile plan has hotspot',
    [MOBILE],
    'Unlimited Plus includes 30 GB of hotspot for $50 a month.',
  ),
  yes(
    'what is time of use',
    [RATES],
    'With Time of Use, off-peak hours from 9 pm to 7 am cost 9 cents per kWh.',
  ),
  yes(
    'what is green choice',
    [RATES],
    'Green Choice is fully renewable electricity at 16 cents per kWh.',
  ),
  yes(
    'do you have a senior discount',
    [SENIOR, RATES],
    'Qualifying senior and low-income customers get 20% off their power.',
  ),
  yes(
    'how do i cancel',
    [CANCEL],
    'There is no contract, so you can cancel any service at any time with no cancellation fee.',
  ),
  yes(
    'how do i cancel',
    [CANCEL, EQUIP],
    'If you cancel internet, return the equipment within 14 days or a $150 fee applies.',
  ),
  yes(
    'will you cut me off',
    [DISCONNECT],
    'We only disconnect for non-payment after sending a 10-day written notice.',
  ),
  yes(
    'i am moving',
    [MOVING],
    'You can transfer your service to your new address with no transfer fee.',
  ),
  yes(
    'can my wife call about my account',
    [PRIVACY],
    'We can only discuss an account with the account holder or an authorized user.',
  ),
  yes(
    'can i get a refund',
    [REFUNDS],
    'Refunds are reviewed by the billing team, who will contact you with a decision.',
  ),
  yes('what do i owe', [CYCLE], 'Your balance is 42 dollars and 50 cents.'),
  yes('when is my bill due', [CYCLE, LATE], 'Your bill is due on December 5.'),

  // ---- unsupported: fluent fluff about the agent or the company
  no(
    'what is the late fee',
    [LATE, CYCLE],
    "I'm a trusted and reliable agent of Northwind Power and Telecom.",
  ),
  no(
    'why is my bill so high',
    [CYCLE, LATE],
    'Northwind is committed to giving every customer the best possible experience.',
  ),
  no(
    'when will my power be back',
    [RESTORE],
    'Our dedicated team is working around the clock to serve you better.',
  ),
  no(
    'how much is the fiber plan',
    [INTERNET],
    'We pride ourselves on offering the most competitive prices in the region.',
  ),
  no(
    'how do i dispute a charge',
    [DISPUTES],
    'Your satisfaction is our top priority and we value your business.',
  ),
  no('can i pay over time', [LATE], 'I completely understand how stressful bills can be.'),
  no(
    'do you have a senior discount',
    [SENIOR],
    'As an award-winning provider, we always look after our loyal customers.',
  ),
  no('what cards do you take', [PAY], 'I am here to make your experience smooth and easy.'),

  // ---- unsupported: wrong claims without figures
  no('what is the late fee', [LATE, CYCLE], 'Late fees are waived for all customers.'),
  no(
    'what is the late fee',
    [LATE, CYCLE],
    'There is never a late fee if you call us before the due date.',
  ),
  no('can i pay cash at the office', [PAY], 'You can pay cash at any Northwind office.'),
  no(
    'do you have data caps',
    [INTERNET],
    'Every internet plan has a monthly data cap and overage charges.',
  ),
  no(
    'do i pay a disputed charge',
    [DISPUTES],
    'You must pay the full disputed amount before we review it.',
  ),
  no(
    'how do i cancel',
    [CANCEL],
    'Cancelling early breaks your contract and costs an early termination fee.',
  ),
  no(
    'can i change my plan',
    [BUNDLES],
    'A plan change takes effect immediately and is charged a change fee.',
  ),
  no('will you cut me off', [DISCONNECT], 'We can disconnect your service without any notice.'),
  no(
    'can my wife call about my account',
    [PRIVACY],
    'Any family member can discuss your account with us.',
  ),
  no('can i get a refund', [REFUNDS], 'I have issued a refund to your card.'),
  no(
    'do i get a credit for an internet outage',
    [CREDIT],
    'Credits are applied automatically for every outage, however short.',
  ),
  no(
    'there is a power line down',
    [LINES, REPORT],
    'Report the downed line in the app and wait beside it for the crew.',
  ),
  no(
    'can i use my own router',
    [EQUIP],
    'Customers must rent the Northwind router; personal routers are not allowed.',
  ),
  no(
    'i am moving',
    [MOVING],
    'Moving your service requires a new credit check and an installation appointment.',
  ),
  no('is there an autopay discount', [AUTOPAY], 'Autopay can only be set up at one of our stores.'),

  // ---- unsupported: claims from another topic, and off-topic
  no(
    'when will my power be back',
    [RESTORE],
    'Fiber 500 is a good fit for busy households with several people streaming at once.',
  ),
  no('what is the late fee', [LATE], 'We accept Visa, Mastercard, American Express and Discover.'),
  no(
    'how much is the fiber plan',
    [INTERNET],
    'The weather this weekend should be sunny and warm.',
  ),
  no(
    'how do i report an outage',
    [REPORT],
    'Our headquarters moved to a new building downtown last year.',
  ),
  no('what is green choice', [RATES], 'Electric cars are becoming more popular every year.'),
  no('what do i owe', [CYCLE], 'Your account has been upgraded to premium status.'),
];

/** The articles' texts as the index stores them (title line and body). */
export function loadArticles(kbFolder = DEFAULT_KB_FOLDER): Map<string, string> {
  const names = new Set(FAITHFULNESS_SET.flatMap((c) => c.articles));
  return new Map(
    [...names].map((name) => [name, fs.readFileSync(path.join(kbFolder, `${name}.md`), 'utf8')]),
  );
}

export const caseFacts = (c: FaithfulnessCase): string[] =>
  c.facts ?? (/balance|owe|due/.test(c.question) ? ACCOUNT : []);
