// Several clients over real sockets play a level to the end.
import { describe, expect, it } from "vitest";
import { findLevel, loadCampaign } from "../../src/level/load.js";
import { verifySetting } from "../../src/level/verify.js";
import { parseSchedule } from "../../src/sim/schedule.js";
import type { Action } from "../../src/sim/types.js";
import type { TestClient } from "./client.js";
import { player, server } from "./harness.js";

const campaign = loadCampaign();
/** A schedule that triggers the level's race at par (the fewest preemptions). */
const shortest = (id: string): Action[] => parseSchedule(verifySetting(findLevel(campaign, id)!, {}).schedule!);

describe("playing a level over real sockets", () => {
  it("two players, one CPU each, lose an update in par steps: win, score, results offered", async () => {
    const s = await server();
    const alice = await player(s.url, "alice");
    const bob = await player(s.url, "bob");
    const joined = await alice.ok<"joined">({ type: "create", level: "basics-lost-update" });
    const code = joined.state.room.code;
    expect(code).toMatch(/^[2-9A-HJKMNP-Z]{6}$/);
    expect(joined.state.seq).toBe(0);
    const bobJoined = await bob.ok<"joined">({ type: "join", room: code.toLowerCase() });
    const ids: Record<number, string> = { 0: joined.you.member, 1: bobJoined.you.member };
    await alice.ok({ type: "claim", cpu: 0 });
    await bob.ok({ type: "claim", cpu: 1 });

    const by: Record<number, TestClient> = { 0: alice, 1: bob };
    const schedule = shortest("basics-lost-update");
    let seq = 0;
    for (const a of schedule) {
      if ("dma" in a) throw new Error("no DMA here");
      const ack = await by[a.cpu].ok({ type: "step", seq, cpu: a.cpu });
      expect(ack.seq).toBe(seq + 1);
      seq++;
      // Both players see the step and who caused it.
      for (const c of [alice, bob]) {
        const u = await c.take("update", (m) => m.seq === seq);
        expect(u.event.kind).toBe("step");
        if (u.event.kind === "step") expect(u.event.by).toBe(ids[a.cpu]);
      }
    }
    const last = bob.log.filter((m) => m.type === "update").at(-1)!;
    if (last.type !== "update") throw new Error();
    expect(last.game.phase).toBe("over");
    expect(last.game.result).toMatchObject({ outcome: "won", reason: "oracle", steps: 4, par: 4, hintsUsed: 0, rewinds: 0, score: 1000 });
    expect(last.game.result!.oracle!.id).toBe("lost-update");
    expect(last.game.offers).toEqual({ replay: true, retry: true, next: "basics-spinlock" });
    expect(last.game.debrief).toBe(findLevel(campaign, "basics-lost-update")!.debrief);

    // The replay is the log run through the simulator again.
    const replay = await alice.ok<"replay">({ type: "replay" });
    expect(replay.trace.map((t) => t.action)).toEqual(schedule);
    expect(replay.result).toEqual(last.game.result);
    expect(alice.invalid).toEqual([]);
    expect(bob.invalid).toEqual([]);
  });
});

