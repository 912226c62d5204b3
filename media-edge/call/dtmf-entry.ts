// Keypad keys → entries. Keys are collected until '#' or a pause, so a PIN, CVV or card
// number typed on the keypad arrives as one entry that can be masked before it leaves the
// edge: menu choices are one or two keys; anything longer could be a secret.
export const MAX_CLEAR_DIGITS = 2;

export type DtmfEntry = { digits: string } | { maskedLength: number };

export class DtmfCollector {
  private keys = '';
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly gapMs: number,
    private readonly onEntry: (entry: DtmfEntry) => void,
  ) {}

  push(key: string): void {
    clearTimeout(this.timer);
    if (key === '#') return this.flush();
    this.keys += key;
    this.timer = setTimeout(() => this.flush(), this.gapMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    const keys = this.keys;
    this.keys = '';
    if (!keys) return;
    this.onEntry(keys.length > MAX_CLEAR_DIGITS ? { maskedLength: keys.length } : { digits: keys });
  }

  /** Hang-up: keys still being typed are dropped, never sent. */
  dispose(): void {
    clearTimeout(this.timer);
    this.keys = '';
  }
}
