// The explorer: verdicts, shortest schedules, deadlock and livelock, determinism.
import { describe, expect, it } from "vitest";
import { compileLevel } from "../../src/level/compile.js";
import { loadCampaign } from "../../src/level/load.js";
import { enabledActions, step } from "../../src/sim/engine.js";
import { explore } from "../../src/sim/explore.js";
import { runSchedule } from "../../src/sim/runner.js";
import { irqDisable, irqEnable, ptl, spinLock, spinTrylock, spinUnlock } from "../../src/sim/machine.js";
import { definePath, goto, ret } from "../../src/sim/path.js";
import { formatSchedule, parseSchedule } from "../../src/sim/schedule.js";
import { hashMachine } from "../../src/sim/state.js";
import type { Action, Machine } from "../../src/sim/types.js";
import { fixture } from "../helpers.js";

const campaign = loadCampaign();
const level = (id: string) => campaign.find((l) => l.id === id)!;

// Test-only paths, to exercise the deadlock and livelock oracles through the explorer.
definePath("test_irqoff_spin", {
  name: "test_irqoff_spin",
  source: "test",
  generation: "test",
  steps: [
    { line: "local_irq_disable();", run: (x) => irqDisable(x.m, x.cpu) },
    { line: "spin_lock(ptl);", run: (x) => { const w = spinLock(x.m, x.cpu, ptl(0)); return w ? { wait: w } : undefined; } },
    { line: "spin_unlock(ptl);", run: (x) => spinUnlock(x.m, x.cpu, ptl(0)) },
    { line: "local_irq_enable();", run: (x) => { irqEnable(x.m, x.cpu); return ret(0); } },
  ],
});
definePath("test_trylock_retry", {
  name: "test_trylock_retry",
  source: "test",
  generation: "test",
  steps: [
    { label: "again", line: "if (!spin_trylock(ptl)) goto again;", run: (x) => (spinTrylock(x.m, x.cpu, ptl(0)) ? undefined : goto("again")) },
    { line: "spin_unlock(ptl);", run: (x) => { spinUnlock(x.m, x.cpu, ptl(0)); return ret(0); } },
  ],
});
definePath("test_hog", {
  name: "test_hog",
  source: "test",
  generation: "test",
  steps: [
    { label: "top", line: "spin_lock(ptl);", run: (x) => { const w = spinLock(x.m, x.cpu, ptl(0)); return w ? { wait: w } : undefined; } },
    { line: "spin_unlock(ptl); goto top;", run: (x) => { spinUnlock(x.m, x.cpu, ptl(0)); return goto("top"); } },
  ],
});

/** A two-CPU machine whose CPUs start inside the given paths. */
function withPaths(paths: string[], cpuSpec = `  - { name: C0, process: A, runs: [{ load: { page: 0 } }] }
  - { name: C1, process: A, runs: [{ load: { page: 0 } }] }`) {
  const c = fixture({ cpus: cpuSpec, goal: "deadlock" });
  const m: Machine = structuredClone(c.machine);
  paths.forEach((p, i) => {
    m.cpus[i].frames = [{ path: p, pc: 0, l: {} }];
    m.cpus[i].prog = 1;
  });
  return { c, m };
}

