// One attempt at a level, as a value: the pure core of a room. Commands (step,
// knob, start, hint, rewind, reset) fold over a Session; time comes in as an
// argument, so replaying a logged command list rebuilds the same session bit
// for bit. No I/O, no clocks, no randomness.

import { z } from "zod";
import { compileLevel, parseKnobArgs, type Compiled, type KnobSetting } from "../level/compile.js";
import type { Level } from "../level/load.js";
import type { ErrorCode } from "../protocol/codes.js";
import type { Result, TraceEntry } from "../protocol/server.js";
import { describeChanges } from "../sim/describe.js";
import { actorKey, advance, allDone, cpuLabel, cpuStatus, currentItem, opEntry, SimError, step } from "../sim/engine.js";
import { resolvePath } from "../sim/path.js";
import type { Config } from "../sim/config.js";
import { explore } from "../sim/explore.js";
import { livelockSince } from "../sim/runner.js";
import { checkOracles, watchedOracles, type OracleId } from "../sim/oracles.js";
import { decisionAhead, MAX_RUN } from "../sim/decide.js";
import { preempts } from "../sim/preempt.js";
import { formatSchedule } from "../sim/schedule.js";
import { digestMachine, hashMachine } from "../sim/state.js";
import type { Action, Machine } from "../sim/types.js";
import { score, type ScoreInput } from "./score.js";
import { shareOf, type RunSpan } from "./share.js";

export type { Actor } from "../protocol/client.js";
export type { Phase } from "../protocol/server.js";
import type { Actor } from "../protocol/client.js";
import type { Phase } from "../protocol/server.js";

/** A line of a kernel path: where a CPU is about to run (nextAt), and what a mark names. */
const lineAt = z.strictObject({ path: z.string(), pc: z.int().min(0) });
export type LineAt = z.infer<typeof lineAt>;

export const commandSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("step"), actor: z.union([z.int().min(0), z.literal("dma")]), choice: z.string().optional() }),
  /**
   * Run the actor to its next decision (src/sim/decide.ts): one command, every line in the trace.
   * The room's marks ride along, so the log replays the same lines: `stops`, lines the run
   * stops before; `to`, a line it runs to through the decisions before it (never sent by a client).
   */
  z.strictObject({
    kind: z.literal("run"),
    actor: z.union([z.int().min(0), z.literal("dma")]),
    choice: z.string().optional(),
    stops: z.array(lineAt).max(64).optional(),
    to: lineAt.optional(),
  }),
  z.strictObject({ kind: z.literal("knob"), knob: z.string(), value: z.string() }),
  z.strictObject({ kind: z.literal("start") }),
  /** `text`: the explorer's hint, looked up by the server in the level's solved game (never sent by a client). */
  z.strictObject({ kind: z.literal("hint"), free: z.boolean().optional(), text: z.string().max(1000).optional() }),
  z.strictObject({ kind: z.literal("rewind"), steps: z.int().min(1) }),
  z.strictObject({ kind: z.literal("reset") }),
]);
export type Command = z.infer<typeof commandSchema>;

export interface Session {
  level: string;
  versus: boolean;
  knobs: KnobSetting;
  phase: Phase;
  /**
   * checkpoints[j] is the machine after j * CHECKPOINT_EVERY steps of the trace;
   * checkpoints[0] is the initial one. Any earlier machine is rebuilt by replaying
   * the trace's actions from the nearest checkpoint (machineAt): the simulator is
   * deterministic, so that gives the machine the attempt had. Keeping one machine
   * per step instead made every room hold ~80 deep copies (issue 7: GC pauses).
   */
  checkpoints: Machine[];
  /** The machine after every step of the trace (current(s)). */
  machine: Machine;
  /**
   * On a level whose goal includes livelock: digests[i] is digestMachine() of the
   * machine after i steps (0 <= i <= trace length), so the livelock judge finds an
   * earlier visit of the current state without replaying the trace. Else empty.
   */
  digests: number[];
  trace: TraceEntry[];
  /** The stretches of the trace each `run` command made, oldest first (the shared schedule writes each as N+). */
  runSpans: RunSpan[];
  /** Entries of the trace that preempted (TraceEntry.preempt). */
  preemptions: number;
  /**
   * Hints shown: the written ones, then at most EXPLORER_HINTS_KEPT of the
   * explorer's latest (the view carries hints shown, bounded, not every request).
   */
  hints: string[];
  /** Hints shown in all (numbers them), and the position of the explorer's last one (moves + rewinds + resets), or -1. */
  hintCount: number;
  hintAt: number;
  /** Hints the players asked for (an instructor's released hints are free). */
  hintsUsed: number;
  rewinds: number;
  resets: number;
  moves: number;
  startedAt: number | null;
  result: Result | null;
}

