// The pure room core: commands folded over a session, judged, scored, replayed.
import { describe, expect, it } from "vitest";
import { botMove, botPlan } from "../../src/game/bots.js";
import { factsOf, replayLog, type LogEntry } from "../../src/game/replay.js";
import { score, SCORING } from "../../src/game/score.js";
import { applyCommand, current, GameError, newSession, type Command, type Session } from "../../src/game/session.js";
import { gameView } from "../../src/game/view.js";
import { compileLevel, goalOracles, knobSettings, expectedVerdict } from "../../src/level/compile.js";
import { findLevel, loadCampaign, type Level } from "../../src/level/load.js";
import { explore } from "../../src/sim/explore.js";
import { fixtureLevel } from "../helpers.js";

const campaign = loadCampaign();
const level = (id: string): Level => findLevel(campaign, id)!;

function run(lv: Level, cmds: Command[], s = newSession(lv), t0 = 1000): Session {
  cmds.forEach((c, i) => (s = applyCommand(lv, s, c, t0 + i * 100, "p1").s));
  return s;
}
const steps = (...cpus: (number | "dma")[]): Command[] => cpus.map((actor) => ({ kind: "step", actor }));
const refused = (f: () => unknown, code: string) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GameError);
    expect((e as GameError).code).toBe(code);
    return;
  }
  throw new Error(`expected GameError ${code}`);
};

