// How amounts and dates are said: one wording for the workflow's replies
// (workflows/call-state.ts) and for grounded answers rewritten for the ear
// (conversation/safety/for-the-ear.ts). Pure; imports nothing of ours.

export function spokenAmount(cents: number): string {
  const dollars = Math.floor(cents / 100);
  const rest = cents % 100;
  const d = `${dollars} ${dollars === 1 ? 'dollar' : 'dollars'}`;
  if (rest === 0) return d;
  const c = `${rest} ${rest === 1 ? 'cent' : 'cents'}`;
  return dollars === 0 ? c : `${d} and ${c}`;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** '2026-03-07' → 'March 7'. */
export function spokenDate(isoDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate);
  if (!m) return isoDate;
  return `${MONTHS[Number(m[2]) - 1] ?? m[2]} ${Number(m[3])}`;
}