/** A command the rules refuse; the session is unchanged. */
export class GameError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type SessionEvent =
  | { kind: "step"; entry: TraceEntry }
  | { kind: "run"; entries: TraceEntry[] }
  | { kind: "knob"; knob: string; value: string }
  | { kind: "start" }
  | { kind: "hint"; index: number; text: string; free: boolean }
  | { kind: "rewind"; steps: number; to: number }
  | { kind: "reset" };

/**
 * States the explorer may visit for one hint or one bot move. Levels need a few
 * thousand; the bound keeps a room's turn short (it runs on the server's thread).
 */
export const EXPLORE_BUDGET = 50_000;
/** States for proving a defend fix sound, once per level and knob setting (cached). */
const PROOF_BUDGET = 1_000_000;

// compileLevel is pure, so its result may be shared by every room on the same level and knobs.
const compiled = new WeakMap<Level, Map<string, Compiled>>();
/** The summed cost of the knob options a defend session chose. */
function fixCost(level: Level, knobs: KnobSetting): number {
  return level.knobs.reduce((sum, k) => sum + (k.options.find((o) => o.value === knobs[k.id])?.cost ?? 0), 0);
}

export function compiledFor(level: Level, knobs: KnobSetting): Compiled {
  let byKnobs = compiled.get(level);
  if (!byKnobs) compiled.set(level, (byKnobs = new Map()));
  const key = JSON.stringify(Object.entries(knobs).sort());
  let c = byKnobs.get(key);
  if (!c) byKnobs.set(key, (c = compileLevel(level, knobs)));
  return c;
}

// Whether a knob setting can be broken depends only on the level and the knobs, not on the play.
// The server passes the proof from the setting's solved game (Facts); this is the fallback.
const proofs = new WeakMap<Compiled, NonNullable<Facts["proof"]>>();
function proofByExplorer(c: Compiled): NonNullable<Facts["proof"]> {
  let r = proofs.get(c);
  if (!r) {
    const e = explore(c.cfg, c.machine, { oracles: c.oracles, maxStates: PROOF_BUDGET });
    proofs.set(c, (r = { verdict: e.verdict, counterexample: e.verdict === "reachable" ? formatSchedule(e.schedule ?? []) : null }));
  }
  return r;
}

/** Steps between two kept machines of an attempt: a rewind replays fewer than this many. */
export const CHECKPOINT_EVERY = 16;

export const current = (s: Session): Machine => s.machine;

/** The initial machine of the attempt (its knob setting's compiled machine). */
export const initialMachine = (s: Session): Machine => s.checkpoints[0];

/**
 * The machine after `i` steps of the trace (0 <= i <= trace length): a checkpoint,
 * the current machine, or a replay of at most CHECKPOINT_EVERY - 1 steps.
 */
export function machineAt(level: Level, s: Session, i: number): Machine {
  if (!Number.isInteger(i) || i < 0 || i > s.trace.length) throw new RangeError(`no machine after ${i} steps: the trace has ${s.trace.length}`);
  if (i === s.trace.length) return s.machine;
  const j = Math.floor(i / CHECKPOINT_EVERY);
  return replayFrom(compiledFor(level, s.knobs), s.checkpoints[j], s.trace, j * CHECKPOINT_EVERY, i);
}

/** Fold the trace's actions from..to-1 over `m`, the machine after `from` steps. */
function replayFrom(c: Compiled, m: Machine, trace: readonly TraceEntry[], from: number, to: number): Machine {
  for (let k = from; k < to; k++) m = advance(c.cfg, m, trace[k].action);
  return m;
}