describe("explorer", () => {
  it("finds the tutorial's lost update in exactly 4 steps, and proves the locked version safe", () => {
    const c = compileLevel(level("basics-lost-update"));
    const r = explore(c.cfg, c.machine, { oracles: c.oracles });
    expect(r.verdict).toBe("reachable");
    expect(formatSchedule(r.schedule!)).toBe("0 1 0 1");
    const safe = compileLevel(level("basics-spinlock"), { lock: "spin_lock" });
    const s = explore(safe.cfg, safe.machine, { oracles: safe.oracles });
    expect(s).toMatchObject({ verdict: "safe", schedule: null });
    expect(s.states).toBe(24);
  });

  it("no schedule shorter than the BFS result triggers the tutorial (exhaustive check of every shorter sequence)", () => {
    const c = compileLevel(level("basics-lost-update"));
    const shorter = (m: Machine, depth: number): boolean => {
      if (c.oracles.some(() => m.vars[0] < m.vars[1])) return true;
      if (depth === 0) return false;
      return enabledActions(c.cfg, m).some((a) => shorter(step(c.cfg, m, a).m, depth - 1));
    };
    expect(shorter(c.machine, 3)).toBe(false);
    expect(shorter(c.machine, 4)).toBe(true);
  });

  it("finds Peter Xu's lost DMA in par steps on 5.9, and the schedule replays to the same violation", () => {
    const lv = level("r5-six-steps");
    const c = compileLevel(lv);
    const r = explore(c.cfg, c.machine, { oracles: c.oracles });
    expect(r.verdict).toBe("reachable");
    expect(r.schedule!.length).toBe(lv.par);
    const replay = runSchedule(c.cfg, c.machine, parseSchedule(formatSchedule(r.schedule!)), c.oracles);
    expect(replay.violation).toEqual({ ...r.violation!, step: lv.par });
    expect(replay.violation!.oracle).toBe("lost-dma-write");
  });

  it("the same machine on a pre-5.9 kernel (reuse by mapcount) never loses the DMA", () => {
    const lv = level("r5-six-steps");
    // 5.6/5.7: FOLL_PIN exists, do_wp_page reuses by mapcount, no forced COW break yet (17839856fd58).
    const c = compileLevel({ ...lv, kernel: { generation: "5.8", gup_force_cow_break: false } });
    expect(explore(c.cfg, c.machine, { oracles: c.oracles }).verdict).toBe("safe");
  });

  it("finds the IPI deadlock: a CPU spinning with IRQs off on a PTL held by a CPU waiting for its ack", () => {
    const { c, m } = withPaths(["test_irqoff_spin"], `  - { name: C0, process: A, runs: [{ load: { page: 0 } }] }
  - { name: C1, process: A, runs: [{ munmap: { page: 0, pages: 1 } }] }`);
    const forced = { ...c.cfg, kernel: { ...c.cfg.kernel, zap_force_flush: true } };
    const r = explore(forced, m, { oracles: ["deadlock"] });
    expect(r.verdict).toBe("reachable");
    expect(r.violation!.message).toMatch(/CPU0 \(C0\) is spinning with IRQs off on the PTL of table 0, held by CPU1 \(C1\)(;|$)/);
    // On a broadcast-TLBI machine nobody waits for acks: no deadlock.
    const arm = { ...forced, shootdown: "broadcast" as const };
    expect(explore(arm, m, { oracles: ["deadlock"] }).verdict).toBe("safe");
  });

  it("finds a livelock (fair starvation) of a trylock retry loop against a lock hog, and none without the hog", () => {
    const { c, m } = withPaths(["test_trylock_retry", "test_hog"]);
    const r = explore(c.cfg, m, { oracles: ["livelock"] });
    expect(r.verdict).toBe("reachable");
    expect(r.cycle!.length).toBeGreaterThan(0);
    const actors = new Set(r.cycle!.map((a) => ("dma" in a ? "d" : a.cpu)));
    expect(actors).toEqual(new Set([0, 1])); // fair: both CPUs step in the cycle
    // Replaying the prefix and three laps: the run-time detector agrees.
    const laps: Action[] = [...r.schedule!, ...r.cycle!, ...r.cycle!];
    const run = runSchedule(c.cfg, m, laps, ["livelock"]);
    expect(run.violation?.oracle).toBe("livelock");

    const single = withPaths(["test_trylock_retry"], `  - { name: C0, process: A, runs: [{ load: { page: 0 } }] }`);
    expect(explore(single.c.cfg, single.m, { oracles: ["livelock"] }).verdict).toBe("safe");
  });

  it("stops with 'incomplete' at the state limit", () => {
    const c = compileLevel(level("r5-six-steps"));
    expect(explore(c.cfg, c.machine, { oracles: c.oracles, maxStates: 50 }).verdict).toBe("incomplete");
  });
});

describe("determinism", () => {
  it("the same schedule twice gives identical states and events, step by step", () => {
    const c = compileLevel(level("r5-pick-the-fix"), { fix: "anon_exclusive" });
    // A fixed pseudo-random walk (an LCG seeded in the test, not inside the simulator).
    const walk: Action[] = [];
    let m = c.machine;
    let seed = 12345;
    for (let i = 0; i < 400; i++) {
      const en = enabledActions(c.cfg, m);
      if (en.length === 0) break;
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const a = en[seed % en.length];
      walk.push(a);
      m = step(c.cfg, m, a).m;
    }
    const trace = () => {
      let s = c.machine;
      return walk.map((a) => {
        const r = step(c.cfg, s, a);
        s = r.m;
        return hashMachine(r.m) + JSON.stringify(r.ev);
      });
    };
    const first = trace();
    expect(first.length).toBeGreaterThan(60);
    expect(trace()).toEqual(first);
  });

  it("exploring twice gives the same verdict, states and schedule", () => {
    const c = compileLevel(level("r5-pick-the-fix"), { fix: "foll_write" });
    const a = explore(c.cfg, c.machine, { oracles: c.oracles });
    const b = explore(c.cfg, c.machine, { oracles: c.oracles });
    expect(b).toEqual(a);
  });

  it("step never mutates its input", () => {
    const c = compileLevel(level("r5-six-steps"));
    let m = c.machine;
    for (let i = 0; i < 40; i++) {
      const before = hashMachine(m);
      const a = enabledActions(c.cfg, m)[i % enabledActions(c.cfg, m).length];
      const r = step(c.cfg, m, a);
      expect(hashMachine(m)).toBe(before);
      m = r.m;
    }
  });
});

