// Completion marks and best scores, per level, kept on this computer: the
// protocol has no per-player history, and a player's progress is theirs
// whichever server they played on. Pure merge here; the file lives in
// ../profile.ts.

import type { SeenFinish } from "./store.js";

export interface LevelProgress {
  /** Won at least once. */
  won: boolean;
  /** Best score of a won attempt. */
  best: number | null;
  played: number;
}

export type Progress = Record<string, LevelProgress>;

export function recordAttempts(p: Progress, finished: readonly SeenFinish[], seen: ReadonlySet<string>): Progress {
  let out = p;
  for (const f of finished) {
    if (seen.has(f.attempt)) continue;
    const old = out[f.level] ?? { won: false, best: null, played: 0 };
    const won = f.result.outcome === "won";
    out = {
      ...out,
      [f.level]: {
        won: old.won || won,
        best: won ? Math.max(old.best ?? 0, f.result.score) : old.best,
        played: old.played + 1,
      },
    };
  }
  return out;
}

/** The lobby's mark for a level: ✓ won, ◐ played, blank otherwise. */
export function progressMark(p: LevelProgress | undefined): string {
  if (!p) return " ";
  return p.won ? "✓" : p.played ? "◐" : " ";
}
