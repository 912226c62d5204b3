// The state machine's balance replies over seeded amounts and due dates, without their fixed
// tail ("Is there anything else…", a whole prompt either way): personal sentences for the
// speech benchmarks. The same seed gives the same sentences.
import { initialCallState, PROMPTS, step } from '../workflows/call-state';

export function balanceSentences(n: number, seed: number): string[] {
  const state = { ...initialCallState(), phase: 'idle' as const };
  const rnd = (m: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % m;
  return Array.from({ length: n }, () => {
    const cents = rnd(500_000);
    const dueDate = `2026-${String(1 + rnd(12)).padStart(2, '0')}-${String(1 + rnd(28)).padStart(2, '0')}`;
    const openInvoice = { invoiceId: 'inv', amountCents: cents, dueDate };
    const say = step(state, {
      kind: 'balance',
      purpose: 'report',
      balanceCents: cents,
      openInvoice,
    }).say!;
    return say.replace(` ${PROMPTS.anythingElse}`, '');
  });
}
