// The bots of a versus room (src/game/sides.ts): red's adversary and blue's guard
// each play their side to the end; a game between them, or against a player who
// moves, always ends.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyCommand, newSession, type Session } from "../../src/game/session.js";
import { guardPlan, sidesPlan, type Side } from "../../src/game/sides.js";
import { findLevel, loadCampaign, loadLevelFile, type Level } from "../../src/level/load.js";

const fixture: Level = loadLevelFile(join(import.meta.dirname, "..", "fixtures", "versus-lost-update.yaml"));
const finale: Level = findLevel(loadCampaign(), "finale-versus")!;

function started(level: Level): Session {
  return applyCommand(level, newSession(level, { versus: true }), { kind: "start" }, 0, "p").s;
}

/** Bots play every CPU by its level side; returns the finished session and the steps taken. */
function botsOnly(level: Level): { s: Session; n: number } {
  let s = started(level);
  const side = (a: number | "dma"): Side => (a === "dma" ? "red" : (level.cpus[a].side as Side));
  let n = 0;
  for (; n < 500 && !s.result; n++) {
    const plan = sidesPlan(level, s, side, n);
    expect(plan.cmds.length).toBe(1);
    s = applyCommand(level, s, plan.cmds[0], n, "bot").s;
  }
  return { s, n };
}

describe("versus bots", () => {
  it("bots on both sides of the fixture finish the game", () => {
    const { s } = botsOnly(fixture);
    expect(s.result?.winner).not.toBeNull();
  });

  it("bots on both sides of finale-versus finish the game within the explorer budget", () => {
    const t0 = performance.now();
    const { s, n } = botsOnly(finale);
    expect(s.result?.winner).not.toBeNull();
    expect(n).toBeLessThan(200);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it("the guard never waits: when its only move keeps the race reachable, it makes it", () => {
    // Red (T0) has read; blue (T1) can only read now, which keeps the race reachable: it moves anyway (it never waits).
    let s = started(fixture);
    s = applyCommand(fixture, s, { kind: "step", actor: 0 }, 1, "p").s;
    expect(guardPlan(fixture, s, (a) => a === 1, 0)).toEqual([{ kind: "step", actor: 1 }]);
  });

  it("red waits for a player who can move, and plays on eagerly when nobody else can", () => {
    let s = started(fixture);
    s = applyCommand(fixture, s, { kind: "step", actor: 0 }, 1, "bot").s;
    // A player holds T1 (null): red's write would lose the race, so it waits for them.
    const waits = sidesPlan(fixture, s, (a) => (a === 0 ? "red" : null), 1);
    expect(waits).toEqual({ cmds: [], waiting: ["red"] });
    // T1 done by the player: nobody else can move, so red plays to the end.
    s = applyCommand(fixture, s, { kind: "step", actor: 1 }, 2, "p").s;
    s = applyCommand(fixture, s, { kind: "step", actor: 1 }, 3, "p").s;
    expect(s.result).toBeNull();
    expect(sidesPlan(fixture, s, (a) => (a === 0 ? "red" : null), 3).cmds).toEqual([{ kind: "step", actor: 0 }]);
  });
});
