// Run to the next decision, preemptions and hints, in the pure session.
import { describe, expect, it } from "vitest";
import { applyCommand, EXPLORER_HINTS_KEPT, GameError, newSession, type Command, type Session } from "../../src/game/session.js";
import { findLevel, loadCampaign, type Level } from "../../src/level/load.js";
import { compileLevel } from "../../src/level/compile.js";
import { runToDecision } from "../../src/sim/decide.js";

const campaign = loadCampaign();
const level = (id: string): Level => findLevel(campaign, id)!;
const apply = (lv: Level, s: Session, c: Command) => applyCommand(lv, s, c, 0, "p1");
const refused = (f: () => unknown, code: string) => {
  expect(f).toThrow(GameError);
  try {
    f();
  } catch (e) {
    expect((e as GameError).code).toBe(code);
  }
};

describe("run to the next decision", () => {
  it("is one command that puts every line in the trace, and stops where the order of two CPUs' lines matters", () => {
    const lv = level("r5-six-steps");
    let s = newSession(lv);
    // A2's first line, then a stop: its next line takes mmap_lock, which A1 is about to want.
    let r = apply(lv, s, { kind: "run", actor: 1 });
    expect(r.event.kind).toBe("run");
    s = r.s;
    expect(s.trace).toHaveLength(1);
    // The next press runs the whole copy under mmap_lock: many lines, one command.
    r = apply(lv, s, { kind: "run", actor: 1 });
    const entries = r.event.kind === "run" ? r.event.entries : [];
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.map((e) => e.step)).toEqual(entries.map((_, i) => 2 + i));
    expect(r.s.trace).toHaveLength(1 + entries.length);
    expect(r.s.moves).toBe(1 + entries.length);
    // The same lines as the pure rule gives.
    const c = compileLevel(lv, {});
    expect(entries.length).toBe(runToDecision(c.cfg, s.machine, 1).length);
  });

  it("is refused like a step, leaving the session as it was", () => {
    const lv = level("r5-six-steps");
    const s = newSession(lv);
    const before = JSON.stringify(s);
    refused(() => apply(lv, s, { kind: "run", actor: 2 }), "not-runnable"); // B is not forked yet
    refused(() => apply(lv, s, { kind: "run", actor: 1, choice: "fork" }), "bad-choice"); // no menu here
    refused(() => apply(lv, s, { kind: "run", actor: 9 }), "bad-action");
    expect(JSON.stringify(s)).toBe(before);
  });

  it("stops at the end of the attempt: a run never steps past the race", () => {
    const lv = level("basics-lost-update");
    let s = newSession(lv);
    // CPU0's write and CPU1's write commute once both have read (each writes 1): CPU0 runs to its end.
    for (const actor of [1, 0, 1]) s = apply(lv, s, { kind: "run", actor }).s;
    expect(s.result).toMatchObject({ outcome: "won", steps: 4, preemptions: 1, parPreemptions: 1 });
  });
});

describe("hints cost what they should", () => {
  it("asking again with no step in between repeats the explorer's hint, free; the view keeps the latest few", () => {
    const lv = level("basics-lost-update");
    let s = newSession(lv);
    for (let i = 0; i < lv.hints.length; i++) s = apply(lv, s, { kind: "hint" }).s;
    const first = apply(lv, s, { kind: "hint", text: "The explorer: from here the race is 3 moves away." });
    expect(first.event).toMatchObject({ kind: "hint", free: false, text: "The explorer: from here the race is 3 moves away." });
    const again = apply(lv, first.s, { kind: "hint", text: "something else" });
    expect(again.event).toMatchObject({ kind: "hint", free: true, text: "The explorer: from here the race is 3 moves away." });
    expect(again.s.hintsUsed).toBe(first.s.hintsUsed);
    expect(again.s.hints).toEqual(first.s.hints);
    // Every step makes the next hint a new one; only the latest few stay in the view.
    s = again.s;
    for (const actor of [1, 0, 1]) {
      s = apply(lv, s, { kind: "step", actor: actor }).s;
      s = apply(lv, s, { kind: "hint" }).s;
    }
    expect(s.hints.length).toBeLessThanOrEqual(lv.hints.length + EXPLORER_HINTS_KEPT);
    expect(s.hintCount).toBe(lv.hints.length + 4);
  });

  it("a defend level has its written hints only", () => {
    const lv = level("basics-spinlock");
    let s = newSession(lv);
    for (let i = 0; i < lv.hints.length; i++) s = apply(lv, s, { kind: "hint" }).s;
    refused(() => apply(lv, s, { kind: "hint" }), "no-more-hints");
  });
});
