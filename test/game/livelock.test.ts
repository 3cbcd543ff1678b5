// The session's livelock judge looks up earlier visits of the current state by
// digest instead of replaying the whole trace each step. It must judge exactly
// as the replay (runSchedule) does: checked step by step along seeded random
// games, with rewinds, on every knob setting of every level whose goal includes
// livelock; and a step must not cost more as the trace grows.

import { describe, expect, it } from "vitest";
import { applyCommand, compiledFor, newSession, type Session } from "../../src/game/session.js";
import { knobSettings } from "../../src/level/compile.js";
import { loadCampaign, type Level } from "../../src/level/load.js";
import { runSchedule } from "../../src/sim/runner.js";
import { enabledActions } from "../../src/sim/engine.js";
import { explore } from "../../src/sim/explore.js";

const livelockLevels = loadCampaign().filter((l) => compiledFor(l, knobSettings(l)[0]).oracles.includes("livelock"));

/** A small deterministic generator (LCG), so a failure names a reproducible game. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function startWith(l: Level, knobs: Record<string, string>): Session {
  let s = newSession(l);
  for (const [knob, value] of Object.entries(knobs)) s = applyCommand(l, s, { kind: "knob", knob, value }, 0, "p").s;
  return applyCommand(l, s, { kind: "start" }, 0, "p").s;
}

/** What the replay of the whole trace says about the last step. */
function replayVerdict(l: Level, s: Session): string | null {
  const c = compiledFor(l, s.knobs);
  const run = runSchedule(c.cfg, c.machine, s.trace.map((t) => t.action), c.oracles);
  return run.violation?.oracle === "livelock" && run.violation.step === s.trace.length ? run.violation.message : null;
}

describe("the livelock judge", () => {
  it("covers at least one level", () => {
    expect(livelockLevels.map((l) => l.id)).toContain("r4-spf-trylock");
  });

  for (const l of livelockLevels) {
    for (const knobs of knobSettings(l)) {
      it(`agrees with a replay of the trace on ${l.id} ${JSON.stringify(knobs)}`, () => {
        for (let game = 0; game < 12; game++) {
          const r = rng(1000 * game + 7);
          let s = startWith(l, knobs);
          for (let i = 0; i < 150 && s.phase === "play"; i++) {
            if (s.trace.length > 3 && r() < 0.05) {
              s = applyCommand(l, s, { kind: "rewind", steps: 1 + Math.floor(r() * 3) }, i, "p").s;
              continue;
            }
            const c = compiledFor(l, s.knobs);
            const actions = enabledActions(c.cfg, s.machine);
            if (actions.length === 0) break;
            const a = actions[Math.floor(r() * actions.length)];
            const actor = "dma" in a ? ("dma" as const) : a.cpu;
            s = applyCommand(l, s, { kind: "step", actor, ...("choice" in a && a.choice !== undefined ? { choice: a.choice } : {}) }, i, "p").s;
            const expected = replayVerdict(l, s);
            const got = s.result?.oracle?.id === "livelock" ? s.result.oracle.message : null;
            expect(got ?? null, `game ${game}, step ${s.trace.length}`).toBe(expected);
          }
        }
      });

      const c = compiledFor(l, knobs);
      const found = explore(c.cfg, c.machine, { oracles: c.oracles });
      if (found.violation?.oracle !== "livelock" || !found.schedule) continue;
      it(`ends the explorer's starving schedule with a livelock, as the replay does, on ${l.id} ${JSON.stringify(knobs)}`, () => {
        let s = startWith(l, knobs);
        const schedule = found.schedule!;
        for (const [i, a] of schedule.entries()) {
          expect(s.phase, `step ${i + 1}`).toBe("play");
          s = applyCommand(l, s, { kind: "step", actor: "dma" in a ? "dma" : a.cpu, ...("choice" in a && a.choice !== undefined ? { choice: a.choice } : {}) }, i, "p").s;
        }
        const expected = replayVerdict(l, s);
        expect(expected).toMatch(/^livelock: /);
        // Livelock is this level's goal: the attempt ends on it (reason "oracle"), and the adversary wins.
        expect(s.result).toMatchObject({ outcome: "lost", reason: "oracle", oracle: { id: "livelock", message: expected, step: schedule.length } });
      });
    }
  }

  it("keeps one digest per machine of the trace, through rewinds and resets", () => {
    const l = livelockLevels[0];
    let s = startWith(l, {});
    expect(s.digests).toHaveLength(1);
    for (let i = 0; i < 40 && s.phase === "play"; i++) {
      const cpu = s.machine.cpus.findIndex((c, j) => !c.done && j === 2);
      s = applyCommand(l, s, { kind: "step", actor: cpu }, i, "p").s;
      expect(s.digests).toHaveLength(s.trace.length + 1);
    }
    s = applyCommand(l, s, { kind: "rewind", steps: 5 }, 99, "p").s;
    expect(s.digests).toHaveLength(s.trace.length + 1);
    s = applyCommand(l, s, { kind: "reset" }, 100, "p").s;
    expect(s.digests).toHaveLength(1);
    // A level that cannot livelock keeps none.
    const other = loadCampaign().find((x) => x.id === "basics-lost-update")!;
    expect(newSession(other).digests).toEqual([]);
  });
});
