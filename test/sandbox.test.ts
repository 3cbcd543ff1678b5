// The sandbox (issue 18, part 4) below the server: the catalogue describes every operation the
// format offers; a scenario becomes a level through the level loader (its refusals are the
// loader's own messages); the explorer's per-oracle preemption tables agree with the fewest
// preemptions verify finds; a saved scenario passes faultline lint.
import { describe, expect, it } from "vitest";
import { compileLevel } from "../src/level/compile.js";
import { lintText } from "../src/level/lint.js";
import { LevelError, loadCampaign, OP_ARGS, OP_KINDS } from "../src/level/load.js";
import { SANDBOX_LIMITS, SANDBOX_ORACLES, sandboxCatalogue, sandboxId, sandboxLevel, sandboxText, SandboxError, type SandboxScenario } from "../src/level/sandbox.js";
import { GENERATIONS } from "../src/level/schema.js";
import { reachAt, reachTables } from "../src/game/solved.js";
import { advance } from "../src/sim/engine.js";
import { ORACLES } from "../src/sim/oracles.js";
import { fewestPreemptions, NO_ROAD, preemptionTable } from "../src/sim/preempt.js";
import { NODE, solve } from "../src/sim/solve.js";
import type { Action } from "../src/sim/types.js";
import { track } from "../src/game/solved.js";

const cat = sandboxCatalogue();
const op = (o: string, args?: Record<string, number | boolean | string>) => ({ op: o, ...(args ? { args } : {}) });
const refusal = (sc: SandboxScenario): string => {
  try {
    sandboxLevel(sc);
  } catch (e) {
    if (e instanceof LevelError || e instanceof SandboxError) return e.message;
    throw e;
  }
  throw new Error("the scenario loaded");
};

describe("the sandbox catalogue", () => {
  it("offers every generation, both machines, and every operation of the format with its arguments and words", () => {
    expect(cat.generations.map((g) => g.id)).toEqual([...GENERATIONS]);
    expect(cat.generations.find((g) => g.id === "4.19")!.text).toBe("4.19: a write fault reuses a page mapped once (mapcount)");
    expect(cat.generations.find((g) => g.id === "6.5")!.text).toContain("per-VMA locks, fork write-locks each VMA");
    expect(cat.machines.map((m) => m.id)).toEqual(["x86", "arm64"]);
    expect(cat.operations.map((o) => o.op)).toEqual(OP_KINDS);
    for (const o of cat.operations) {
      expect(o.text.length, o.op).toBeGreaterThan(20);
      expect(o.args.map((a) => a.name)).toEqual(Object.keys(OP_ARGS[o.op as keyof typeof OP_ARGS]));
    }
    expect(cat.operations.find((o) => o.op === "pin_user_pages")!.since).toBe("5.6");
    expect(cat.operations.find((o) => o.op === "store")!.since).toBeUndefined();
    // Every invariant watches; the tutorial's milestones do not (they would end every hunt).
    expect(cat.oracles.map((o) => o.id)).toEqual(SANDBOX_ORACLES);
    expect(SANDBOX_ORACLES).not.toContain("cow-copied");
    expect(SANDBOX_ORACLES).toContain("deadlock");
    expect(cat.limits).toEqual(SANDBOX_LIMITS);
  });
});

