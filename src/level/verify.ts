// Checking a level against the explorer: the verdict and par it claims.

import { explore, type ExploreResult } from "../sim/explore.js";
import { formatSchedule } from "../sim/schedule.js";
import { compileLevel, knobSettings, type KnobSetting } from "./compile.js";
import type { Level } from "./load.js";

export interface VerifyRow {
  level: string;
  knobs: KnobSetting;
  /** "error": the setting could not be compiled or explored (the message is in problems). */
  verdict: ExploreResult["verdict"] | "error";
  expected: "safe" | "reachable";
  states: number;
  /** The shortest violating schedule in `run --schedule` syntax, or null. */
  schedule: string | null;
  /** Its length in steps, or null. */
  steps: number | null;
  /** The level's stored par (hunt and versus levels), or null. */
  par: number | null;
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
    return { level: level.id, knobs, verdict: "error", expected: "reachable", states: 0, schedule: null, steps: null, par, oracle: null, problems: [e instanceof Error ? e.message : String(e)] };
  }
}

function verifyOne(level: Level, knobs: KnobSetting, onProgress?: (states: number) => void): VerifyRow {
  const c = compileLevel(level, knobs);
  const r = explore(c.cfg, c.machine, { oracles: c.oracles, onProgress });
  const problems: string[] = [];
  const steps = r.schedule ? r.schedule.length : null;
  if (r.verdict === "incomplete") problems.push(`exploration stopped after ${r.states} states`);
  else if (r.verdict !== c.expect) problems.push(`verdict ${r.verdict}, but the level file expects ${c.expect}`);
  const par = level.mode === "hunt" || level.mode === "versus" ? (level.par ?? null) : null;
  if (par !== null && steps !== null && steps !== par) problems.push(`the shortest schedule takes ${steps} steps, but par is ${par}`);
  return {
    level: level.id,
    knobs,
    verdict: r.verdict,
    expected: c.expect,
    states: r.states,
    schedule: r.schedule ? formatSchedule(r.schedule) : null,
    steps,
    par,
    oracle: r.violation ? { id: r.violation.oracle, message: r.violation.message, step: r.violation.step } : null,
    problems,
  };
}

export function verifyLevel(level: Level, onProgress?: (setting: KnobSetting, states: number) => void): VerifyRow[] {
  return knobSettings(level).map((s) => verifySetting(level, s, onProgress ? (n) => onProgress(s, n) : undefined));
}