describe("session", () => {
  const lost = level("basics-lost-update");

  it("a hunt won at par scores the base; the result records steps, preemptions, par, time", () => {
    const s = run(lost, steps(1, 0, 0, 1));
    expect(s.phase).toBe("over");
    expect(s.result).toMatchObject({ outcome: "won", reason: "oracle", steps: 4, par: 4, preemptions: 1, parPreemptions: 1, score: SCORING.base, durationMs: 300, winner: null });
    expect(s.trace.map((e) => e.preempt ?? false)).toEqual([false, true, false, false]);
    // Switching back and forth costs a preemption each time the CPU left could still run.
    const twice = run(lost, steps(0, 1, 0, 1));
    expect(twice.result).toMatchObject({ outcome: "won", preemptions: 2, score: SCORING.base - SCORING.perPreemptionOverPar });
    expect(s.result!.oracle).toMatchObject({ id: "lost-update", step: 4 });
    refused(() => applyCommand(lost, s, { kind: "step", actor: 0 }, 9999, "p1"), "game-over");
  });

  it("a hunt where every CPU finishes without the race is lost and scores 0", () => {
    const s = run(lost, steps(0, 0, 1, 1));
    expect(s.result).toMatchObject({ outcome: "lost", reason: "finished", score: 0 });
  });

  it("refusals leave the session untouched: a finished CPU, a bad CPU, a knob on a hunt level", () => {
    const s = run(lost, steps(0, 0));
    const before = JSON.stringify(s);
    refused(() => applyCommand(lost, s, { kind: "step", actor: 0 }, 0, "p1"), "not-runnable");
    refused(() => applyCommand(lost, s, { kind: "step", actor: 7 }, 0, "p1"), "bad-action");
    refused(() => applyCommand(lost, s, { kind: "step", actor: "dma" }, 0, "p1"), "bad-action");
    refused(() => applyCommand(lost, s, { kind: "knob", knob: "lock", value: "none" }, 0, "p1"), "knob-locked");
    expect(JSON.stringify(s)).toBe(before);
  });

  it("rewind undoes steps and counts; reset goes back to setup; both cost points", () => {
    let s = run(lost, steps(0, 0));
    s = applyCommand(lost, s, { kind: "rewind", steps: 1 }, 0, "p1").s;
    expect(s.trace).toHaveLength(1);
    expect(current(s)).toEqual(current(run(lost, steps(0))));
    s = run(lost, [{ kind: "rewind", steps: 99 }], s);
    expect(s.trace).toHaveLength(0);
    expect(s.rewinds).toBe(2);
    refused(() => applyCommand(lost, s, { kind: "rewind", steps: 1 }, 0, "p1"), "nothing-to-rewind");
    s = run(lost, [...steps(1), { kind: "reset" }, ...steps(1, 0, 0, 1)], s);
    expect(s.result).toMatchObject({ outcome: "won", rewinds: 2, resets: 1 });
    expect(s.moves).toBe(7);
    expect(s.result!.score).toBe(SCORING.base - 2 * SCORING.perRewind - SCORING.perReset);
  });

  it("hints: the written ones first, then the explorer's next move; instructor hints are free", () => {
    let s = newSession(lost);
    for (let i = 0; i < lost.hints.length; i++) {
      const r = applyCommand(lost, s, { kind: "hint", free: i === 0 }, 0, "p1");
      expect(r.event).toEqual({ kind: "hint", index: i, text: lost.hints[i], free: i === 0 });
      s = r.s;
    }
    expect(s.hintsUsed).toBe(lost.hints.length - 1);
    s = run(lost, steps(0), s);
    const r = applyCommand(lost, s, { kind: "hint" }, 0, "p1");
    expect(r.event).toMatchObject({ kind: "hint", text: expect.stringMatching(/3 steps away\. Its next move: step CPU1 \(T1\)/) });
    s = run(lost, steps(1, 0, 1), r.s);
    expect(s.result!.score).toBe(SCORING.base - lost.hints.length * SCORING.perHint - SCORING.perPreemptionOverPar);
  });

  it("a defend level: knobs only before play; the safe fix wins, the unsafe one loses to a counterexample", () => {
    const lv = level("basics-spinlock");
    let s = run(lv, [{ kind: "knob", knob: "lock", value: "spin_lock" }]);
    expect(s.knobs).toEqual({ lock: "spin_lock" });
    refused(() => applyCommand(lv, s, { kind: "knob", knob: "lock", value: "bogus" }, 0, "p1"), "no-such-knob");
    refused(() => applyCommand(lv, s, { kind: "knob", knob: "nope", value: "none" }, 0, "p1"), "no-such-knob");
    s = run(lv, [{ kind: "start" }], s);
    refused(() => applyCommand(lv, s, { kind: "knob", knob: "lock", value: "none" }, 0, "p1"), "knob-locked");
    refused(() => applyCommand(lv, s, { kind: "start" }, 0, "p1"), "already-started");
    // Run CPU0 to the end, then CPU1: nothing fires and the fix is sound.
    for (let i = 0; i < 40 && !s.result; i++) s = applyCommand(lv, s, { kind: "step", actor: current(s).cpus[0].done ? 1 : 0 }, 0, "p1").s;
    expect(s.result).toMatchObject({ outcome: "won", reason: "finished", counterexample: null, par: null, score: SCORING.base });

    // No lock, played politely: every CPU finishes, but the explorer's schedule breaks it.
    const t = run(lv, steps(0, 0, 1, 1));
    expect(t.result).toMatchObject({ outcome: "lost", reason: "unsafe-fix", counterexample: "0 1 0 1", score: 0 });
  });

  it("versus: red wins when the race happens, blue when every CPU finishes safely", () => {
    expect(run(lost, steps(0, 1, 0, 1), newSession(lost, { versus: true })).result!.winner).toBe("red");
    expect(run(lost, steps(0, 0, 1, 1), newSession(lost, { versus: true })).result!.winner).toBe("blue");
  });

  it("menus: a choice is part of the step, and the view lists the choices", () => {
    const lv = fixtureLevel({
      cpus: `  - name: A1
    process: A
    runs: [{ choose: [fork, { store: { page: 0, value: app }, label: write }] }]
  - { name: B, process: B, runs: [exit] }`,
      goal: "lost-user-write",
    });
    const s0 = newSession(lv);
    expect(gameView(lv, s0, "X-1", null).cpus[0]).toMatchObject({ state: "menu", choices: ["fork", "write"] });
    refused(() => applyCommand(lv, s0, { kind: "step", actor: 0 }, 0, "p1"), "bad-choice");
    const r = applyCommand(lv, s0, { kind: "step", actor: 0, choice: "fork" }, 0, "p1");
    expect(r.event).toMatchObject({ kind: "step", entry: { choice: "fork", action: { cpu: 0, choice: "fork" } } });
  });

  it("a replay of the log rebuilds the same session, bit for bit", () => {
    const lv = level("basics-spinlock");
    const cmds: Command[] = [{ kind: "knob", knob: "lock", value: "spin_lock" }, ...steps(0, 1, 1), { kind: "hint" }, { kind: "rewind", steps: 2 }, ...steps(0, 0)];
    const log: LogEntry[] = cmds.map((cmd, i) => ({ seq: i + 1, at: 1000 + i * 100, by: "p1", cmd }));
    const live = run(lv, cmds);
    const replayed = replayLog(lv, log);
    expect(replayed.failed).toBeNull();
    expect(replayed.s).toEqual(live);
    expect(replayed.events.map((e) => e.kind)).toEqual(cmds.map((c) => c.kind));
    // A log the level no longer accepts stops where it breaks, and says so.
    const broken = replayLog(lv, [...log, { seq: 99, at: 0, by: "p1", cmd: { kind: "step", actor: 5 } }]);
    expect(broken.failed?.entry.seq).toBe(99);
    expect(broken.s).toEqual(live);
  });
});

describe("replays do not explore", () => {
  it("judge a defend attempt's end by the stored result's proof (factsOf), not by exploring again", () => {
    const lv = level("basics-spinlock");
    // No lock, played in order (no race in this play): the attempt ends, and the judge asks for the proof.
    const cmds: Command[] = [{ kind: "knob", knob: "lock", value: "none" }, { kind: "start" }, ...steps(0, 0, 1, 1)];
    const log: LogEntry[] = cmds.map((cmd, i) => ({ seq: i + 1, at: 1000 + i * 100, by: "p1", cmd }));
    const live = run(lv, cmds);
    expect(live.result).toMatchObject({ outcome: "lost", reason: "unsafe-fix" });
    expect(live.result!.counterexample).toBeTruthy();
    // The stored result's proof gives back the live result, counterexample and all.
    expect(replayLog(lv, log, { facts: factsOf(live.result) }).s.result).toEqual(live.result);
    // And it is that proof the replay used: told the fix held, the same log is judged a win.
    const told = replayLog(lv, log, { facts: factsOf({ ...live.result!, outcome: "won", reason: "finished", counterexample: null }) });
    expect(told.s.result).toMatchObject({ outcome: "won", reason: "finished" });
  });
});