describe("more of a room's life", () => {
  it("three players and the DMA device play the R5 race to a win in par steps", async () => {
    const s = await server();
    const [a, b, c] = await Promise.all([player(s.url, "a1"), player(s.url, "a2"), player(s.url, "b")]);
    const j = await a.ok<"joined">({ type: "create", level: "r5-six-steps" });
    expect(j.state.room.dma).toBe("players");
    await b.ok({ type: "join", room: j.state.room.code });
    await c.ok({ type: "join", room: j.state.room.code });
    const seat = [a, b, c];
    await Promise.all(seat.map((p, cpu) => p.ok({ type: "claim", cpu })));
    const schedule = shortest("r5-six-steps");
    let seq = 0;
    for (const act of schedule) {
      // The device is nobody's: in a manual room any player may step it.
      const who = "dma" in act ? seat[seq % 3] : seat[act.cpu];
      const msg = "dma" in act ? { type: "step", seq, cpu: "dma" } : { type: "step", seq, cpu: act.cpu, ...(act.choice ? { choice: act.choice } : {}) };
      expect((await who.ok(msg)).seq).toBe(++seq);
    }
    const end = await c.take("update", (m) => m.seq === seq);
    expect(end.game.result).toMatchObject({ outcome: "won", steps: shortest("r5-six-steps").length, preemptions: 0, score: 1000 });
    expect(end.game.result!.oracle!.id).toBe("lost-dma-write");
  });

  it("defend against the adversary bot: no lock loses, spin_lock wins; knobs lock once play starts", async () => {
    const s = await server();
    for (const [knob, outcome] of [["none", "lost"], ["spin_lock", "won"]] as const) {
      const p = await player(s.url, "defender");
      const j = await p.ok<"joined">({ type: "create", level: "basics-spinlock" });
      expect(j.state.room.policy).toBe("adversary");
      expect(j.state.room.seats[1].bot).toBe("adversary");
      await p.ok({ type: "claim", cpu: 0 });
      await p.ok({ type: "knob", seq: 0, knob: "lock", value: knob });
      // The player only ever steps CPU0; the bot answers on CPU1.
      let result = null;
      for (let i = 0; i < 40 && !result; i++) {
        const seq = p.seq;
        const r = await p.request({ type: "step", seq, cpu: 0 });
        if (r.type === "error") {
          expect(["not-runnable", "stale-seq"]).toContain(r.code);
          // Our CPU is done or the bot moved first: wait for the bot's next move or the end.
          await p.take("update", (m) => m.seq > seq);
        }
        result = p.result;
      }
      expect(result).toMatchObject({ outcome });
      const bots = p.log.flatMap((m) => (m.type === "update" && m.event.kind === "step" ? [m.event] : [])).filter((e) => e.by === "bot");
      expect(bots.length).toBeGreaterThan(0);
      expect(bots.every((e) => e.kind === "step" && e.entry.cpu === 1)).toBe(true);
      await p.refused({ type: "knob", seq: p.seq, knob: "lock", value: "none" }, "game-over");
      await p.ok({ type: "leave" });
    }
  });

  it("an eager bot steps the CPU nobody holds; a player may not step it", async () => {
    const s = await server();
    const p = await player(s.url, "solo");
    await p.ok({ type: "create", level: "basics-lost-update", policy: "eager" });
    await p.ok({ type: "claim", cpu: 0 });
    await p.refused({ type: "step", seq: 0, cpu: 1 }, "not-your-cpu");
    await p.ok({ type: "step", seq: 0, cpu: 0 });
    const u = await p.take("update", (m) => m.event.kind === "step" && m.event.by === "bot");
    expect(u.event.kind === "step" && u.event.entry.cpu).toBe(1);
  });

  it("after a result: retry starts attempt 2 on the same level, next moves on; both only after a result", async () => {
    const s = await server();
    const p = await player(s.url, "solo");
    await p.ok({ type: "create", level: "basics-lost-update" });
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "claim", cpu: 1 });
    await p.refused({ type: "retry", seq: 0 }, "game-not-over");
    for (const cpu of [0, 1, 0, 1]) await p.ok({ type: "step", seq: p.seq, cpu });
    await p.ok({ type: "retry", seq: p.seq });
    const retry = await p.take("update", (m) => m.event.kind === "attempt");
    expect(retry.event).toMatchObject({ attempt: expect.stringMatching(/-2$/), level: "basics-lost-update" });
    expect(retry.game).toMatchObject({ phase: "setup", steps: 0, result: null });
    for (const cpu of [0, 0, 1, 1]) await p.ok({ type: "step", seq: p.seq, cpu });
    await p.ok({ type: "next", seq: p.seq });
    const next = await p.take("update", (m) => m.event.kind === "attempt" && m.event.level === "basics-spinlock");
    expect(next.event).toMatchObject({ attempt: expect.stringMatching(/-3$/) });
    const room = await p.take("room", (m) => m.room.level.id === "basics-spinlock");
    expect(room.room.seats.map((x) => x.holder !== null)).toEqual([true, true]);
  });

  it("versus rooms: a claim names a side; the room reports the winning side", async () => {
    const s = await server();
    const red = await player(s.url, "red");
    const blue = await player(s.url, "blue");
    const j = await red.ok<"joined">({ type: "create", level: "basics-lost-update", versus: true });
    await blue.ok({ type: "join", room: j.state.room.code });
    await red.refused({ type: "claim", cpu: 0 }, "side-required");
    await red.ok({ type: "claim", cpu: 0, side: "red" });
    await blue.ok({ type: "claim", cpu: 1, side: "blue" });
    const room = await blue.take("room", (m) => m.room.seats[1].side === "blue");
    expect(room.room.seats.map((x) => x.side)).toEqual(["red", "blue"]);
    let seq = 0;
    for (const [who, cpu] of [[red, 0], [blue, 1], [red, 0], [blue, 1]] as const) {
      await who.sees(seq);
      await who.ok({ type: "step", seq: seq++, cpu });
    }
    const end = await red.take("update", (m) => m.game.result !== null);
    expect(end.game.result!.winner).toBe("red");
  });
});

describe("rooms and memory", () => {
  it("an empty room leaves memory and is rebuilt from its log when someone joins it again", async () => {
    const s = await server({ timing: { roomIdleMs: 20 } });
    const p = await player(s.url, "p");
    const code = (await p.ok<"joined">({ type: "create", level: "basics-lost-update" })).state.room.code;
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "step", seq: 0, cpu: 0 });
    await p.ok({ type: "hint", seq: 1 });
    await p.ok({ type: "leave" });
    // Bounded wait for the idle timer (no fixed sleep: poll the registry).
    for (let i = 0; i < 400 && s.hub.registry.rooms.has(code); i++) await new Promise((r) => setTimeout(r, 5));
    expect(s.hub.registry.rooms.has(code)).toBe(false);
    const q = await player(s.url, "q");
    const j = await q.ok<"joined">({ type: "join", room: code });
    expect(j.state).toMatchObject({ seq: 2, game: { steps: 1, hintsUsed: 1, phase: "play" } });
    expect(j.state.trace[0]).toMatchObject({ step: 1, cpu: 0, by: expect.any(String) });
  });
});
