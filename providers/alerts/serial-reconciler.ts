/**
 * Runs a watcher's reconciliation one at a time, in the order asked; a failed one is logged
 * and its work done by the next (what is sent is worked out afresh each time).
 */
export class SerialReconciler {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly once: () => Promise<void>,
    private readonly log: (line: string) => void,
  ) {}

  run(): Promise<void> {
    this.tail = this.tail
      .then(() => this.once())
      .catch((err: unknown) => {
        this.log(`alerts: ${err instanceof Error ? err.message : String(err)}; retrying`);
      });
    return this.tail;
  }
}
