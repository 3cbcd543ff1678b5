// The server's log: one line per event, structured (level, event, then
// key=value fields and a message), and rate-limited per key, so that a client
// sending a thousand bad frames, or a disk that refuses every write, costs the
// operator one line per interval (with a count of what was held back) instead
// of a thousand stack traces.
//
//   warn storage-fault room=3JGBQD: attempt to write a readonly database (12 more in the last 60 s)

export type Level = "info" | "warn" | "error";

export interface LogFields {
  room?: string;
  address?: string;
  [key: string]: string | number | undefined;
}

/** How long a rate-limited key stays quiet after a line (default for `limited`). */
export const LOG_INTERVAL_MS = 60_000;

export class ServerLog {
  /** key -> [when its last line was written, lines held back since]. */
  private readonly quiet = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly sink: (line: string) => void,
    private readonly now: () => number,
    private readonly intervalMs = LOG_INTERVAL_MS,
  ) {}

  /** Always written. */
  line(level: Level, event: string, message: string, fields: LogFields = {}): void {
    this.sink(format(level, event, message, fields));
  }

  /**
   * Written at most once per interval per `key` (default: the event and its room); the next
   * line written for the key says how many were held back. Returns whether it was written.
   */
  limited(level: Level, event: string, message: string, fields: LogFields = {}, key = `${event}|${fields.room ?? ""}|${fields.address ?? ""}`): boolean {
    const t = this.now();
    const q = this.quiet.get(key);
    if (q && t - q.at < this.intervalMs) {
      q.held++;
      return false;
    }
    const held = q?.held ?? 0;
    if (this.quiet.size >= 10_000) this.prune(t);
    this.quiet.set(key, { at: t, held: 0 });
    this.sink(format(level, event, held > 0 ? `${message} (${held} more like it since the last line)` : message, fields));
    return true;
  }

  private prune(t: number): void {
    for (const [k, q] of this.quiet) if (t - q.at >= this.intervalMs) this.quiet.delete(k);
    // Still full (a flood of distinct keys): forget the oldest half.
    if (this.quiet.size >= 10_000) for (const k of [...this.quiet.keys()].slice(0, 5_000)) this.quiet.delete(k);
  }
}

function format(level: Level, event: string, message: string, fields: LogFields): string {
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v).replace(/\s+/g, "_").slice(0, 80)}`);
  return `${level} ${event}${kv.length ? " " + kv.join(" ") : ""}: ${oneLine(message)}`;
}

/** A message on one line, bounded (a stack trace is not a log line). */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " | ").slice(0, 500);
}
