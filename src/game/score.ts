// Scoring, in one place so the docs, the server and the tests agree.
// Hunt: a win scores against par, the fewest preemptions of any schedule that
// triggers the race (decisions, not key presses or lines); defend: a win is a
// fix that holds, minus the help taken. A loss scores nothing.

export const SCORING = {
  base: 1000,
  /** Hunt and versus: per preemption beyond par. */
  perPreemptionOverPar: 100,
  perHint: 100,
  perRewind: 25,
  perReset: 50,
  /** Defend: the chosen fix's own cost (a knob option's `cost`) is taken off as well. */
  /** A win never scores below this. */
  winFloor: 100,
} as const;

export interface ScoreInput {
  mode: "hunt" | "defend" | "versus";
  won: boolean;
  preemptions: number;
  parPreemptions: number | null;
  hintsUsed: number;
  rewinds: number;
  resets: number;
  /** Defend: the summed `cost` of the chosen knob options. */
  fixCost?: number;
}

export function score(s: ScoreInput): number {
  if (!s.won) return 0;
  const over = s.mode !== "defend" && s.parPreemptions !== null ? Math.max(0, s.preemptions - s.parPreemptions) : 0;
  const raw =
    SCORING.base - SCORING.perPreemptionOverPar * over - SCORING.perHint * s.hintsUsed - SCORING.perRewind * s.rewinds - SCORING.perReset * s.resets - (s.fixCost ?? 0);
  return Math.max(SCORING.winFloor, raw);
}
