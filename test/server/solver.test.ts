// The solved game over real sockets: one run action, a room that waits while its
// level setting is solved (off the server's thread), and a setting too big to
// solve, whose adversary plays eagerly and says so.
import { describe, expect, it } from "vitest";
import { player, server } from "./harness.js";

describe("run to the next decision over a socket", () => {
  it("is one action: one ack, one update listing every line, seen by every member", async () => {
    const s = await server();
    const a = await player(s.url, "ada");
    const b = await player(s.url, "bo");
    const j = await a.ok<"joined">({ type: "create", level: "r5-six-steps" });
    await b.ok({ type: "join", room: j.state.room.code });
    await a.ok({ type: "claim", cpu: 1 });
    expect((await a.ok({ type: "run", seq: 0, cpu: 1 })).seq).toBe(1);
    const ack = await a.ok({ type: "run", seq: 1, cpu: 1 });
    expect(ack.seq).toBe(2);
    for (const c of [a, b]) {
      const u = await c.take("update", (m) => m.seq === 2);
      expect(u.event.kind).toBe("run");
      const entries = u.event.kind === "run" ? u.event.entries : [];
      expect(entries.length).toBeGreaterThan(10);
      expect(u.game.steps).toBe(1 + entries.length);
      expect(entries.every((e) => e.cpu === 1)).toBe(true);
    }
    // Refused like a step: the room does not move.
    await a.refused({ type: "run", seq: 2, cpu: 2 }, "not-runnable"); // B is not forked yet
    expect(s.hub.registry.rooms.get(j.state.room.code)!.seq).toBe(2);
  });
});

describe("the room and its solved game", () => {
  it("says the adversary is thinking until the setting is solved, then the adversary plays by lookups", async () => {
    const s = await server();
    const p = await player(s.url, "solo");
    const j = await p.ok<"joined">({ type: "create", level: "basics-spinlock" });
    // The first ask for a setting starts its solve: nothing is ready at once.
    expect(j.state.room.solver.state).toBe("solving");
    expect(j.state.room.solver.text).toMatch(/^the adversary is thinking/);
    const ready = await p.take("room", (m) => m.room.solver.state === "ready");
    expect(ready.room.solver.text).toMatch(/^solved: \d+ states, the race is reachable$/);
    // No lock: the adversary (on CPU1) wins against the player on CPU0.
    await p.ok({ type: "claim", cpu: 0 });
    let seq = (await p.ok({ type: "start", seq: 0 })).seq;
    for (let i = 0; i < 20; i++) {
      const room = s.hub.registry.rooms.get(j.state.room.code)!;
      if (room.snapshot().game.phase === "over") break;
      seq = room.seq;
      const cpu0 = room.snapshot().game.cpus[0];
      if (cpu0.state === "ready") await p.ok({ type: "step", seq, cpu: 0 }).catch(() => null);
      else await new Promise((r) => setTimeout(r, 5));
    }
    const over = await p.take("update", (m) => m.game.phase === "over");
    expect(over.game.result).toMatchObject({ outcome: "lost", reason: "oracle" });
  });

  it("a setting over the state budget: the adversary plays eagerly and says so; hints say there is none", async () => {
    const s = await server({ solver: { maxStates: 20 } });
    const p = await player(s.url, "solo");
    const j = await p.ok<"joined">({ type: "create", level: "r5-pick-the-fix" });
    const big = await p.take("room", (m) => m.room.solver.state === "too-big");
    expect(big.room.solver.text).toBe("the adversary plays eagerly: it has more than 20 states");
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "start", seq: 0 });
    // The eager bot moves the CPUs nobody holds.
    const moved = await p.take("update", (m) => m.event.kind === "step" && m.event.by === "bot");
    expect(moved.seq).toBeGreaterThan(1);
    expect(s.hub.registry.rooms.get(j.state.room.code)!.info().solver.state).toBe("too-big");
  });

  it("hints past the written ones are the solved game's, and a repeat is free", async () => {
    const s = await server();
    const p = await player(s.url, "solo");
    const j = await p.ok<"joined">({ type: "create", level: "basics-lost-update" });
    await s.hub.registry.rooms.get(j.state.room.code)!.settled();
    await p.ok({ type: "claim", cpu: 0 });
    let seq = 0;
    for (let i = 0; i < 3; i++) seq = (await p.ok({ type: "hint", seq })).seq!;
    seq = (await p.ok({ type: "hint", seq })).seq!;
    const h = await p.take("update", (m) => m.seq === seq);
    expect(h.event).toMatchObject({ kind: "hint", free: false, text: expect.stringMatching(/^The explorer: from here the race is 4 moves away \(.*\)\. Its next move: run CPU0 \(T0\) through its next shared line\.$/) });
    seq = (await p.ok({ type: "hint", seq })).seq!;
    const again = await p.take("update", (m) => m.seq === seq);
    expect(again.event).toMatchObject({ kind: "hint", free: true, text: h.event.kind === "hint" ? h.event.text : "" });
    expect(again.game.hintsUsed).toBe(h.game.hintsUsed);
    // The log keeps the words shown, so a replay or a restart shows them without exploring.
    const logged = s.storage.actions(h.game.attempt).find((e) => e.seq === h.seq);
    expect(logged?.cmd).toEqual({ kind: "hint", text: h.event.kind === "hint" ? h.event.text : "" });
  });
});