describe("a scenario becomes a level", () => {
  it("the example is the vmsplice attack: a hunt watching every invariant, with the same id for the same scenario", () => {
    const l = sandboxLevel(cat.example);
    expect(l.id).toMatch(/^sandbox-[0-9a-f]{10}$/);
    expect(sandboxId({ ...cat.example })).toBe(l.id);
    expect(sandboxId({ ...cat.example, machine: "arm64" })).not.toBe(l.id);
    expect(l).toMatchObject({ mode: "hunt", race: "mixed", source: "sandbox", kernel: { generation: "4.19" } });
    expect(l.goal.oracle).toEqual(SANDBOX_ORACLES);
    expect(l.cpus.map((c) => [c.name, c.process])).toEqual([["P1", "P"], ["C1", "C"]]);
    expect(l.intro).toContain("C1 (in C): vmsplice(page=0), munmap(page=0, pages=1)");
  });

  it("refuses what the format refuses, with the loader's own words and the scenario's key", () => {
    const pin419 = { ...cat.example, cpus: [{ process: "P", runs: [op("pin_user_pages", { page: 0, write: true })] }] };
    expect(refusal(pin419)).toBe("cpus[0].runs[0].pin_user_pages: pin_user_pages() and FOLL_PIN arrived in 5.6 (eddb1c228f79); this level runs kernel 4.19");
    expect(refusal({ ...cat.example, child: "none" })).toBe("cpus[1].process: no process called C (expected one of: P)");
    const exitShared = { ...cat.example, cpus: [{ process: "C", runs: [op("exit")] }, { process: "C", runs: [op("load", { page: 0 })] }] };
    expect(refusal(exitShared)).toMatch(/^cpus\[0\]\.runs\[0\]: exit tears down the whole mm, so its process may have only this CPU \(C has 2\)/);
    expect(refusal({ ...cat.example, cpus: [{ process: "P", runs: [op("teleport")] }] })).toMatch(/^cpus\[0\]\.runs\[0\]: unknown operation "teleport"/);
    expect(refusal({ ...cat.example, generation: "7.0" })).toMatch(/^kernel\.generation: /);
    // The device needs a pin: the loader says so.
    expect(refusal({ ...cat.example, device: true })).toBe("device.dma: no CPU ever pins a page for the device (pin_user_pages)");
  });

  it("refuses what breaks the sandbox's own bounds: the limits and each argument's values", () => {
    const many = Array.from({ length: SANDBOX_LIMITS.cpus + 1 }, () => ({ process: "P", runs: [op("load", { page: 0 })] }));
    expect(refusal({ ...cat.example, cpus: many })).toBe(`cpus: a sandbox scenario has at most ${SANDBOX_LIMITS.cpus} CPUs (this one has ${SANDBOX_LIMITS.cpus + 1})`);
    const long = [{ process: "P", runs: Array.from({ length: SANDBOX_LIMITS.opsPerCpu + 1 }, () => op("load", { page: 0 })) }];
    expect(refusal({ ...cat.example, cpus: long })).toBe(`cpus[0].runs: a sandbox CPU runs at most ${SANDBOX_LIMITS.opsPerCpu} operations (this one runs ${SANDBOX_LIMITS.opsPerCpu + 1})`);
    expect(refusal({ ...cat.example, cpus: [{ process: "P", runs: [op("load", { page: 7 })] }] })).toBe('cpus[0].runs[0].load.page: the sandbox offers 0, 1, 4 (got 7)');
    expect(refusal({ ...cat.example, memory: "huge" })).toBe('memory: no memory "huge" in the sandbox (offered: one-page, two-pages, lru-ref, uffd-wp, large-folio)');
  });

  it("every memory, child and machine the catalogue offers loads with a CPU that stores", () => {
    for (const memory of cat.memories) {
      for (const child of cat.children) {
        for (const machine of cat.machines) {
          const gen = memory.id === "uffd-wp" ? "5.12" : "6.x";
          const sc: SandboxScenario = { generation: gen, machine: machine.id, memory: memory.id, child: child.id, cpus: [{ process: "P", tlb: true, runs: [op("store", { page: 0, value: "x" })] }] };
          expect(() => compileLevel(sandboxLevel(sc)), `${memory.id} ${child.id} ${machine.id}`).not.toThrow();
        }
      }
    }
  });
});

describe("the explorer's tables", () => {
  // Par 0, 1 and 2, a DMA device, a deadlock goal.
  const LEVELS = ["basics-lost-update", "r5-six-steps", "r9-stale-tlb-cow", "r4-spf-deadlock", "r6-gup-fast-fork"];

  it("from the start, a hunt level's table says the fewest preemptions verify finds, and every entry keeps the 0-1 rule", () => {
    for (const l of loadCampaign().filter((x) => LEVELS.includes(x.id))) {
      const c = compileLevel(l);
      const s = solve(c.cfg, c.machine, { oracles: c.oracles });
      if (s.cycle) continue;
      const n = c.cfg.cpus.length;
      const fewest = fewestPreemptions(s, n)!;
      const table = preemptionTable(s, n, (u) => s.kind[u] === NODE.goal);
      expect(table[0 * (n + 2) + n + 1], l.id).toBe(fewest.preemptions);
      // Every entry keeps the 0-1 rule: a target is 0; elsewhere the best move's cost (1 when it
      // switches away from an actor that could still run) plus the entry where it leads.
      const W = n + 2;
      const slot = (e: number) => {
        const a = s.moves[s.move[e]];
        return "dma" in a ? n : a.cpu;
      };
      for (let u = 0; u < s.states; u++) {
        const runs = new Set<number>();
        for (let e = s.first[u]; e < s.first[u + 1]; e++) runs.add(slot(e));
        for (let last = 0; last < W; last++) {
          let want = s.kind[u] === NODE.goal ? 0 : NO_ROAD;
          for (let e = s.first[u]; e < s.first[u + 1] && want !== 0; e++) {
            const next = table[s.to[e] * W + slot(e)];
            if (next === NO_ROAD) continue;
            const w = last !== n + 1 && last !== slot(e) && runs.has(last) ? 1 : 0;
            want = Math.min(want, w + next);
          }
          expect(table[u * W + last], `${l.id} node ${u} last ${last}`).toBe(want);
        }
      }
    }
  });

  it("per oracle: the example can fire cow-isolation with no preemption, and nothing else", () => {
    const l = sandboxLevel(cat.example);
    const c = compileLevel(l);
    const s = solve(c.cfg, c.machine, { oracles: c.oracles, label: true });
    const tables = reachTables(s, c.cfg.cpus.length, c.oracles);
    expect(tables.map((t) => t.oracle)).toEqual(["cow-isolation"]);
    expect(reachAt(s, tables, c.cfg.cpus.length, 0, null, false)).toEqual([{ oracle: "cow-isolation", preemptions: 0 }]);
    expect(fewestPreemptions(s, c.cfg.cpus.length)!.preemptions).toBe(0);
    // Once the parent's store has run to the end first, the child's pipe holds a copy: no road is left.
    let node = 0;
    let m = c.machine;
    let last: Action | null = null;
    for (let i = 0; i < 60 && !m.cpus[0].done; i++) {
      const a: Action = { cpu: 0 };
      node = track(s, c.cfg, m, node, a);
      m = advance(c.cfg, m, a);
      last = a;
    }
    expect(m.cpus[0].done).toBe(true);
    expect(reachAt(s, tables, c.cfg.cpus.length, node, last, false)).toEqual([]);
  });

  it("a state where two oracles fire is a goal for both (the labels are every oracle that fails there)", () => {
    // Two CPUs lose an update while a third deadlocks nobody: lost-update only; a labelled graph has it.
    const sc: SandboxScenario = { generation: "6.x", machine: "x86", memory: "one-page", child: "none", cpus: [{ process: "P", runs: [op("counter_inc", { lock: false })] }, { process: "P", runs: [op("counter_inc", { lock: false })] }] };
    const c = compileLevel(sandboxLevel(sc));
    const s = solve(c.cfg, c.machine, { oracles: c.oracles, label: true });
    const bit = 1 << c.oracles.indexOf("lost-update");
    const goals = [...s.kind.keys()].filter((u) => s.kind[u] === NODE.goal);
    expect(goals.length).toBeGreaterThan(0);
    for (const u of goals) expect(s.fired![u] & bit).toBe(bit);
    expect(reachAt(s, reachTables(s, 2, c.oracles), 2, 0, null, false)).toEqual([{ oracle: "lost-update", preemptions: 1 }]);
    expect(ORACLES["lost-update"].kind).toBe("invariant");
  });
});

