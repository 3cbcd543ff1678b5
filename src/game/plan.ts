// Plans: a schedule proposed to the room, played one item at a time. A plan
// always starts at the level's start (the knob setting it was made for), so
// the preview is the attempt it makes, computed by the same session code that
// plays the room, and where the room stands is a comparison of its trace with
// the preview. Each item is played as an ordinary step or run by whoever
// presses, and checked like one.

import type { Level } from "../level/load.js";
import type { Plan } from "../protocol/server.js";
import { formatSchedule, parseScheduleItems, ScheduleError, type ScheduleItem } from "../sim/schedule.js";
import { traceSchedule } from "./share.js";
import type { Action } from "../sim/types.js";
import { applyCommand, GameError, newSession, type Command, type Facts, type Session } from "./session.js";

/** Items one plan may hold (one press each), and lines its preview may run. */
export const MAX_PLAN_ITEMS = 200;
export const MAX_PLAN_LINES = 1000;

// A preview judges a defend level by its file's claim: it must never start the explorer on the caller's thread.
const NO_PROOF: Facts = { proof: { verdict: "incomplete", counterexample: null } };


function commandOf(x: ScheduleItem): Command {
  if ("run" in x) return x.choice === undefined ? { kind: "run", actor: x.run } : { kind: "run", actor: x.run, choice: x.choice };
  if ("dma" in x) return { kind: "step", actor: "dma" };
  return x.choice === undefined ? { kind: "step", actor: x.cpu } : { kind: "step", actor: x.cpu, choice: x.choice };
}

/** The session at the level's start with this knob setting (a plan's starting point). */
function startOf(level: Level, knobs: Record<string, string>, versus: boolean): Session {
  let s = newSession(level, { versus });
  for (const [knob, value] of Object.entries(knobs)) {
    if (s.knobs[knob] !== value) s = applyCommand(level, s, { kind: "knob", knob, value }, 0, "plan").s;
  }
  return s;
}

/**
 * A plan from a schedule: every item played from the level's start, as the room
 * would play it. Refused (bad-plan) when it does not parse, names an actor the
 * level lacks, has a step the rules refuse, or goes on after the attempt ends.
 */
export function makePlan(level: Level, knobs: Record<string, string>, versus: boolean, schedule: string, by: { id: string; name: string }): Plan {
  let parsed: ScheduleItem[];
  try {
    parsed = parseScheduleItems(schedule);
  } catch (e) {
    throw new GameError("bad-plan", e instanceof ScheduleError ? e.message : String(e));
  }
  if (parsed.length === 0) throw new GameError("bad-plan", "the plan is empty");
  if (parsed.length > MAX_PLAN_ITEMS) throw new GameError("bad-plan", `a plan has at most ${MAX_PLAN_ITEMS} items; this one has ${parsed.length}`);
  let s = startOf(level, knobs, versus);
  const out: Plan["items"] = [];
  parsed.forEach((x, i) => {
    const it = { token: formatSchedule([x]), cmd: commandOf(x) };
    if (s.result) throw new GameError("bad-plan", `the attempt is over after item ${i} (${s.result.oracle?.message ?? s.result.reason}); item ${i + 1} (${it.token}) and after would not play`);
    const from = s.trace.length;
    try {
      s = applyCommand(level, s, it.cmd, 0, by.id, NO_PROOF).s;
    } catch (e) {
      if (e instanceof GameError) throw new GameError("bad-plan", `item ${i + 1} (${it.token}) cannot play: ${e.message}`);
      throw e;
    }
    if (s.trace.length > MAX_PLAN_LINES) throw new GameError("bad-plan", `the plan runs more than ${MAX_PLAN_LINES} lines`);
    const actor = it.cmd.kind === "step" || it.cmd.kind === "run" ? it.cmd.actor : null;
    out.push({ token: it.token, cpu: typeof actor === "number" ? actor : null, run: it.cmd.kind === "run", from, to: s.trace.length });
  });
  const r = s.result;
  return {
    by: by.id,
    name: by.name,
    schedule: formatSchedule(parsed),
    knobs: { ...s.knobs },
    items: out,
    trace: s.trace,
    ends: { oracle: r?.oracle ?? null, preemptions: s.preemptions, finished: r !== null && r.reason === "finished" },
  };
}

const sameAction = (a: Action, b: Action): boolean =>
  "dma" in a ? "dma" in b : !("dma" in b) && a.cpu === b.cpu && (a.choice ?? null) === (b.choice ?? null);

/**
 * The attempt's moves so far as a plan: the schedule a share of the attempt
 * gives (src/game/share.ts: each run a player made to the next decision as one
 * N+ item, every other line as a step), played from the level's start again.
 */
export function recordPlan(level: Level, s: Session, by: { id: string; name: string }): Plan {
  if (s.trace.length === 0) throw new GameError("bad-plan", "nothing to record yet: no step has run in this attempt");
  return makePlan(level, s.knobs, s.versus, traceSchedule(s.trace, s.runSpans), by);
}

/** Where the room's attempt stands on the plan: the next item's index (null: off the plan, or played to its end), and why in words. */
export function planAt(plan: Plan, s: Session): { next: number | null; of: number; text: string; done?: true } {
  const of = plan.items.length;
  const knobs = (k: Record<string, string>) => Object.entries(k).sort().map(([a, b]) => `${a}=${b}`).join(" ");
  if (knobs(plan.knobs) !== knobs(s.knobs)) return { next: null, of, text: `the plan was made for ${knobs(plan.knobs)}: reset and set it to play the plan` };
  const n = s.trace.length;
  for (let i = 0; i < n; i++) {
    if (i >= plan.trace.length || !sameAction(s.trace[i].action, plan.trace[i].action)) {
      return { next: null, of, text: `step ${i + 1} left the plan: rewind to step ${i}${i === 0 ? "" : " (or an item's start)"} or reset to play it` };
    }
  }
  if (n === plan.trace.length) return { next: null, of, text: `the plan is played to its end (${of} item${of === 1 ? "" : "s"})`, done: true };
  const k = plan.items.findIndex((it) => it.from === n);
  if (k < 0) return { next: null, of, text: `step ${n} is inside an item of the plan: rewind to an item's start or reset` };
  return { next: k, of, text: `item ${k + 1} of ${of} is next: ${plan.items[k].token}` };
}

/** The command planStep plays: the next item, as a step or a run (refused: no-plan, off-plan). */
export function planCommand(plan: Plan | null, s: Session): Command {
  if (!plan) throw new GameError("no-plan", "the room has no plan: propose one first");
  const at = planAt(plan, s);
  if (at.next === null) throw new GameError(at.done ? "no-plan" : "off-plan", at.text);
  const it = plan.items[at.next];
  const a = plan.trace[it.from].action;
  const actor = "dma" in a ? ("dma" as const) : a.cpu;
  const choice = "dma" in a ? undefined : a.choice;
  return { kind: it.run ? "run" : "step", actor, ...(choice !== undefined ? { choice } : {}) };
}
