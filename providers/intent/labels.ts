// The intents the model predicts, in a fixed order: the model file's rows follow it.
import type { IntentName } from '../../contracts/call';

export const INTENT_NAMES = [
  'check_balance',
  'pay_bill',
  'confirm_yes',
  'confirm_no',
  'talk_to_agent',
  'goodbye',
  'ask_billing',
  'ask_plans',
  'ask_outage',
  'ask_policy',
  'out_of_scope',
] as const satisfies readonly IntentName[];

// Fails to compile when workflows/definitions.ts gains an intent this list lacks.
type Missing = Exclude<IntentName, (typeof INTENT_NAMES)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

export const isIntentName = (s: string): s is IntentName =>
  (INTENT_NAMES as readonly string[]).includes(s);
