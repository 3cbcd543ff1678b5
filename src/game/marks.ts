// Marks: lines of a CPU's listing that a player points at for the room. A
// "stop" mark makes a run (Enter) on that CPU stop before the line; a "run-to"
// mark makes it run to the line through the decisions before it, when the CPU
// gets there on its own (else the run is the usual one). The room keeps the
// marks; these functions check one and turn a run into the command the log
// records (with the lines it stops at), so a replay runs the same lines.

import type { Level } from "../level/load.js";
import type { MarkKind } from "../protocol/client.js";
import type { Mark } from "../protocol/server.js";
import { advance, cpuStatus } from "../sim/engine.js";
import { getPath, lineOf } from "../sim/path.js";
import type { Action } from "../sim/types.js";
import { MAX_RUN } from "../sim/decide.js";
import { compiledFor, current, GameError, nextAt, sameLine, type Command, type LineAt, type Session } from "./session.js";

/** Marks a room holds at once (each is drawn in a listing and sent with every snapshot). */
export const MAX_MARKS = 32;

/** The function and the line a mark names, as the CPU's listing shows them; refused (bad-mark) when the line does not exist. */
export function markedLine(level: Level, s: Session, cpu: number, at: LineAt): { fn: string; line: string } {
  if (cpu >= level.cpus.length) throw new GameError("no-such-cpu", `there is no CPU${cpu}: this level has CPUs 0-${level.cpus.length - 1}`);
  let p;
  try {
    p = getPath(at.path);
  } catch {
    throw new GameError("bad-mark", `there is no kernel path ${at.path}`);
  }
  const step = p.steps[at.pc];
  if (!step) throw new GameError("bad-mark", `${p.name} has lines 0-${p.steps.length - 1}, not ${at.pc}`);
  return { fn: p.name, line: lineOf(step, compiledFor(level, s.knobs).cfg) };
}

/** The marks with `m` set on its line (replacing any mark there), or refused past MAX_MARKS. */
export function withMark(marks: readonly Mark[], m: Mark): Mark[] {
  const rest = marks.filter((x) => !(x.cpu === m.cpu && sameLine(x, m)));
  if (rest.length >= MAX_MARKS) throw new GameError("bad-mark", `a room holds at most ${MAX_MARKS} marks: clear one first`);
  return [...rest, m];
}

/** The marks without the one on this line (and that mark, or null when there was none). */
export function withoutMark(marks: readonly Mark[], cpu: number, at: LineAt): { marks: Mark[]; removed: Mark | null } {
  const removed = marks.find((x) => x.cpu === cpu && sameLine(x, at)) ?? null;
  return { marks: removed ? marks.filter((x) => x !== removed) : [...marks], removed };
}

const lineOfMark = (m: Mark): LineAt => ({ path: m.path, pc: m.pc });

/**
 * A run as the log records it under the room's marks: the CPU's stop marks as
 * `stops`, and as `to` the first of its run-to marks the CPU reaches running
 * alone (checked here by running it, before any line is applied), if any.
 */
export function runUnderMarks(level: Level, s: Session, cmd: Extract<Command, { kind: "run" }>, marks: readonly Mark[]): Command {
  if (cmd.actor === "dma") return cmd;
  const cpu = cmd.actor;
  const mine = marks.filter((m) => m.cpu === cpu);
  if (mine.length === 0) return cmd;
  const stops = mine.filter((m) => m.kind === "stop").map(lineOfMark);
  const targets = mine.filter((m) => m.kind === "run-to").map(lineOfMark);
  const to = targets.length ? reached(level, s, cpu, cmd.choice, targets, stops) : null;
  return { ...cmd, ...(stops.length ? { stops } : {}), ...(to ? { to } : {}) };
}

/** The first of `targets` the CPU's next line becomes as it runs alone (never past a stop, a menu, a blocked line or its end). */
function reached(level: Level, s: Session, cpu: number, choice: string | undefined, targets: LineAt[], stops: LineAt[]): LineAt | null {
  const { cfg } = compiledFor(level, s.knobs);
  let m = current(s);
  let a: Action = choice === undefined ? { cpu } : { cpu, choice };
  for (let n = 0; n < MAX_RUN; n++) {
    try {
      m = advance(cfg, m, a);
    } catch {
      return null;
    }
    a = { cpu };
    const at = nextAt(cfg, m, cpu);
    const hit = targets.find((t) => sameLine(t, at));
    if (hit) return hit;
    if (stops.some((x) => sameLine(x, at)) || cpuStatus(cfg, m, cpu).state !== "ready") return null;
  }
  return null;
}

/** A mark as the room keeps it. */
export function makeMark(level: Level, s: Session, cpu: number, at: LineAt, kind: MarkKind, by: { id: string; name: string }): Mark {
  const { fn, line } = markedLine(level, s, cpu, at);
  return { cpu, path: at.path, pc: at.pc, kind, by: by.id, name: by.name, fn, line };
}
