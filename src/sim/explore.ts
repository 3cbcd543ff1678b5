// Exhaustive, breadth-first exploration of every interleaving and menu choice,
// stopping at the first goal state: a level's verdict and a shortest road to
// its race. It is the solved game (solve.ts) asked for less: the same graph,
// the same reductions, the same settled states.
//
// Breadth-first order means the first violating state found is at minimal
// depth in moves (a move is a shared line and the local lines fused after it),
// so its schedule is a shortest road in moves.

import type { Config } from "./config.js";
import type { OracleId, Violation } from "./oracles.js";
import { solve } from "./solve.js";
import type { Action, Machine } from "./types.js";

export interface ExploreOptions {
  /** The goal: a violation of any of these makes the verdict "reachable". */
  oracles: readonly OracleId[];
  /** Oracles that end a run without meeting the goal (default: deadlock, unless it is the goal). */
  stopOn?: readonly OracleId[];
  /** Give up after this many states (verdict "incomplete"). */
  maxStates?: number;
  /** Called every 10,000 states. */
  onProgress?: (states: number) => void;
  /** Fuse local steps (default true); false explores every interleaving of every line. */
  reduce?: boolean;
}

export interface ExploreResult {
  verdict: "reachable" | "safe" | "incomplete";
  /** Distinct states visited. */
  states: number;
  transitions: number;
  /** The shortest violating schedule (reachable), line by line, else null. */
  schedule: Action[] | null;
  /** For a livelock: the part of `schedule` that repeats forever. */
  cycle?: Action[];
  violation: (Violation & { step: number }) | null;
}

export function explore(cfg: Config, m0: Machine, opts: ExploreOptions): ExploreResult {
  const r = solve(cfg, m0, { ...opts, stopAtFirst: true });
  return {
    verdict: r.verdict,
    states: r.states,
    transitions: r.transitions,
    schedule: r.schedule,
    ...(r.cycle ? { cycle: r.cycle } : {}),
    violation: r.violation,
  };
}