describe("a saved scenario", () => {
  it("is a level file that faultline lint passes, with the verdict and par the explorer found", () => {
    const l = sandboxLevel(cat.example);
    const c = compileLevel(l);
    const s = solve(c.cfg, c.machine, { oracles: c.oracles });
    const par = fewestPreemptions(s, c.cfg.cpus.length)!.preemptions;
    const text = sandboxText(cat.example, { id: "my-vmsplice", claims: { verdict: "reachable", preemptions: par } });
    expect(text).toMatch(/^# my-vmsplice: a scenario saved from the Faultline sandbox\./);
    expect(text).toContain("preemptions: 0");
    const r = lintText("my-vmsplice.yaml", text);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.settings[0]).toMatchObject({ verdict: "reachable", preemptions: 0, parPreemptions: 0 });
  });

  it("a safe scenario says so (goal.expect: safe), and lint agrees", () => {
    const sc: SandboxScenario = { generation: "5.9", machine: "x86", memory: "one-page", child: "forked", cpus: cat.example.cpus };
    const c = compileLevel(sandboxLevel(sc));
    expect(solve(c.cfg, c.machine, { oracles: c.oracles }).verdict).toBe("safe");
    const text = sandboxText(sc, { id: "vmsplice-59", claims: { verdict: "safe" } });
    expect(text).toContain("expect: safe");
    const r = lintText("vmsplice-59.yaml", text);
    expect(r.problems).toEqual([]);
    expect(r.settings[0].verdict).toBe("safe");
  });
});

describe("scenarios that once crashed the simulator (found composing in the sandbox)", () => {
  it("fork, a store and munmap of the same page on per-VMA-lock kernels: the fault re-checks the VMA's range", () => {
    for (const generation of ["6.4", "6.x"]) {
      const sc: SandboxScenario = { generation, machine: "x86", memory: "two-pages", child: "fork", cpus: [{ process: "P", runs: [op("fork")] }, { process: "P", runs: [op("store", { page: 1, value: "y" })] }, { process: "P", runs: [op("munmap", { page: 1, pages: 1 })] }] };
      const c = compileLevel(sandboxLevel(sc));
      expect(solve(c.cfg, c.machine, { oracles: c.oracles }).verdict).not.toBe("incomplete");
    }
  });

  it("GUP-fast on arm64 while munmap frees the page: the grab fails and GUP falls back", () => {
    const sc: SandboxScenario = { generation: "6.x", machine: "arm64", memory: "one-page", child: "none", cpus: [{ process: "P", runs: [op("munmap", { page: 0, pages: 1 })] }, { process: "P", runs: [op("pin_user_pages_fast", { page: 0, write: true })] }] };
    const c = compileLevel(sandboxLevel(sc));
    expect(solve(c.cfg, c.machine, { oracles: c.oracles }).verdict).not.toBe("incomplete");
  });
});
