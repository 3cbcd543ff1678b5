// The export row both storage implementations build from the same facts.

import type { Result } from "../../src/protocol/server.js";
import type { AttemptRecord, ResultRow, RoomRecord } from "./port.js";

export function resultRow(room: RoomRecord, a: AttemptRecord, knobs: Record<string, string>, r: Result, endedAt: number, players: string[]): ResultRow {
  return {
    workshop: room.workshop ?? "",
    room: room.code,
    team: room.team,
    attempt: a.id,
    level: a.level,
    knobs: Object.entries(knobs)
      .map(([k, v]) => `${k}=${v}`)
      .join(" "),
    // A versus attempt is won by a side: say which.
    outcome: r.winner ? `${r.winner} won` : r.outcome,
    reason: r.reason,
    steps: r.steps,
    par: r.par,
    hints: r.hintsUsed,
    hintsReleased: r.hintsReleased ?? 0,
    rewinds: r.rewinds,
    resets: r.resets,
    durationMs: r.durationMs,
    score: r.score,
    players: players.join("; "),
    startedAt: new Date(a.startedAt).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
  };
}