describe("menus", () => {
  const menu = () =>
    fixture({
      cpus: `  - name: A1
    process: A
    runs: [{ choose: [fork, { store: { page: 0, value: app }, label: write }] }, { store: { page: 0, value: again } }]
  - { name: B, process: B, runs: [exit] }`,
      goal: "lost-user-write",
    });

  it("offers one action per choice and refuses a step without one", () => {
    const c = menu();
    expect(enabledActions(c.cfg, c.machine)).toEqual([
      { cpu: 0, choice: "fork" },
      { cpu: 0, choice: "write" },
    ]);
    expect(() => step(c.cfg, c.machine, { cpu: 0 })).toThrow("CPU0 (A1) must choose one of: fork, write");
    expect(() => step(c.cfg, c.machine, { cpu: 0, choice: "exec" })).toThrow('CPU0 (A1) has no choice "exec": it may choose fork, write');
    const r = step(c.cfg, c.machine, { cpu: 0, choice: "write" });
    expect(r.ev.choice).toBe("write");
    expect(r.m.pages[1].data).toBe("app");
  });

  it("explores every choice, and a schedule names the choice", () => {
    const c = menu();
    const r = explore(c.cfg, c.machine, { oracles: ["lost-user-write"] });
    expect(r.verdict).toBe("safe");
    expect(r.states).toBeGreaterThan(10);
    const run = runSchedule(c.cfg, c.machine, parseSchedule("0:fork 0*40"), c.oracles);
    expect(run.steps[0].ev.choice).toBe("fork");
    expect(run.m.mms[1].state).toBe("alive");
  });
});

describe("fair locks", () => {
  it("a spinlock is FIFO: a CPU queued on a held PTL gets it before a later locker", () => {
    const { c, m } = withPaths(["test_hog", "test_hog"]);
    let s = step(c.cfg, m, { cpu: 0 }).m; // CPU0 takes the PTL
    s = step(c.cfg, s, { cpu: 1 }).m; // CPU1 queues
    expect(s.lockQueues).toEqual({ t0: [1] });
    s = step(c.cfg, s, { cpu: 0 }).m; // CPU0 unlocks and loops back to spin_lock
    const again = step(c.cfg, s, { cpu: 0 });
    expect(again.ev.blocked).toBe(true); // CPU1 is first in line
    expect(again.ev.wait).toMatch(/queued behind CPU1/);
    expect(step(c.cfg, again.m, { cpu: 1 }).m.tables[0].ptl).toBe(1);
  });

  it("so a background CPU hammering a spinlock cannot starve a spin_lock() waiter, but can starve a trylock retry loop", () => {
    const background = (paths: string[]) => {
      const w = withPaths(paths);
      const cfg = { ...w.c.cfg, cpus: w.c.cfg.cpus.map((x, i) => ({ ...x, loop: i === 1 })) };
      return explore(cfg, w.m, { oracles: ["livelock"] }).verdict;
    };
    expect(background(["test_irqoff_spin", "test_hog"])).toBe("safe");
    expect(background(["test_trylock_retry", "test_hog"])).toBe("reachable");
  });

  it("an rwsem is fair: a new reader queues behind a waiting writer", () => {
    const c = fixture({
      cpus: `  - { name: R, process: A, runs: [{ get_user_pages: { page: 0, write: false } }] }
  - { name: W, process: A, runs: [{ munmap: { page: 1, pages: 1 } }] }
  - { name: R2, process: A, runs: [{ get_user_pages: { page: 0, write: false } }] }`,
    });
    let m = step(c.cfg, c.machine, { cpu: 0 }).m; // R holds mmap_lock for read
    m = step(c.cfg, m, { cpu: 1 }).m; // W waits
    const r2 = step(c.cfg, m, { cpu: 2 });
    expect(r2.ev.blocked).toBe(true);
    expect(r2.ev.wait).toMatch(/queued behind CPU1 \(W\) \(write\)/);
  });
});
