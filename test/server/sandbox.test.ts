// The sandbox over real sockets (issue 18, part 4): the catalogue, a room on a composed scenario
// (and the refusals that name the scenario's part), the explorer's answer to the whole room,
// a hunt to an oracle, the scenario saved as a level file, a room rebuilt from storage, and
// the limits.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileLevel } from "../../src/level/compile.js";
import { sandboxCatalogue, sandboxLevel, SANDBOX_LIMITS, type SandboxScenario } from "../../src/level/sandbox.js";
import { ORACLES } from "../../src/sim/oracles.js";
import { fewestPreemptions } from "../../src/sim/preempt.js";
import { solve } from "../../src/sim/solve.js";
import type { Action } from "../../src/sim/types.js";
import { player, server } from "./harness.js";
import type { TestClient } from "./client.js";

const example = sandboxCatalogue().example;

/** The fewest-preemption schedule of a scenario, line by line (what a good player does). */
function bestRoad(sc: SandboxScenario): Action[] {
  const c = compileLevel(sandboxLevel(sc));
  return fewestPreemptions(solve(c.cfg, c.machine, { oracles: c.oracles }), c.cfg.cpus.length)!.schedule;
}

async function ready(p: TestClient): Promise<void> {
  await p.take("room", (m) => m.room.solver.state !== "solving", 15_000);
}

