// Replaying a schedule with the oracles watching: what `faultline run`, the
// server's rooms and the tests share.

import type { Config } from "./config.js";
import { describeChanges } from "./describe.js";
import { actorKey, enabledActions, SimError, step, type StepEvent } from "./engine.js";
import { decisionAhead, MAX_RUN } from "./decide.js";
import { checkOracles, watchedOracles, type OracleId, type Violation } from "./oracles.js";
import type { ScheduleItem } from "./schedule.js";
import { hashMachine } from "./state.js";
import type { Action, Machine } from "./types.js";

export interface RunStep {
  /** 1-based step number. */
  step: number;
  action: Action;
  ev: StepEvent;
  changes: string[];
}

export interface RunResult {
  steps: RunStep[];
  violation: (Violation & { step: number }) | null;
  m: Machine;
}

export class RunError extends Error {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
  }
}

/**
 * The livelock test for a machine `m` that is back in the state it had after
 * step k: a CPU with finite work is unfinished, and every runnable actor
 * ("0", "1", ..., "dma") stepped after step k (`lastStepped` gives its latest
 * step, 0 if none). Returns the violation's message, or null.
 */
export function livelockSince(cfg: Config, m: Machine, k: number, lastStepped: (actor: string) => number): string | null {
  const runnable = enabledActions(cfg, m).map(actorKey);
  const starving = m.cpus.some((c, i) => !c.done && !cfg.cpus[i].loop);
  if (!starving || runnable.length === 0 || !runnable.every((x) => lastStepped(x) > k)) return null;
  return `livelock: the machine is back in the state it had after step ${k}, every runnable CPU stepped in between, and nothing finished`;
}

/**
 * Apply `items` in order, checking `oracles` after every step; stop at the
 * first violation. A run item steps its CPU line by line until the next
 * decision (src/sim/decide.ts), as the game's Enter key does. A step the
 * machine refuses raises RunError naming it. Livelock is recognised when the
 * machine returns to an earlier state after every runnable actor has stepped
 * since then.
 */
export function runSchedule(cfg: Config, m0: Machine, items: readonly ScheduleItem[], oracles: readonly OracleId[]): RunResult {
  const goal = watchedOracles(oracles);
  const watchLivelock = oracles.includes("livelock");
  const seen = new Map<string, number>();
  const lastStepped = new Map<string, number>();
  let m = m0;
  if (watchLivelock) seen.set(hashMachine(m), 0);
  const steps: RunStep[] = [];
  const v0 = checkOracles(cfg, m, goal);
  if (v0) return { steps, violation: { ...v0, step: 0 }, m };
  let i = 0;
  /** One step; the violation it caused, if any. */
  const one = (a: Action): (Violation & { step: number }) | null => {
    let r;
    try {
      r = step(cfg, m, a);
    } catch (e) {
      if (e instanceof SimError) throw new RunError(`step ${i + 1}: ${e.message}`, i + 1);
      throw e;
    }
    i++;
    steps.push({ step: i, action: a, ev: r.ev, changes: describeChanges(cfg, m, r.m) });
    m = r.m;
    const v = checkOracles(cfg, m, goal);
    if (v) return { ...v, step: i };
    if (watchLivelock) {
      const actor = actorKey(a);
      lastStepped.set(actor, i);
      const h = hashMachine(m);
      const k = seen.get(h);
      if (k !== undefined && k < i) {
        const message = livelockSince(cfg, m, k, (x) => lastStepped.get(x) ?? 0);
        if (message) return { oracle: "livelock", message, step: i };
      }
      seen.set(h, i);
    }
    return null;
  };
  for (const item of items) {
    if (!("run" in item)) {
      const v = one(item);
      if (v) return { steps, violation: v, m };
      continue;
    }
    const cpu = item.run;
    let a: Action = item.choice === undefined ? { cpu } : { cpu, choice: item.choice };
    for (let n = 1; ; n++) {
      const v = one(a);
      if (v) return { steps, violation: v, m };
      if (steps[steps.length - 1].ev.blocked || n >= MAX_RUN || decisionAhead(cfg, m, cpu)) break;
      a = { cpu };
    }
  }
  return { steps, violation: null, m };
}