/** A fresh history: only the initial machine. */
const startAt = (c: Compiled, m: Machine): Pick<Session, "checkpoints" | "machine" | "trace" | "runSpans" | "digests" | "preemptions"> => ({
  checkpoints: [m],
  machine: m,
  trace: [],
  runSpans: [],
  preemptions: 0,
  digests: watchesLivelock(c) ? [digestMachine(m)] : [],
});
const watchesLivelock = (c: Compiled): boolean => c.oracles.includes("livelock");
export const actionOf = (actor: Actor, choice?: string): Action => (actor === "dma" ? { dma: true } : choice === undefined ? { cpu: actor } : { cpu: actor, choice });
export const actorOf = (a: Action): Actor => ("dma" in a ? "dma" : a.cpu);

export function newSession(level: Level, opts: { versus?: boolean } = {}): Session {
  const knobs = parseKnobArgs(level, []);
  const c = compiledFor(level, knobs);
  return {
    level: level.id,
    versus: opts.versus ?? false,
    knobs,
    phase: "setup",
    ...startAt(c, c.machine),
    hints: [],
    hintCount: 0,
    hintAt: -1,
    hintsUsed: 0,
    rewinds: 0,
    resets: 0,
    moves: 0,
    startedAt: null,
    result: null,
  };
}

/**
 * Apply one command at time `at` (ms) on behalf of `by` (a member id, "bot" or
 * "instructor"). Returns the new session and what happened; throws GameError
 * and leaves `s` untouched when the rules refuse.
 */
/**
 * What the server knows of a level setting from its solved game (src/game/solved.ts),
 * passed in so the session never explores on the caller's thread: the defend
 * proof. Without it (the CLI, tests, rebuilding a room from its log) the
 * session asks the explorer itself.
 */
export interface Facts {
  proof?: { verdict: "reachable" | "safe" | "incomplete"; counterexample: string | null };
}

/** Explorer hints kept in the session (and the view) beside the written ones. */
export const EXPLORER_HINTS_KEPT = 3;

