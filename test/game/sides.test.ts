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

/**
 * A solo game on a versus level: the player holds `mine` and steps the first of
 * them that can run whenever the bots wait (or every other turn); the bots play
 * the rest by their sides. Returns the session and the slowest bot decision (ms).
 */
function solo(level: Level, mine: number[]): { s: Session; slowest: number } {
  let s = started(level);
  const side = (a: number | "dma"): Side | null => (a === "dma" ? "red" : mine.includes(a) ? null : (level.cpus[a].side as Side));
  let slowest = 0;
  for (let n = 0; n < 400 && !s.result; n++) {
    const t0 = performance.now();
    const plan = sidesPlan(level, s, side, n);
    slowest = Math.max(slowest, performance.now() - t0);
    const runnable = mine.filter((c) => s.machine.cpus[c] && ["ready", "menu"].includes(cpuState(level, s, c)));
    // The player moves when the bots wait, and otherwise every third turn.
    const playerMoves = runnable.length > 0 && (plan.cmds.length === 0 || n % 3 === 2);
    const cmd = playerMoves ? ({ kind: "step", actor: runnable[0] } as const) : plan.cmds[0];
    expect(cmd, `turn ${n}: nobody moves`).toBeDefined();
    s = applyCommand(level, s, cmd!, n, playerMoves ? "p" : "bot").s;
  }
  return { s, slowest };
}

import { gameView } from "../../src/game/view.js";
const cpuState = (level: Level, s: Session, c: number) => gameView(level, s, "X-1", null).cpus[c].state;

describe("a solo game on finale-versus ends against either side's bots", () => {
  it("the player on blue (A1) against red's bots (A2, B)", () => {
    const { s, slowest } = solo(finale, [0]);
    expect(s.result?.winner).not.toBeNull();
    expect(slowest).toBeLessThan(5_000);
  });

  it("the player on red (A2, B) against blue's guard (A1)", () => {
    const { s, slowest } = solo(finale, [1, 2]);
    expect(s.result?.winner).not.toBeNull();
    expect(slowest).toBeLessThan(5_000);
  });
});
