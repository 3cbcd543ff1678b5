// Plans and marks in the pure game (issue 17): a plan's preview is the attempt
// the room makes playing it item by item; a recording replays the moves it was
// made from; a run stops at a stop mark and goes through decisions to a run-to
// mark, and the log's command replays the same lines. Seeded random games, no
// clocks.

import { describe, expect, it } from "vitest";
import { makeMark, runUnderMarks, withMark } from "../../src/game/marks.js";
import { makePlan, planAt, planCommand, recordPlan } from "../../src/game/plan.js";
import { replayLog, type LogEntry } from "../../src/game/replay.js";
import { traceSchedule } from "../../src/game/share.js";
import { applyCommand, compiledFor, GameError, newSession, nextAt, type Command, type Session } from "../../src/game/session.js";
import { findLevel, loadCampaign, type Level } from "../../src/level/load.js";
import { enabledActions } from "../../src/sim/engine.js";
import { normaliseText } from "../../src/protocol/text.js";

const campaign = loadCampaign();
const lvl = (id: string): Level => findLevel(campaign, id)!;
const ME = { id: "me", name: "me" };

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random game of up to `n` commands (steps and runs of runnable CPUs, menus picked at random). */
function randomGame(l: Level, seed: number, n: number): Session {
  const r = rng(seed);
  let s = newSession(l);
  for (let i = 0; i < n && !s.result; i++) {
    const acts = enabledActions(compiledFor(l, s.knobs).cfg, s.machine);
    if (acts.length === 0) break;
    const a = acts[Math.floor(r() * acts.length)];
    const actor = "dma" in a ? ("dma" as const) : a.cpu;
    const kind = r() < 0.5 && actor !== "dma" ? "run" : "step";
    const cmd: Command = "dma" in a || a.choice === undefined ? { kind, actor } : { kind, actor, choice: a.choice };
    // A defend level's proof is not this test's business: judge by the level file's claim.
    s = applyCommand(l, s, cmd, i, "me", { proof: { verdict: "incomplete", counterexample: null } }).s;
  }
  return s;
}

const actions = (s: Session) => s.trace.map((e) => e.action);

describe("plans", () => {
  it("the preview is the attempt the room makes playing the plan item by item, and planAt follows it", () => {
    for (const id of ["basics-lost-update", "r6-gup-fast-fork", "r5-six-steps"]) {
      const l = lvl(id);
      const recorded = recordPlan(l, randomGame(l, 7, 40), ME);
      const p = makePlan(l, {}, false, recorded.schedule, ME);
      expect(p.trace).toEqual(recorded.trace);
      let s = newSession(l);
      for (let k = 0; k < p.items.length; k++) {
        expect(planAt(p, s).next).toBe(k);
        s = applyCommand(l, s, planCommand(p, s), 0, "me").s;
        expect(s.trace.length).toBe(p.items[k].to);
      }
      expect(planAt(p, s)).toMatchObject({ next: null, done: true });
      expect(actions(s)).toEqual(actions({ trace: p.trace } as Session));
      expect(() => planCommand(p, s)).toThrow(GameError);
    }
  });

  it("a recording replays the moves it was made from, line for line, over seeded random games (hunt, defend, versus, DMA, menus)", () => {
    let runs = 0;
    for (const l of ["basics-tlb-shootdown", "r5-six-steps", "r5-pick-the-fix", "r4-spf-trylock", "r1-fork-lock-break", "r9-stale-tlb-cow", "finale-versus"].map(lvl)) {
      for (const seed of [1, 2]) {
        const s = randomGame(l, seed * 31 + l.id.length, 12);
        if (s.trace.length === 0) continue;
        const p = recordPlan(l, s, ME);
        expect(actions({ trace: p.trace } as Session)).toEqual(actions(s));
        // Runs fold several lines into one item: the recording has at most as many items as lines.
        expect(p.items.length).toBeLessThanOrEqual(s.trace.length);
        runs += p.items.filter((x) => x.run).length;
      }
    }
    expect(runs).toBeGreaterThan(0);
  });

  it("refuses what does not play, and knows when the room has left it", () => {
    const l = lvl("basics-lost-update");
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof GameError ? e.code : String(e);
      }
      return null;
    };
    expect(code(() => makePlan(l, {}, false, "x", ME))).toBe("bad-plan");
    expect(code(() => makePlan(l, {}, false, "3", ME))).toBe("bad-plan");
    expect(code(() => makePlan(l, {}, false, "1 0 0 1 0", ME))).toBe("bad-plan"); // past the race
    expect(code(() => makePlan(l, {}, false, "0*201", ME))).toBe("bad-plan");
    expect(code(() => recordPlan(l, newSession(l), ME))).toBe("bad-plan");
    expect(code(() => planCommand(null, newSession(l)))).toBe("no-plan");
    const p = makePlan(l, {}, false, "1+ 0+ 1+", ME);
    const off = applyCommand(l, newSession(l), { kind: "step", actor: 0 }, 0, "me").s;
    expect(planAt(p, off)).toMatchObject({ next: null });
    expect(code(() => planCommand(p, off))).toBe("off-plan");
    // A knob setting the plan was not made for.
    const d = lvl("basics-spinlock");
    const dp = makePlan(d, { lock: "spin_lock" }, false, "0", ME);
    expect(planAt(dp, newSession(d)).text).toMatch(/made for lock=spin_lock/);
  });
});