export function applyCommand(level: Level, s: Session, cmd: Command, at: number, by: string, facts: Facts = {}): { s: Session; event: SessionEvent } {
  if (s.phase === "over") throw new GameError("game-over", "this attempt is over: retry, move to the next level, or watch the replay");
  const c = compiledFor(level, s.knobs);
  switch (cmd.kind) {
    case "step": {
      const r = stepOnce(level, c, s, actionOf(cmd.actor, cmd.choice), at, by, facts);
      return { s: r.s, event: { kind: "step", entry: r.entry } };
    }
    case "run": {
      // Line by line, judged after each line like a step; stops at the next decision or the result.
      const entries: TraceEntry[] = [];
      let next = s;
      let action = actionOf(cmd.actor, cmd.choice);
      // Whether the run has stopped only where the rule alone stops it, so far: only such a run is
      // one N+ token when the attempt is shared (a mark that stops it early, or runs it through a
      // decision, makes its lines steps there).
      let natural = true;
      const spans = (keep: boolean) => (keep && cmd.actor !== "dma" ? [...s.runSpans, { from: s.trace.length, to: next.trace.length + 1 }] : s.runSpans);
      for (;;) {
        // The span covers the line about to run, so a result it brings shares the run as one token (judge() reads the spans).
        next = { ...next, runSpans: spans(natural) };
        const r = stepOnce(level, c, next, action, at, by, facts);
        next = r.s;
        entries.push(r.entry);
        if (next.result || cmd.actor === "dma" || r.entry.blocked || entries.length >= MAX_RUN) break;
        const line = cmd.stops || cmd.to ? nextAt(c.cfg, next.machine, cmd.actor) : null;
        const atMark = line !== null && (sameLine(line, cmd.to) || cmd.stops?.some((x) => sameLine(line, x)) === true);
        if (cmd.to) {
          // Running to a line: through the decisions before it, never past a menu, a blocked line or the end.
          if (cpuStatus(c.cfg, next.machine, cmd.actor).state !== "ready") break;
          if (natural && decisionAhead(c.cfg, next.machine, cmd.actor) !== atMark) natural = false;
          if (atMark) break;
        } else {
          if (decisionAhead(c.cfg, next.machine, cmd.actor)) break;
          if (atMark) {
            natural = false;
            break;
          }
        }
        action = actionOf(cmd.actor);
      }
      if (!natural) next = { ...next, runSpans: spans(false) };
      return { s: next, event: { kind: "run", entries } };
    }
    case "knob": {
      if (s.phase !== "setup") throw new GameError("knob-locked", "knobs are set before play starts; reset to change them");
      const knob = level.knobs.find((k) => k.id === cmd.knob);
      if (!knob) throw new GameError("no-such-knob", level.knobs.length ? `this level has no knob "${cmd.knob}" (knobs: ${level.knobs.map((k) => k.id).join(", ")})` : "this level has no knobs");
      if (!knob.options.some((o) => o.value === cmd.value)) {
        throw new GameError("no-such-knob", `knob ${knob.id} has no value "${cmd.value}" (values: ${knob.options.map((o) => o.value).join(", ")})`);
      }
      const knobs = { ...s.knobs, [knob.id]: cmd.value };
      const ck = compiledFor(level, knobs);
      return { s: { ...s, knobs, ...startAt(ck, ck.machine) }, event: { kind: "knob", knob: knob.id, value: cmd.value } };
    }
    case "start": {
      if (s.phase !== "setup") throw new GameError("already-started", "play has already started");
      return { s: { ...s, phase: "play", startedAt: s.startedAt ?? at }, event: { kind: "start" } };
    }
    case "hint": {
      const written = Math.min(s.hintCount, level.hints.length);
      const here = s.moves + s.rewinds + s.resets;
      // The explorer's hint again, with no step in between: the same words, free.
      if (written === level.hints.length && s.hintAt === here && s.hints.length > written) {
        return { s, event: { kind: "hint", index: s.hintCount - 1, text: s.hints[s.hints.length - 1], free: true } };
      }
      const explorer = written === level.hints.length;
      if (explorer && level.mode === "defend") throw new GameError("no-more-hints", "there are no more hints for this level (a defend level has its written hints only)");
      const text = !explorer ? level.hints[written] : (cmd.text ?? explorerHint(c, current(s)));
      if (text === null) throw new GameError("no-more-hints", "there are no more hints for this level");
      const free = cmd.free === true;
      const hints = [...s.hints, text];
      const kept = explorer && hints.length > level.hints.length + EXPLORER_HINTS_KEPT ? [...hints.slice(0, level.hints.length), ...hints.slice(-EXPLORER_HINTS_KEPT)] : hints;
      return {
        s: { ...s, hints: kept, hintCount: s.hintCount + 1, hintAt: explorer ? here : s.hintAt, hintsUsed: s.hintsUsed + (free ? 0 : 1) },
        event: { kind: "hint", index: s.hintCount, text, free },
      };
    }
    case "rewind": {
      if (s.trace.length === 0) throw new GameError("nothing-to-rewind", "nothing to rewind: no step has run");
      const n = Math.min(cmd.steps, s.trace.length);
      const to = s.trace.length - n;
      const j = Math.floor(to / CHECKPOINT_EVERY);
      return {
        s: {
          ...s,
          checkpoints: s.checkpoints.slice(0, j + 1),
          machine: replayFrom(c, s.checkpoints[j], s.trace, j * CHECKPOINT_EVERY, to),
          trace: s.trace.slice(0, to),
          // A run cut by the rewind no longer replays as one token: its remaining lines are single steps.
          runSpans: s.runSpans.filter((r) => r.to <= to),
          digests: s.digests.slice(0, s.digests.length > 0 ? to + 1 : 0),
          preemptions: s.trace.slice(0, to).filter((e) => e.preempt).length,
          rewinds: s.rewinds + 1,
        },
        event: { kind: "rewind", steps: n, to },
      };
    }
    case "reset": {
      if (s.phase === "setup") throw new GameError("nothing-to-rewind", "nothing to reset: play has not started");
      return {
        s: { ...s, phase: "setup", ...startAt(c, initialMachine(s)), resets: s.resets + 1 },
        event: { kind: "reset" },
      };
    }
  }
}

