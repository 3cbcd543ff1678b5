// Every step declared local touches only its own CPU, in every reachable state
// of every campaign level setting (the recorder sees every property access).
import { describe, expect, it } from "vitest";
import { compileLevel, knobSettings } from "../../src/level/compile.js";
import { loadCampaign } from "../../src/level/load.js";
import { advance } from "../../src/sim/engine.js";
import { checkFootprints, normalize, recordFootprint, settle } from "../../src/sim/footprint.js";
import { getPath } from "../../src/sim/path.js";
import { hashMachine } from "../../src/sim/state.js";

const campaign = loadCampaign();

describe("footprints", () => {
  for (const level of campaign) {
    it(`${level.id}: every local step touches only its own CPU, in every reachable state of every setting`, () => {
      let checked = 0;
      for (const knobs of knobSettings(level)) {
        const c = compileLevel(level, knobs);
        const r = checkFootprints(c.cfg, c.machine);
        expect(r.violations).toEqual([]);
        checked += r.checked;
      }
      // The declarations are used on this level (fork, faults, GUP and unmap all have local lines).
      if (level.race !== "basics") expect(checked).toBeGreaterThan(0);
    });
  }

  it("catches a step declared local that reads shared state", () => {
    const level = campaign.find((l) => l.id === "basics-lost-update")!;
    const c = compileLevel(level, {});
    const steps = getPath("counter_inc_unlocked").steps;
    const i = steps.findIndex((s) => !s.local);
    steps[i].local = true;
    try {
      const r = checkFootprints(c.cfg, c.machine);
      expect(r.violations.length).toBeGreaterThan(0);
      expect(r.violations[0].path).toBe("counter_inc_unlocked");
      expect(r.violations[0].touched.some((t) => t.startsWith("vars."))).toBe(true);
    } finally {
      delete steps[i].local;
    }
  });

  it("the recorder only observes: a recorded step gives the same machine as an unrecorded one", () => {
    const level = campaign.find((l) => l.id === "r5-six-steps")!;
    const c = compileLevel(level, {});
    let m = c.machine;
    for (let k = 0; k < 30; k++) {
      const cpu = k % 3 === 2 ? 1 : 0;
      if (m.cpus[cpu].done) break;
      expect(hashMachine(recordFootprint(c.cfg, m, cpu).m)).toBe(hashMachine(advance(c.cfg, m, { cpu })));
      m = advance(c.cfg, m, { cpu });
    }
  });

  it("settling is idempotent and leaves every runnable CPU at a line that is not local", () => {
    const level = campaign.find((l) => l.id === "r5-six-steps")!;
    const c = compileLevel(level, {});
    let m = c.machine;
    for (let k = 0; k < 12; k++) m = advance(c.cfg, m, { cpu: 1 });
    const n = normalize(c.cfg, m);
    expect(hashMachine(normalize(c.cfg, n.m).m)).toBe(hashMachine(n.m));
    for (let i = 0; i < n.m.cpus.length; i++) expect(settle(c.cfg, n.m, i).n).toBe(0);
  });
});
