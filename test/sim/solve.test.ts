// The reduction keeps every verdict, and the solved game answers for every state
// a room can reach, whether or not the reduction stored it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileLevel, knobSettings } from "../../src/level/compile.js";
import { loadCampaign, parseLevel, type Level } from "../../src/level/load.js";
import { adversaryEdge, edgeSteps, nextEdge, track } from "../../src/game/solved.js";
import { advance, enabledActions } from "../../src/sim/engine.js";
import { explore } from "../../src/sim/explore.js";
import { runSchedule } from "../../src/sim/runner.js";
import { checkOracles, watchedOracles } from "../../src/sim/oracles.js";
import { countPreemptions, fewestPreemptions } from "../../src/sim/preempt.js";
import { NODE, solve } from "../../src/sim/solve.js";
import type { Action } from "../../src/sim/types.js";
import { botPlan } from "../../src/game/bots.js";
import { applyCommand, newSession, type Command } from "../../src/game/session.js";

const campaign = loadCampaign();
const byId = (id: string) => campaign.find((l) => l.id === id)!;

/** A level with one more CPU that stores to page 0 of the first process (claims about par dropped). */
function withExtraCpu(l: Level): Level {
  const text = readFileSync(l.file, "utf8");
  const proc = l.machine.processes[0].name;
  return parseLevel(
    `${l.id}+cpu.yaml`,
    text
      .replace(/^cpus:\n/m, `cpus:\n  - { name: X9, process: ${proc}, runs: [{ store: { page: 0, value: extra } }] }\n`)
      .replace(/^par: \d+\n/m, "")
      .replace(/^preemptions: .*\n/m, ""),
  );
}

/** basics-fork-cow with a second page, and a CPU that writes it after the first. */
function withExtraPage(): Level {
  const l = byId("basics-fork-cow");
  const text = readFileSync(l.file, "utf8")
    .replace("frames: 4", "frames: 8")
    .replace("vmas: [{ start: 0, pages: 1 }]", "vmas: [{ start: 0, pages: 2 }]")
    .replace("pages: [{ page: 0, data: shared }]", "pages: [{ page: 0, data: shared }, { page: 1, data: other }]")
    .replace(/^cpus:\n/m, "cpus:\n  - { name: X9, process: A, runs: [{ store: { page: 1, value: extra } }] }\n")
    .replace(/^par: \d+\n/m, "")
    .replace(/^preemptions: .*\n/m, "");
  return parseLevel("basics-fork-cow+page.yaml", text);
}