/** The line `cpu` runs next: its innermost frame's, or between operations the first line of the path it enters; null when it has none. */
export function nextAt(cfg: Config, m: Machine, cpu: number): LineAt | null {
  const c = m.cpus[cpu];
  const top = c.frames[c.frames.length - 1];
  if (top) return { path: top.path, pc: top.pc };
  if (c.done) return null;
  const item = currentItem(cfg, m, cpu);
  if (!item || "choose" in item) return null;
  return { path: resolvePath(opEntry(item.op).name, cfg), pc: 0 };
}

export const sameLine = (a: LineAt | null | undefined, b: LineAt | null | undefined): boolean => !!a && !!b && a.path === b.path && a.pc === b.pc;

/** One line of the trace: the step, what it changed, whether it preempted, and the judgement after it. */
function stepOnce(level: Level, c: Compiled, s: Session, action: Action, at: number, by: string, facts: Facts): { s: Session; entry: TraceEntry } {
  const m = current(s);
  let r;
  try {
    r = step(c.cfg, m, action);
  } catch (e) {
    if (e instanceof SimError) throw new GameError(e.code, e.message);
    throw e;
  }
  const { ev } = r;
  const prev = s.trace.length > 0 ? s.trace[s.trace.length - 1].action : null;
  const preempt = preempts(c.cfg, m, prev, action);
  const entry: TraceEntry = {
    step: s.trace.length + 1,
    by,
    action,
    actor: ev.actor,
    cpu: ev.cpu,
    fn: ev.fn,
    line: ev.line,
    blocked: ev.blocked,
    ...(ev.wait !== undefined ? { wait: ev.wait } : {}),
    ...(ev.choice !== undefined ? { choice: ev.choice } : {}),
    ...(ev.loaded !== undefined ? { loaded: ev.loaded } : {}),
    ...(ev.notes ? { notes: ev.notes } : {}),
    changes: describeChanges(c.cfg, m, r.m),
    ...(preempt ? { preempt: true as const } : {}),
  };
  const next: Session = {
    ...s,
    phase: "play",
    startedAt: s.startedAt ?? at,
    // A checkpoint every CHECKPOINT_EVERY steps; the machines in between are dropped.
    checkpoints: entry.step % CHECKPOINT_EVERY === 0 ? [...s.checkpoints, r.m] : s.checkpoints,
    machine: r.m,
    trace: [...s.trace, entry],
    digests: s.digests.length > 0 ? [...s.digests, digestMachine(r.m)] : s.digests,
    preemptions: s.preemptions + (preempt ? 1 : 0),
    moves: s.moves + 1,
  };
  next.result = judge(level, c, next, at, facts);
  if (next.result) next.phase = "over";
  return { s: next, entry };
}

/**
 * runSchedule()'s livelock test (src/sim/runner.ts) for the last step of the trace:
 * the machine is back in the state it had after step k (the latest such k),
 * every runnable CPU stepped since, and a CPU with finite work is unfinished.
 * Earlier steps need no test: a livelock there would have ended the attempt.
 * The digests find k without replaying the trace (that replay made each step
 * cost O(steps) on a level where a CPU loops forever).
 */
function livelockNow(level: Level, c: Compiled, s: Session): { oracle: OracleId; message: string } | null {
  const n = s.trace.length;
  const m = s.machine;
  const d = s.digests[n];
  let k = -1;
  let exact: string | null = null;
  for (let i = n - 1; i >= 0 && k < 0; i--) {
    if (s.digests[i] !== d) continue;
    exact ??= hashMachine(m);
    if (hashMachine(machineAt(level, s, i)) === exact) k = i;
  }
  if (k < 0) return null;
  const lastStepped = new Map<string, number>();
  for (let i = n; i > k; i--) {
    const a = s.trace[i - 1].action;
    const actor = actorKey(a);
    if (!lastStepped.has(actor)) lastStepped.set(actor, i);
  }
  const message = livelockSince(c.cfg, m, k, (x) => lastStepped.get(x) ?? 0);
  return message ? { oracle: "livelock", message } : null;
}

