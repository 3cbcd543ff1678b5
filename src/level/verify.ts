// Checking a level against the explorer: the verdict and the par it claims.

import { explore } from "../sim/explore.js";
import { runSchedule } from "../sim/runner.js";
import { fewestPreemptions } from "../sim/preempt.js";
import { formatSchedule } from "../sim/schedule.js";
import { solve, type Solved } from "../sim/solve.js";
import { compileLevel, knobSettings, type KnobSetting } from "./compile.js";
import type { Level } from "./load.js";

export interface VerifyRow {
  level: string;
  knobs: KnobSetting;
  /** "error": the setting could not be compiled or explored (the message is in problems). */
  verdict: Solved["verdict"] | "error";
  expected: "safe" | "reachable";
  /** States of the solved game (settled machines: local lines fused). */
  states: number;
  /**
   * A schedule that triggers the race in `run --schedule` syntax, or null: for a
   * hunt or versus level one with the fewest preemptions, else a shortest one.
   */
  schedule: string | null;
  /** Its length in steps, or null. */
  steps: number | null;
  /** The fewest preemptions of any triggering schedule (hunt and versus levels), or null. */
  preemptions: number | null;
  /** What the level file claims: par in preemptions, and the shortest schedule in steps. */
  parPreemptions: number | null;
  par: number | null;
  /** The shortest triggering schedule in steps, when the file claims one (par). */
  shortest: number | null;
  oracle: { id: string; message: string; step: number } | null;
  /** Empty when the level file's claims hold. */
  problems: string[];
}

export function verifySetting(level: Level, knobs: KnobSetting, onProgress?: (states: number) => void): VerifyRow {
  try {
    return verifyOne(level, knobs, onProgress);
  } catch (e) {
    // One failing setting is a row of its own; the caller goes on with the others.
    const par = level.mode === "hunt" || level.mode === "versus" ? (level.par ?? null) : null;
    return { ...errorRow(level.id, knobs, e instanceof Error ? e.message : String(e)), par };
  }
}

/** A setting's figures as `verify --json` and `lint --json` print them. */
export function settingJson(r: VerifyRow) {
  return {
    knobs: r.knobs,
    verdict: r.verdict,
    expected: r.expected,
    states: r.states,
    schedule: r.schedule,
    steps: r.steps,
    preemptions: r.preemptions,
    parPreemptions: r.parPreemptions,
    par: r.par,
    shortest: r.shortest,
  };
}

/** A setting (or a level file) that could not be compiled or explored: a row of its own. */
export function errorRow(level: string, knobs: KnobSetting, message: string): VerifyRow {
  return { level, knobs, verdict: "error", expected: "reachable", states: 0, schedule: null, steps: null, preemptions: null, parPreemptions: null, par: null, shortest: null, oracle: null, problems: [message] };
}

function verifyOne(level: Level, knobs: KnobSetting, onProgress?: (states: number) => void): VerifyRow {
  const c = compileLevel(level, knobs);
  const s = solve(c.cfg, c.machine, { oracles: c.oracles, onProgress });
  const problems: string[] = [];
  if (s.verdict === "incomplete") problems.push(`exploration stopped after ${s.states} states`);
  else if (s.verdict !== c.expect) problems.push(`verdict ${s.verdict}, but the level file expects ${c.expect}`);
  const hunt = level.mode === "hunt" || level.mode === "versus";
  const fewest = hunt && !s.cycle ? fewestPreemptions(s, c.cfg.cpus.length) : null;
  const parPreemptions = hunt ? (level.preemptions ?? null) : null;
  if (fewest && parPreemptions !== null && fewest.preemptions !== parPreemptions) {
    problems.push(`the fewest preemptions of a triggering schedule is ${fewest.preemptions}, but the file's preemptions (par) is ${parPreemptions}`);
  }
  // The shortest schedule in steps, line by line: every interleaving of every line, as the file's `par` means it.
  const par = hunt ? (level.par ?? null) : null;
  let shortest: number | null = null;
  if (par !== null && s.verdict === "reachable") {
    shortest = explore(c.cfg, c.machine, { oracles: c.oracles, reduce: false }).schedule?.length ?? null;
    if (shortest !== null && shortest !== par) problems.push(`the shortest schedule takes ${shortest} steps, but par (steps) is ${par}`);
  }
  const schedule = fewest?.schedule ?? s.schedule;
  // The race the reported schedule triggers (the fewest-preemption road may end at another goal oracle).
  const v = fewest ? runSchedule(c.cfg, c.machine, fewest.schedule, c.oracles).violation : s.violation;
  return {
    level: level.id,
    knobs,
    verdict: s.verdict,
    expected: c.expect,
    states: s.states,
    schedule: schedule ? formatSchedule(schedule) : null,
    steps: schedule ? schedule.length : null,
    preemptions: fewest?.preemptions ?? null,
    parPreemptions,
    par,
    shortest,
    oracle: v ? { id: v.oracle, message: v.message, step: v.step } : null,
    problems,
  };
}

/** Every knob setting of a level, verified (a failing setting is an error row). */
export function verifyLevel(level: Level): VerifyRow[] {
  return knobSettings(level).map((k) => verifySetting(level, k));
}
