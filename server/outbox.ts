// The outbox: what the server says waits for what it has stored.
//
// With a synchronous store (memory, SQLite) a write has committed when it
// returns, and every message goes out at once. An asynchronous store
// (PostgreSQL) commits later; its pending commit is a barrier here, and every
// message sent after the write (the ack, the update to the room, a snapshot
// that shows it, and every message after those, to anyone) waits behind it.
// Barriers settle in the order the writes were made, and messages leave in the
// order they were sent, so clients hear exactly what they would have heard from
// a synchronous store, only later: no ack and no broadcast runs ahead of
// durability, and nothing overtakes anything. A barrier that fails (the write
// could not be committed) stops the outbox: nothing waiting behind it is ever
// sent, and `failed` reports it once.

type Entry = { kind: "run"; fn: () => void } | { kind: "barrier"; p: Promise<void>; state: "pending" | "done" };

export class Outbox {
  private readonly queue: Entry[] = [];
  private last: Promise<void> | null = null;
  private stopped: Error | null = null;
  /** Messages that waited behind a barrier (tests, benchmarks). */
  held = 0;

  constructor(private readonly failed: (e: Error) => void = () => {}) {}

  /** Nothing is waiting: a message goes out at once. */
  get clear(): boolean {
    return this.queue.length === 0 && this.stopped === null;
  }

  /** Everything sent from now on waits until `p` settles (a write's commit). */
  hold(p: Promise<void>): void {
    if (this.stopped || p === this.last) return;
    this.last = p;
    const e: Entry = { kind: "barrier", p, state: "pending" };
    this.queue.push(e);
    p.then(
      () => {
        e.state = "done";
        this.pump();
      },
      (err: unknown) => this.stop(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Run `fn` (which sends) now if nothing waits, else after everything before it. */
  run(fn: () => void): void {
    if (this.stopped) return;
    if (this.queue.length === 0) return fn();
    this.held++;
    this.queue.push({ kind: "run", fn });
  }

  /** Resolves once nothing waits (or the outbox stopped). */
  async drained(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const b = this.queue.find((e): e is Extract<Entry, { kind: "barrier" }> => e.kind === "barrier" && e.state === "pending");
      if (!b) break;
      await b.p.catch(() => {});
    }
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.stopped) {
      const head = this.queue[0];
      if (head.kind === "barrier") {
        if (head.state === "pending") return;
        this.queue.shift();
        continue;
      }
      this.queue.shift();
      head.fn();
    }
    if (this.queue.length === 0) this.last = null;
  }

  private stop(e: Error): void {
    if (this.stopped) return;
    this.stopped = e;
    this.queue.length = 0;
    this.failed(e);
  }
}
