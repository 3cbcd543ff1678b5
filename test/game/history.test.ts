// The attempt's machine history: a checkpoint every CHECKPOINT_EVERY steps, and
// any other machine rebuilt by replaying the trace from the nearest one. Every
// machine it gives must be the one a straightforward replay of the trace from
// the initial machine gives (what the old one-machine-per-step history held).
import { describe, expect, it } from "vitest";
import { replayLog, type LogEntry } from "../../src/game/replay.js";
import { applyCommand, CHECKPOINT_EVERY, compiledFor, current, GameError, machineAt, newSession, type Command, type Session } from "../../src/game/session.js";
import { gameView } from "../../src/game/view.js";
import { findLevel, loadCampaign, type Level } from "../../src/level/load.js";
import { step } from "../../src/sim/engine.js";
import type { TraceEntry } from "../../src/protocol/server.js";
import type { Machine } from "../../src/sim/types.js";

const campaign = loadCampaign();
// The load benchmark's level: three CPUs, a DMA device, menus, and attempts of ~80 steps.
const lv: Level = findLevel(campaign, "r5-six-steps")!;
const K = CHECKPOINT_EVERY;

/** The next `n` step commands from `s`: runnable actors round-robin, a menu's choices in turn. */
function nextSteps(s: Session, n: number, rr = 0): Command[] {
  const actors: (number | "dma")[] = [...current(s).cpus.map((_, i) => i), ...(lv.device ? ["dma" as const] : [])];
  const cmds: Command[] = [];
  let choices = 0;
  while (cmds.length < n && !s.result) {
    let moved = false;
    for (let t = 0; t < actors.length && !moved; t++) {
      const actor = actors[rr++ % actors.length];
      const view = actor === "dma" ? null : gameView(lv, s, "T-1", null).cpus[actor];
      const cmd: Command = view?.state === "menu" && view.choices?.length ? { kind: "step", actor, choice: view.choices[choices++ % view.choices.length] } : { kind: "step", actor };
      try {
        s = applyCommand(lv, s, cmd, 0, "p1").s;
        cmds.push(cmd);
        moved = true;
      } catch (e) {
        if (!(e instanceof GameError)) throw e;
      }
    }
    if (!moved) break;
  }
  return cmds;
}

/** The step command that produced a trace entry. */
const stepOf = (t: TraceEntry): Command => {
  const a = t.action;
  return "dma" in a ? { kind: "step", actor: "dma" } : a.choice === undefined ? { kind: "step", actor: a.cpu } : { kind: "step", actor: a.cpu, choice: a.choice };
};

const apply = (s: Session, cmds: Command[], t0 = 1000): Session => cmds.reduce((x, c, i) => applyCommand(lv, x, c, t0 + i * 100, "p1").s, s);

/** The machine after `i` steps, by folding step() over the trace from the initial machine. */
function straight(s: Session, i: number): Machine {
  const c = compiledFor(lv, s.knobs);
  return s.trace.slice(0, i).reduce((m, t) => step(c.cfg, m, t.action).m, c.machine);
}

const N = 3 * K + 5;
const started = apply(newSession(lv), [{ kind: "start" }]);
const long = apply(started, nextSteps(started, N));

describe("machine history", () => {
  it("the workload runs past three checkpoints without the attempt ending", () => {
    expect(long.trace).toHaveLength(N);
    expect(long.result).toBeNull();
  });

  it("keeps a checkpoint every CHECKPOINT_EVERY steps and the current machine, and each is the straightforward replay's", () => {
    expect(long.checkpoints).toHaveLength(Math.floor(N / K) + 1);
    expect(long.checkpoints[0]).toBe(compiledFor(lv, long.knobs).machine);
    long.checkpoints.forEach((m, j) => expect(m).toEqual(straight(long, j * K)));
    expect(current(long)).toEqual(straight(long, N));
  });

  it("machineAt gives the straightforward replay's machine after every number of steps", () => {
    for (let i = 0; i <= N; i++) expect(machineAt(lv, long, i)).toEqual(straight(long, i));
    expect(() => machineAt(lv, long, N + 1)).toThrow(RangeError);
    expect(() => machineAt(lv, long, -1)).toThrow(RangeError);
  });

  it("rewinds to either side of each checkpoint give the replayed machine, and play on as if the undone steps never ran", () => {
    const targets = [0, 1, K - 1, K, K + 1, 2 * K - 1, 2 * K, 2 * K + 1, 3 * K - 1, 3 * K, 3 * K + 1, N - 1];
    for (const to of targets) {
      const r = applyCommand(lv, long, { kind: "rewind", steps: N - to }, 5000, "p1");
      expect(r.event).toEqual({ kind: "rewind", steps: N - to, to });
      const s = r.s;
      expect(s.trace).toEqual(long.trace.slice(0, to));
      expect(s.checkpoints).toHaveLength(Math.floor(to / K) + 1);
      expect(current(s)).toEqual(straight(long, to));
      for (let i = 0; i <= to; i++) expect(machineAt(lv, s, i)).toEqual(straight(long, i));
      // The same session as one that only ever played the first `to` steps (but for the counts).
      const fresh = apply(started, long.trace.slice(0, to).map(stepOf));
      const history = (x: Session) => ({ checkpoints: x.checkpoints, machine: x.machine, trace: x.trace });
      expect(history(s)).toEqual(history(fresh));
      // Playing on across the next checkpoint keeps the two the same.
      const more = nextSteps(s, K + 2);
      const a = apply(s, more);
      const b = apply(fresh, more);
      expect(history(a)).toEqual(history(b));
      for (let i = 0; i <= a.trace.length; i += 3) expect(machineAt(lv, a, i)).toEqual(straight(a, i));
    }
  });

  it("a rewind of a rewound session, and a reset, go back the same way", () => {
    let s = applyCommand(lv, long, { kind: "rewind", steps: 7 }, 0, "p1").s;
    s = apply(s, nextSteps(s, 9, 1));
    s = applyCommand(lv, s, { kind: "rewind", steps: s.trace.length - (K + 3) }, 0, "p1").s;
    expect(s.trace).toHaveLength(K + 3);
    expect(current(s)).toEqual(straight(s, K + 3));
    expect(s.rewinds).toBe(2);
    const r = applyCommand(lv, long, { kind: "reset" }, 0, "p1").s;
    expect(r.phase).toBe("setup");
    expect(r.trace).toEqual([]);
    expect(r.checkpoints).toEqual([compiledFor(lv, r.knobs).machine]);
    expect(current(r)).toBe(compiledFor(lv, r.knobs).machine);
  });

  it("a replay of a long log with rewinds across checkpoints rebuilds the same session", () => {
    const cmds: Command[] = [{ kind: "start" }, ...nextSteps(started, 2 * K + 3)];
    let live = apply(newSession(lv), cmds);
    const back: Command = { kind: "rewind", steps: K + 1 };
    live = applyCommand(lv, live, back, 1000 + cmds.length * 100, "p1").s;
    cmds.push(back);
    const more = nextSteps(live, K + 4, 2);
    cmds.push(...more);
    live = apply(newSession(lv), cmds);
    const log: LogEntry[] = cmds.map((cmd, i) => ({ seq: i + 1, at: 1000 + i * 100, by: "p1", cmd }));
    const replayed = replayLog(lv, log);
    expect(replayed.failed).toBeNull();
    expect(replayed.s).toEqual(live);
    expect(live.trace).toHaveLength(2 * K + 3 - (K + 1) + more.length);
    expect(current(live)).toEqual(straight(live, live.trace.length));
  });
});