/** A small deterministic generator (the tests' own; the simulator has none). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe("the reduction keeps every verdict", () => {
  const settings = campaign.flatMap((l) => knobSettings(l).map((k) => ({ l, k })));
  const bigger = [
    withExtraCpu(byId("basics-spinlock")),
    withExtraCpu(byId("r4-spf-deadlock")),
    withExtraCpu(byId("r8-vma-start-write")),
    withExtraCpu(byId("r4-spf-trylock")),
    withExtraPage(),
  ].flatMap((l) => knobSettings(l).map((k) => ({ l, k })));
  for (const { l, k } of [...settings, ...bigger]) {
    it(`${l.id} ${JSON.stringify(k)}: same verdict, same oracle, a replayable road, and fewer states`, () => {
      const c = compileLevel(l, k);
      const full = explore(c.cfg, c.machine, { oracles: c.oracles, reduce: false });
      const fused = explore(c.cfg, c.machine, { oracles: c.oracles });
      expect(fused.verdict).toBe(full.verdict);
      expect(fused.states).toBeLessThanOrEqual(full.states);
      expect(fused.violation?.oracle ?? null).toBe(full.violation?.oracle ?? null);
      if (fused.schedule) {
        // The road is every line, and it replays to the same oracle (a livelock's lap included).
        const r = runSchedule(c.cfg, c.machine, fused.schedule, c.oracles);
        expect(r.violation?.oracle).toBe(fused.violation!.oracle);
      }
      const s = solve(c.cfg, c.machine, { oracles: c.oracles });
      expect(s.verdict).toBe(full.verdict);
      expect(s.dist[0] >= 0).toBe(full.verdict === "reachable");
    });
  }
});

describe("the solved game", () => {
  // Seeded random play, line by line, as players do (they stop in the middle of local lines).
  for (const id of ["r5-six-steps", "r4-spf-trylock", "r1-aligned-or-batch", "r9-flush-first", "finale-versus", "r2-break-before-make"]) {
    it(`${id}: tracking a room's machine step by step lands on the node its machine settles to`, () => {
      const l = byId(id);
      for (const k of knobSettings(l)) {
        const c = compileLevel(l, k);
        const s = solve(c.cfg, c.machine, { oracles: c.oracles, keepStates: true });
        const next = rng(7 + id.length);
        for (let game = 0; game < 12; game++) {
          let m = c.machine;
          let node = 0;
          for (let n = 0; n < 80; n++) {
            const moves = enabledActions(c.cfg, m);
            if (moves.length === 0 || checkOracles(c.cfg, m, watchedOracles(c.oracles))) break;
            const a = moves[Math.floor(next() * moves.length)];
            node = track(s, c.cfg, m, node, a);
            m = advance(c.cfg, m, a);
            expect(node).toBe(s.lookup!(m));
          }
        }
      }
    });
  }

  it("distances are exact: the road of first moves reaches the race in exactly dist moves, and the root's dist matches the explorer's road", () => {
    for (const l of campaign) {
      for (const k of knobSettings(l)) {
        const c = compileLevel(l, k);
        const s = solve(c.cfg, c.machine, { oracles: c.oracles });
        if (s.dist[0] < 0 || s.lap[0] >= 0) continue;
        let node = 0;
        for (let d = s.dist[0]; d > 0; d--) {
          const e = nextEdge(s, node);
          expect(s.dist[s.to[e]]).toBe(d - 1);
          node = s.to[e];
        }
        expect(s.kind[node] === NODE.goal || s.lap[node] >= 0).toBe(true);
      }
    }
  });

  it("par: the fewest preemptions, checked against every schedule with fewer", () => {
    // basics-lost-update needs one preemption: with none, each CPU runs its increment whole.
    const c = compileLevel(byId("basics-lost-update"), {});
    const p = fewestPreemptions(solve(c.cfg, c.machine, { oracles: c.oracles }), c.cfg.cpus.length)!;
    expect(p.preemptions).toBe(1);
    expect(countPreemptions(c.cfg, c.machine, p.schedule)).toBe(1);
    for (const sched of [[0, 0, 1, 1], [1, 1, 0, 0]]) {
      const r = runSchedule(c.cfg, c.machine, sched.map((cpu): Action => ({ cpu })), c.oracles);
      expect(r.violation).toBeNull();
    }
  });

  it("the adversary wins against every unsafe fix and never against a safe one, by lookups alone", () => {
    for (const l of campaign.filter((x) => x.mode === "defend")) {
      for (const k of knobSettings(l)) {
        const c = compileLevel(l, k);
        const s = solve(c.cfg, c.machine, { oracles: c.oracles });
        let m = c.machine;
        let node = 0;
        let fired = false;
        for (let n = 0; n < 400 && !fired; n++) {
          const e = adversaryEdge(s, node, () => true);
          const moves = e === "eager" || e === null ? enabledActions(c.cfg, m).slice(0, 1) : edgeSteps(s, c.cfg, m, e);
          if (moves.length === 0) break;
          for (const a of moves) {
            node = track(s, c.cfg, m, node, a);
            m = advance(c.cfg, m, a);
            if (checkOracles(c.cfg, m, c.oracles.filter((o) => o !== "livelock"))) fired = true;
            if (fired) break;
          }
          if (s.lap[node] >= 0) fired = true; // on a livelock's lap: the room's judge sees it once the lap closes
        }
        expect(fired, `${l.id} ${JSON.stringify(k)}`).toBe(s.verdict === "reachable");
      }
    }
  });
});

describe("the adversary by lookups plays today's planner's road", () => {
  // One test per level: each has its own time budget (the planner explores at every move).
  for (const l of campaign.filter((x) => x.mode === "defend")) it(`${l.id}: on seeded games of every setting, its first move is the explorer planner's (a livelock's lap may start elsewhere, but stays on a road to it)`, () => {
    let compared = 0;
    {
      for (const k of knobSettings(l)) {
        const c = compileLevel(l, k);
        const sv = solve(c.cfg, c.machine, { oracles: c.oracles });
        const next = rng(11 + l.id.length);
        for (let game = 0; game < 4; game++) {
          let s = newSession(l);
          for (const [knob, value] of Object.entries(k)) s = applyCommand(l, s, { kind: "knob", knob, value }, 0, "p").s;
          s = applyCommand(l, s, { kind: "start" }, 0, "p").s;
          let node = 0;
          for (let n = 0; n < 25 && s.phase === "play"; n++) {
            const owns = (a: number | "dma") => a !== 0; // the player holds CPU0
            const explorer = botPlan(l, s, "adversary", owns, n)[0] ?? null;
            const lookup = botPlan(l, s, "adversary", owns, n, { s: sv, node })[0] ?? null;
            if (sv.cycle === null) expect(lookup, `${l.id} ${JSON.stringify(k)} at ${n}`).toEqual(explorer);
            else if (lookup && lookup.kind === "step" && sv.dist[node] >= 0) {
              const a: Action = lookup.actor === "dma" ? { dma: true } : lookup.choice ? { cpu: lookup.actor, choice: lookup.choice } : { cpu: lookup.actor };
              expect(sv.dist[track(sv, c.cfg, s.machine, node, a)]).toBeGreaterThanOrEqual(0);
            }
            compared++;
            const moves = enabledActions(c.cfg, s.machine);
            if (moves.length === 0) break;
            const a = moves[Math.floor(next() * moves.length)];
            node = track(sv, c.cfg, s.machine, node, a);
            const cmd: Command = "dma" in a ? { kind: "step", actor: "dma" } : a.choice ? { kind: "step", actor: a.cpu, choice: a.choice } : { kind: "step", actor: a.cpu };
            s = applyCommand(l, s, cmd, 0, "p").s;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(20);
    // A correctness check, not a timing one: the planner explores at every move, slow on a loaded machine.
  }, 120_000);
});
