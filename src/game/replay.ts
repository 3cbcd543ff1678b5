// A replay is the attempt's action log folded through the pure session again:
// the log is the record, states are recomputed. The server uses the same fold
// to rebuild a room after a restart.

import type { Level } from "../level/load.js";
import { applyCommand, GameError, newSession, type Command, type Session, type SessionEvent } from "./session.js";

export interface LogEntry {
  /** The room's sequence number this command produced. */
  seq: number;
  /** Server time (ms since the epoch) when it was applied. */
  at: number;
  by: string;
  cmd: Command;
}

export interface Replayed {
  s: Session;
  events: SessionEvent[];
  /** The first entry the rules refused (the level changed since it was logged), or null. */
  failed: { entry: LogEntry; error: string } | null;
}

export function replayLog(level: Level, log: readonly LogEntry[], opts: { versus?: boolean } = {}): Replayed {
  let s = newSession(level, opts);
  const events: SessionEvent[] = [];
  for (const entry of log) {
    try {
      const r = applyCommand(level, s, entry.cmd, entry.at, entry.by);
      s = r.s;
      events.push(r.event);
    } catch (e) {
      if (e instanceof GameError) return { s, events, failed: { entry, error: `${e.code}: ${e.message}` } };
      throw e;
    }
  }
  return { s, events, failed: null };
}
