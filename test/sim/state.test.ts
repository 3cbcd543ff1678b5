// The explorer's fast paths must not change a state: cloneMachine() is a deep,
// disjoint copy equal to the original, and advance() (the step without its
// event) reaches exactly the machine step() reaches. Checked on the states a
// breadth-first walk meets in every level and knob setting of the campaign.

import { describe, expect, it } from "vitest";
import { compileLevel, knobSettings } from "../../src/level/compile.js";
import { loadCampaign } from "../../src/level/load.js";
import { advance, enabledActions, step } from "../../src/sim/engine.js";
import { cloneMachine, hashMachine } from "../../src/sim/state.js";
import { StateSet } from "../../src/sim/stateset.js";
import type { Machine } from "../../src/sim/types.js";

/** Up to `max` distinct states of a compiled level, breadth first. */
function statesOf(cfg: Parameters<typeof enabledActions>[0], m0: Machine, max: number): Machine[] {
  const seen = new Set([hashMachine(m0)]);
  const out = [m0];
  for (let i = 0; i < out.length && out.length < max; i++) {
    for (const a of enabledActions(cfg, out[i])) {
      const m = step(cfg, out[i], a).m;
      const h = hashMachine(m);
      if (seen.has(h)) continue;
      seen.add(h);
      out.push(m);
    }
  }
  return out;
}

/** Every object and array reachable from x. */
function objectsOf(x: unknown, acc = new Set<object>()): Set<object> {
  if (x !== null && typeof x === "object" && !acc.has(x)) {
    acc.add(x);
    for (const v of Object.values(x)) objectsOf(v, acc);
  }
  return acc;
}

describe("the explorer's fast paths", () => {
  for (const level of loadCampaign()) {
    it(`clone and advance agree with the reference on ${level.id}`, () => {
      for (const knobs of knobSettings(level)) {
        const c = compileLevel(level, knobs);
        for (const m of statesOf(c.cfg, c.machine, 150)) {
          const copy = cloneMachine(m);
          expect(hashMachine(copy)).toBe(hashMachine(m));
          const mine = objectsOf(m);
          for (const o of objectsOf(copy)) expect(mine.has(o)).toBe(false);
          for (const a of enabledActions(c.cfg, m)) expect(hashMachine(advance(c.cfg, m, a))).toBe(hashMachine(step(c.cfg, m, a).m));
        }
      }
    });
  }

  it("the state set merges exactly the equal states", () => {
    const level = loadCampaign().find((l) => l.id === "r5-six-steps")!;
    const c = compileLevel(level, {});
    const states = statesOf(c.cfg, c.machine, 400);
    const set = new StateSet();
    states.forEach((m, i) => expect(set.add(m)).toEqual({ id: i, fresh: true }));
    states.forEach((m, i) => expect(set.add(cloneMachine(m))).toEqual({ id: i, fresh: false }));
    expect(set.size).toBe(states.length);
  });
});