describe("the sandbox over a socket", () => {
  it("sends the catalogue, refuses a scenario the format refuses (naming the part), and creates a room on one it takes", async () => {
    const s = await server();
    const p = await player(s.url, "ada");
    const cat = await p.ok<"sandbox">({ type: "sandbox" });
    expect(cat.catalogue.example).toEqual(example);
    expect(cat.catalogue.operations.length).toBeGreaterThan(10);
    expect(cat.catalogue.limits).toEqual(SANDBOX_LIMITS);

    const bad = await p.refused({ type: "createSandbox", scenario: { ...example, cpus: [{ process: "P", runs: [{ op: "pin_user_pages", args: { page: 0, write: true } }] }] } }, "bad-scenario");
    expect(bad.message).toBe("cpus[0].runs[0].pin_user_pages: pin_user_pages() and FOLL_PIN arrived in 5.6 (eddb1c228f79); this level runs kernel 4.19");
    const big = await p.refused({ type: "createSandbox", scenario: { ...example, cpus: Array.from({ length: 4 }, () => ({ process: "P", runs: [{ op: "fork" }] })) } }, "bad-scenario");
    expect(big.message).toBe("cpus: a sandbox scenario has at most 3 CPUs (this one has 4)");
    // Not even a level: the frame is checked first.
    await p.refused({ type: "createSandbox", scenario: { generation: "4.19" } }, "bad-frame");

    const j = await p.ok<"joined">({ type: "createSandbox", scenario: example });
    expect(j.state.room.level).toMatchObject({ id: sandboxLevel(example).id, source: "sandbox", mode: "hunt" });
    expect(j.state.room.level.goal).toContain(ORACLES["cow-isolation"].title);
    expect(j.state.room.level.goal).toHaveLength(sandboxCatalogue().oracles.length);
    expect(j.state.intro).toContain("C1 (in C): vmsplice(page=0), munmap(page=0, pages=1)");
    await p.refused({ type: "createSandbox", scenario: example }, "already-in-room");
  });

  it("the explorer tells the whole room which oracles can still fire and in how few preemptions; the hunt ends at the oracle; the save passes the explorer's claims", async () => {
    const s = await server();
    const a = await player(s.url, "ada");
    const b = await player(s.url, "bo");
    const j = await a.ok<"joined">({ type: "createSandbox", scenario: example });
    await b.ok({ type: "join", room: j.state.room.code });
    await ready(a);
    const first = await a.ok<"explorer">({ type: "explore" });
    expect(first).toMatchObject({ by: j.you.member, seq: 0, watched: sandboxCatalogue().oracles.length, oracles: [{ id: "cow-isolation", preemptions: 0 }] });
    expect(first.text).toBe("The explorer: from here 1 of the 13 oracles watched can still fire: COW broke the wrong way (cow-isolation) in 0 preemptions. It does not say how.");
    // The other member hears the same answer, without a rid.
    const heard = await b.take("explorer");
    expect(heard.rid).toBeUndefined();
    expect(heard.text).toBe(first.text);

    await a.ok({ type: "claim", cpu: 0 });
    await a.ok({ type: "claim", cpu: 1 });
    let seq = (await a.ok({ type: "start", seq: 0 })).seq!;
    for (const step of bestRoad(example)) {
      if (!("cpu" in step)) throw new Error("no device here");
      seq = (await a.ok({ type: "step", seq, cpu: step.cpu })).seq!;
    }
    const over = await a.take("update", (m) => m.game.phase === "over");
    expect(over.game.result).toMatchObject({ outcome: "won", reason: "oracle", oracle: { id: "cow-isolation" } });
    const after = await a.ok<"explorer">({ type: "explore" });
    expect(after.oracles).toEqual([]);
    expect(after.text).toBe("The hunt is over: COW broke the wrong way fired.");

    const saved = await a.ok<"levelFile">({ type: "saveSandbox", id: "my-vmsplice" });
    expect(saved).toMatchObject({ id: "my-vmsplice", file: "my-vmsplice.yaml", verdict: "reachable", preemptions: 0 });
    expect(saved.text).toMatch(/^# my-vmsplice: a scenario saved from the Faultline sandbox/);
    expect(saved.text).toContain("\npreemptions: 0\n");
    await a.refused({ type: "saveSandbox", id: "basics-lost-update" }, "bad-scenario");
    // A retry plays the scenario again.
    const r = await a.ok({ type: "retry", seq: s.hub.registry.rooms.get(j.state.room.code)!.seq });
    expect(r.seq).toBeGreaterThan(seq);
    const again = await a.take("update", (m) => m.event.kind === "attempt");
    expect(again.game.level).toBe(sandboxLevel(example).id);
  });

  it("explore and saveSandbox belong to sandbox rooms; a room on a level says so", async () => {
    const s = await server();
    const p = await player(s.url, "ada");
    await p.refused({ type: "explore" }, "not-in-room");
    await p.ok({ type: "create", level: "basics-lost-update" });
    expect((await p.refused({ type: "explore" }, "not-a-sandbox")).message).toMatch(/^this room plays a level, not a sandbox scenario/);
    await p.refused({ type: "saveSandbox", id: "x" }, "not-a-sandbox");
  });

  it("a scenario over the explorer's budget: explore says too-big; the save claims nothing", async () => {
    const s = await server({ solver: { maxStates: 50 } });
    const p = await player(s.url, "ada");
    await p.ok({ type: "createSandbox", scenario: example });
    await ready(p);
    expect((await p.refused({ type: "explore" }, "too-big")).message).toBe("the explorer gave up on this scenario: it has more than 50 states; play on without it");
    const f = await p.ok<"levelFile">({ type: "saveSandbox", id: "big-one" });
    expect(f).toMatchObject({ verdict: null, preemptions: null });
    expect(f.text).not.toContain("preemptions:");
  });

  it("a sandbox room leaves memory and comes back from storage with its scenario", async () => {
    const s = await server();
    const p = await player(s.url, "ada");
    const j = await p.ok<"joined">({ type: "createSandbox", scenario: example });
    const code = j.state.room.code;
    await p.ok({ type: "claim", cpu: 1 });
    await p.ok({ type: "start", seq: 0 });
    await p.ok({ type: "step", seq: 1, cpu: 1 });
    await p.ok({ type: "leave" });
    const room = s.hub.registry.rooms.get(code)!;
    s.hub.registry.idle(room);
    expect(s.hub.registry.rooms.has(code)).toBe(false);
    const back = await p.ok<"joined">({ type: "join", room: code });
    expect(back.state.room.level).toMatchObject({ id: j.state.room.level.id, source: "sandbox" });
    expect(back.state.seq).toBe(2);
    expect(back.state.trace).toHaveLength(1);
  });

  it("a server restart keeps a sandbox room: its record holds the scenario (SQLite)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-sandbox-"));
    try {
      const db = join(dir, "s.db");
      const s1 = await server({ db });
      const p = await player(s1.url, "ada");
      const j = await p.ok<"joined">({ type: "createSandbox", scenario: example });
      await p.ok({ type: "claim", cpu: 0 });
      await p.ok({ type: "step", seq: 0, cpu: 0 });
      await s1.close();
      const s2 = await server({ db });
      const q = await player(s2.url, "ada");
      const back = await q.ok<"joined">({ type: "join", room: j.state.room.code });
      expect(back.state.room.level).toMatchObject({ id: j.state.room.level.id, source: "sandbox" });
      expect(back.state.trace).toHaveLength(1);
      await s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("past the solver's byte budget, a solution nobody asked for lately goes, and is solved again when asked", async () => {
    const s = await server({ solver: { maxBytes: 1 } });
    const a = await player(s.url, "ada");
    await a.ok({ type: "createSandbox", scenario: example });
    await ready(a);
    await a.ok<"explorer">({ type: "explore" });
    const b = await player(s.url, "bo");
    await b.ok({ type: "createSandbox", scenario: { ...example, machine: "arm64" } });
    await ready(b);
    expect(s.hub.registry.solver.stats()).toMatchObject({ ready: 1 });
    // Ada's room asks again: its scenario is solved anew, and the explorer answers as before.
    const again = await a.request({ type: "explore" });
    expect(again.type === "error" ? again.code : again.type).toBe("solving");
    await a.take("room", (m) => m.room.solver.state === "ready", 15_000);
    expect((await a.ok<"explorer">({ type: "explore" })).oracles).toEqual([expect.objectContaining({ id: "cow-isolation", preemptions: 0 })]);
  });

  it("sandbox requests have their own budget per connection", async () => {
    const s = await server({ limits: { sandboxPerMinute: 1, sandboxBurst: 2 } });
    const p = await player(s.url, "ada");
    await p.ok({ type: "sandbox" });
    await p.ok({ type: "sandbox" });
    expect((await p.refused({ type: "sandbox" }, "rate-limited")).message).toBe("over 1 sandbox requests a minute: wait a little");
  });
});