describe("score", () => {
  it("hunt: minus per preemption over par, hint, rewind, reset, with a floor for any win; losses score 0", () => {
    const base = { mode: "hunt" as const, won: true, preemptions: 3, parPreemptions: 1, hintsUsed: 1, rewinds: 2, resets: 1 };
    expect(score(base)).toBe(1000 - 200 - 100 - 50 - 50);
    expect(score({ ...base, preemptions: 0 })).toBe(1000 - 100 - 50 - 50);
    expect(score({ ...base, preemptions: 50 })).toBe(SCORING.winFloor);
    expect(score({ ...base, won: false })).toBe(0);
    expect(score({ ...base, mode: "defend", parPreemptions: null })).toBe(1000 - 100 - 50 - 50);
  });
});

describe("bots", () => {
  const spin = level("basics-spinlock");
  const started = (knob: string) => run(spin, [{ kind: "knob", knob: "lock", value: knob }, { kind: "start" }]);
  const botOnly1 = (a: number | "dma") => a === 1;

  it("manual never moves, and no bot moves before play starts", () => {
    expect(botMove(spin, started("none"), "manual", () => true, 0)).toBeNull();
    expect(botMove(spin, newSession(spin), "eager", () => true, 0)).toBeNull();
  });

  it("eager steps the runnable actors it owns, taking turns", () => {
    const s = started("spin_lock");
    expect(botMove(spin, s, "eager", () => true, 0)).toEqual({ kind: "step", actor: 0 });
    expect(botMove(spin, s, "eager", () => true, 1)).toEqual({ kind: "step", actor: 1 });
    expect(botMove(spin, s, "eager", botOnly1, 0)).toEqual({ kind: "step", actor: 1 });
    expect(botMove(spin, s, "eager", () => false, 0)).toBeNull();
  });

  it("adversary against no lock: it reads early, then holds its write until the player's read makes it fatal", () => {
    let s = started("none");
    const bot = (x: Session) => botMove(spin, x, "adversary", botOnly1, 0);
    expect(bot(s)).toEqual({ kind: "step", actor: 1 }); // read 0 early
    s = run(spin, [bot(s)!], s);
    // Writing now would let the player read 1 and write 2: the adversary waits.
    expect(bot(s)).toBeNull();
    s = run(spin, steps(0), s); // the player reads 0 too
    s = run(spin, [bot(s)!], s); // and now the bot writes
    s = run(spin, steps(0), s);
    expect(s.result).toMatchObject({ outcome: "lost", reason: "oracle" });
  });

  it("adversary against a sound fix finds no race and simply plays, so the level can finish", () => {
    let s = started("spin_lock");
    for (let i = 0; i < 60 && !s.result; i++) {
      const m = botMove(spin, s, "adversary", () => true, i);
      expect(m).not.toBeNull();
      s = run(spin, [m!], s);
    }
    expect(s.result).toMatchObject({ outcome: "won", reason: "finished" });
  });

  it("adversary driving every CPU of an unsafe fix reaches the violation in the explorer's shortest number of steps", () => {
    let s = started("none");
    const c = compileLevel(spin, { lock: "none" });
    const shortest = explore(c.cfg, c.machine, { oracles: c.oracles }).schedule!.length;
    for (let i = 0; i < 20 && !s.result; i++) s = run(spin, [botMove(spin, s, "adversary", () => true, i)!], s);
    expect(s.result).toMatchObject({ outcome: "lost", steps: shortest });
  });

  it("adversary following its plan whole: a livelock fix loses to a fair lap (every campaign setting expecting one)", () => {
    const settings = campaign.flatMap((lv) => (lv.mode === "defend" && goalOracles(lv).includes("livelock") ? knobSettings(lv).map((k) => ({ lv, k })) : []));
    const expecting = settings.filter(({ lv, k }) => expectedVerdict(lv, k) === "reachable");
    expect(expecting.length).toBeGreaterThan(0);
    for (const { lv, k } of expecting) {
      let s = newSession(lv);
      for (const [knob, value] of Object.entries(k)) s = applyCommand(lv, s, { kind: "knob", knob, value }, 0, "p1").s;
      s = applyCommand(lv, s, { kind: "start" }, 0, "p1").s;
      let plan: Command[] = [];
      for (let i = 0; i < 300 && !s.result; i++) {
        if (plan.length === 0) plan = botPlan(lv, s, "adversary", () => true, i);
        s = applyCommand(lv, s, plan.shift()!, i, "bot").s;
      }
      expect(s.result, `${lv.id} ${JSON.stringify(k)}`).toMatchObject({ outcome: "lost", reason: expect.stringMatching(/^(oracle|livelock|deadlock)$/) });
    }
  });
});