describe("marks", () => {
  it("a run stops before a stop mark and runs through decisions to a run-to mark; the logged command replays the same lines", () => {
    const l = lvl("r6-gup-fast-fork");
    const s0 = newSession(l);
    const natural = applyCommand(l, s0, { kind: "run", actor: 1 }, 0, "me").s.trace.length;
    expect(natural).toBeGreaterThan(3);
    // Where CPU1 is after each of its lines, run alone.
    const at: ReturnType<typeof nextAt>[] = [];
    let s = s0;
    for (let i = 0; i < natural + 6; i++) {
      s = applyCommand(l, s, { kind: "step", actor: 1 }, 0, "me").s;
      at.push(nextAt(compiledFor(l, s.knobs).cfg, s.machine, 1));
    }
    const first = (k: number) => at.findIndex((x) => x!.path === at[k]!.path && x!.pc === at[k]!.pc) + 1;
    for (const [k, kind, expected] of [
      [1, "stop", first(1)],
      [natural + 3, "run-to", first(natural + 3)],
      [natural + 3, "stop", natural], // a stop past the decision changes nothing
    ] as const) {
      const mark = makeMark(l, s0, 1, at[k]!, kind, ME);
      const cmd = runUnderMarks(l, s0, { kind: "run", actor: 1 }, withMark([], mark));
      const r = applyCommand(l, s0, cmd, 0, "me").s;
      expect(r.trace.length).toBe(expected);
      // The log records the command with its marks: a replay runs the same lines.
      const log: LogEntry[] = [{ seq: 1, at: 0, by: "me", cmd }];
      expect(replayLog(l, log).s.trace).toEqual(r.trace);
      // Shared (or recorded as a plan), a run a mark changed is written as steps, which replay exactly.
      const shared = traceSchedule(r.trace, r.runSpans);
      expect(shared.includes("+")).toBe(expected === natural);
      expect(actions({ trace: makePlan(l, {}, false, shared, ME).trace } as Session)).toEqual(actions(r));
    }
    // A run-to mark on a line the CPU never reaches leaves the run as it was.
    const other = makeMark(l, s0, 1, { path: "counter_inc_unlocked", pc: 0 }, "run-to", ME);
    expect(runUnderMarks(l, s0, { kind: "run", actor: 1 }, [other])).toEqual({ kind: "run", actor: 1 });
  });
});

describe("chat text", () => {
  it("is normalised: controls become pictures, format characters go, NFC, one line", () => {
    expect(normaliseText("\u001b]0;t\u0007x")).toBe("␛]0;t␇x");
    expect(normaliseText(" a\tb\nc\r\n ")).toBe("a b c");
    expect(normaliseText("\u202Eevil\u202C\u200B\u2066!\u2069\uFEFF")).toBe("evil!");
    expect(normaliseText("\u009b2J\u007f")).toBe("\ufffd2J\u2421");
    expect(normaliseText("e\u0301")).toBe("\u00e9");
    expect(normaliseText("\u200B \u2028")).toBe("");
  });
});
