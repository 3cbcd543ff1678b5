// A replay is the attempt's action log folded through the pure session again:
// the log is the record, states are recomputed. The server uses the same fold
// to rebuild a room after a restart. Neither explores: the log carries the
// explorer's hint texts, and a finished attempt's stored result says what the
// defend proof was (factsOf), so a replay costs the steps and nothing more.

import type { Level } from "../level/load.js";
import type { Result } from "../protocol/server.js";
import { applyCommand, GameError, newSession, type Command, type Facts, type Session, type SessionEvent } from "./session.js";

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

/**
 * What an attempt's stored result says of its setting's defend proof: an unsafe fix
 * was broken by its counterexample; any other end did not need one broken. A
 * replay passes it on, so judging the last step again does not explore. An attempt
 * still in play (no result) needs none: its log does not reach the judge's proof.
 */
export function factsOf(result: Result | null): Facts {
  if (!result) return { proof: { verdict: "incomplete", counterexample: null } };
  return { proof: result.reason === "unsafe-fix" ? { verdict: "reachable", counterexample: result.counterexample } : { verdict: "safe", counterexample: null } };
}

export function replayLog(level: Level, log: readonly LogEntry[], opts: { versus?: boolean; facts?: Facts } = {}): Replayed {
  let s = newSession(level, { versus: opts.versus });
  const events: SessionEvent[] = [];
  for (const entry of log) {
    try {
      const r = applyCommand(level, s, entry.cmd, entry.at, entry.by, opts.facts);
      s = r.s;
      events.push(r.event);
    } catch (e) {
      if (e instanceof GameError) return { s, events, failed: { entry, error: `${e.code}: ${e.message}` } };
      throw e;
    }
  }
  return { s, events, failed: null };
}