/** The result, once an oracle fires or every CPU has finished; null while play goes on. */
function judge(level: Level, c: Compiled, s: Session, at: number, facts: Facts): Result | null {
  const m = current(s);
  const goal = c.oracles;
  const watch = watchedOracles(goal);
  let v: { oracle: OracleId; message: string } | null = checkOracles(c.cfg, m, watch);
  if (!v && goal.includes("livelock")) v = livelockNow(level, c, s);
  const base = { steps: s.trace.length, par: level.par ?? null, preemptions: s.preemptions, parPreemptions: level.preemptions ?? null, hintsUsed: s.hintsUsed, rewinds: s.rewinds, resets: s.resets, durationMs: Math.max(0, at - (s.startedAt ?? at)) };
  // Hints the instructor released (free): shown, not asked for.
  const released = s.hintCount - s.hintsUsed;
  const finish = (won: boolean, reason: Result["reason"], counterexample: string | null = null): Result => {
    const oracle = v ? { id: v.oracle, message: v.message, step: s.trace.length } : null;
    const share = shareOf(level, s.knobs, s.trace, s.runSpans);
    const r: Result = s.versus
      ? { ...versusResult(v !== null && goal.includes(v.oracle), base), reason, oracle, counterexample, share }
      : { outcome: won ? "won" : "lost", reason, oracle, ...base, score: score({ mode: level.mode, won, ...base, fixCost: fixCost(level, s.knobs) }), counterexample, winner: null, share };
    return released > 0 ? { ...r, hintsReleased: released } : r;
  };
  if (v) {
    const isGoal = goal.includes(v.oracle);
    const reason: Result["reason"] = isGoal ? "oracle" : v.oracle === "deadlock" ? "deadlock" : v.oracle === "livelock" ? "livelock" : "oracle";
    // A versus level is judged like a hunt (the race happening is red's win); `winner` names the side.
    return finish(level.mode !== "defend" ? isGoal : false, reason);
  }
  if (!allDone(c.cfg, m)) return null;
  if (level.mode !== "defend") return finish(false, "finished");
  // Defend: the play went well, but a fix only wins if no schedule at all breaks it.
  const proof = facts.proof ?? proofByExplorer(c);
  if (proof.verdict === "reachable") return finish(false, "unsafe-fix", proof.counterexample);
  if (proof.verdict === "incomplete" && c.expect === "reachable") return finish(false, "unsafe-fix");
  return finish(true, "finished");
}

/**
 * A versus attempt is won by one side: red when the race happened, blue when it
 * did not. Each side's score is its own (red's against par, like a hunt; blue's
 * like a defence with no fix to pay for; the losing side's 0); `outcome` and
 * `score` are the winning side's, so a versus attempt always reads "won".
 */
function versusResult(raced: boolean, base: Omit<ScoreInput, "mode" | "won"> & { durationMs: number; steps: number; par: number | null }): Omit<Result, "reason" | "oracle" | "counterexample"> {
  const scores = {
    red: score({ mode: "hunt", won: raced, ...base }),
    blue: score({ mode: "defend", won: !raced, ...base }),
  };
  const winner = raced ? "red" : "blue";
  return { outcome: "won", ...base, score: scores[winner], winner, scores };
}

export function describeAction(c: Compiled, a: Action): string {
  if ("dma" in a) return "step the DMA device";
  return `step ${cpuLabel(c.cfg, a.cpu)}${a.choice ? `, choosing ${a.choice}` : ""}`;
}

/** Past the written hints, a hunt level's hint is the explorer's next move from here. */
function explorerHint(c: Compiled, m: Machine): string | null {
  const r = explore(c.cfg, m, { oracles: c.oracles, maxStates: EXPLORE_BUDGET });
  if (r.verdict === "reachable" && r.schedule && r.schedule.length > 0) {
    const n = r.schedule.length;
    return `The explorer: from here the race is ${n} step${n === 1 ? "" : "s"} away. Its next move: ${describeAction(c, r.schedule[0])}.`;
  }
  if (r.verdict === "safe") return "The explorer: from here no schedule makes the race happen. Rewind or reset.";
  return null;
}
