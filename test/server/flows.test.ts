// The flows a class walks through (issue 14): n and retry give each level its
// own bots unless the room's creator chose some, and a solo versus game against
// either side's bot ends, with the server saying who it waits for.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCampaign, loadLevelFile, type Level } from "../../src/level/load.js";
import type { TestClient } from "./client.js";
import { player, server } from "./harness.js";

const VERSUS = "versus-lost-update";
let levels: Level[] | null = null;
function campaign(): Level[] {
  if (!levels) {
    const all = loadCampaign();
    const versus = loadLevelFile(join(import.meta.dirname, "..", "fixtures", `${VERSUS}.yaml`));
    levels = [...all, versus];
  }
  return levels;
}

/** Step CPU `cpu` whenever it can run, until the attempt ends; returns the last game view. */
async function playOut(p: TestClient, cpu: number, max = 60) {
  for (let i = 0; i < max; i++) {
    const last = p.log.filter((m) => m.type === "update" || m.type === "joined" || m.type === "state").at(-1)!;
    const game = last.type === "update" ? last.game : last.type === "joined" || last.type === "state" ? last.state.game : null;
    if (game?.result) return game;
    const seq = p.seq;
    if (game && game.phase !== "over" && game.cpus[cpu].state === "ready") {
      const r = await p.request({ type: "step", seq, cpu });
      if (r.type === "error") expect(["stale-seq", "not-runnable", "game-over"]).toContain(r.code);
    }
    // Wait for the next thing to happen (a bot move or the end).
    await p.take("update", (m) => m.seq > seq).catch(() => undefined);
  }
  throw new Error("the game did not end");
}

describe("n and retry give each level its own bots", () => {
  it("from a hunt, n into a defend level brings the adversary; an explicit choice stays", async () => {
    const s = await server();
    const p = await player(s.url, "solo");
    const j = await p.ok<"joined">({ type: "create", level: "basics-lost-update" });
    expect(j.state.room.policy).toBe("manual");
    await p.ok({ type: "claim", cpu: 0 });
    for (const cpu of [0, 1, 0, 1]) await p.ok({ type: "step", seq: p.seq, cpu });
    await p.ok({ type: "next", seq: p.seq });
    const room = await p.take("room", (m) => m.room.level.id === "basics-spinlock");
    expect(room.room.policy).toBe("adversary");
    expect(room.room.seats[1]).toMatchObject({ holder: null, bot: "adversary" });
    // The adversary now plays CPU1: a player may not step it.
    await p.refused({ type: "step", seq: p.seq, cpu: 1 }, "not-your-cpu");
    await p.ok({ type: "leave" });

    // Chosen explicitly: manual on every level.
    await p.ok({ type: "create", level: "basics-lost-update", policy: "manual" });
    await p.ok({ type: "claim", cpu: 0 });
    for (const cpu of [0, 1, 0, 1]) await p.ok({ type: "step", seq: p.seq, cpu });
    await p.ok({ type: "next", seq: p.seq });
    const manual = await p.take("room", (m) => m.room.level.id === "basics-spinlock");
    expect(manual.room.policy).toBe("manual");
    expect(manual.room.seats[1].bot).toBe("manual");
  });
});

describe("the status line says who the game waits for", () => {
  it("defend: the adversary reads, then waits for the player, and the game view says so", async () => {
    const s = await server();
    const p = await player(s.url, "solo");
    await p.ok({ type: "create", level: "basics-spinlock" });
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "start", seq: p.seq });
    const waits = await p.take("update", (m) => typeof m.game.waiting === "string");
    expect(waits.event).toMatchObject({ kind: "step", by: "bot" });
    expect(waits.game.waiting).toBe("Waiting for solo to step CPU0 (T0) (the adversary bot waits: each of its moves would lose the race).");
  });

  it("a manual hunt room says nothing: the players schedule every CPU", async () => {
    const s = await server();
    const p = await player(s.url, "solo");
    await p.ok({ type: "create", level: "basics-lost-update" });
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "step", seq: p.seq, cpu: 0 });
    const u = await p.take("update", (m) => m.event.kind === "step");
    expect(u.game.waiting ?? null).toBeNull();
  });
});

describe("solo versus against a side's bot", () => {
  it("a player on blue: the red bot (adversary) plays T0, says when it waits, and the game ends", async () => {
    const s = await server({ levels: campaign() });
    const p = await player(s.url, "ada");
    const j = await p.ok<"joined">({ type: "create", level: VERSUS });
    expect(j.state.room.policy).toBe("adversary");
    expect(j.state.room.seats.map((x) => [x.side, x.bot])).toEqual([
      ["red", "adversary"],
      ["blue", "guard"],
    ]);
    await p.ok({ type: "claim", cpu: 1, side: "blue" });
    // A human steps only their side.
    await p.refused({ type: "step", seq: p.seq, cpu: 0 }, "not-your-cpu");
    await p.ok({ type: "start", seq: p.seq });
    // Red reads, then parks (its write would lose the race): the server says it waits for ada.
    const waits = await p.take("update", (m) => typeof m.game.waiting === "string");
    expect(waits.game.waiting).toContain("Waiting for ada (blue) to step CPU1 (T1)");
    expect(waits.game.waiting).toContain("red bot waits");
    const end = await playOut(p, 1);
    expect(end.result!.winner).not.toBeNull();
    const bots = p.log.flatMap((m) => (m.type === "update" && m.event.kind === "step" && m.event.by === "bot" ? [m.event.entry.cpu] : []));
    expect(bots.length).toBeGreaterThan(0);
    expect(bots.every((c) => c === 0)).toBe(true);
  });

  it("a player on red: the blue bot (guard) plays T1 and never waits; the game ends", async () => {
    const s = await server({ levels: campaign() });
    const p = await player(s.url, "bob");
    await p.ok({ type: "create", level: VERSUS });
    await p.ok({ type: "claim", cpu: 0, side: "red" });
    await p.refused({ type: "step", seq: p.seq, cpu: 1 }, "not-your-cpu");
    await p.ok({ type: "start", seq: p.seq });
    const end = await playOut(p, 0);
    // Who wins depends on who is quicker (the guard moves as soon as play starts); it ends either way.
    expect(end.result!.winner).not.toBeNull();
    const views = p.log.flatMap((m) => (m.type === "update" ? [m] : []));
    expect(views.every((m) => !m.game.waiting?.includes("blue bot waits"))).toBe(true);
    const bots = views.flatMap((m) => (m.event.kind === "step" && m.event.by === "bot" ? [m.event.entry.cpu] : []));
    expect(bots.length).toBeGreaterThan(0);
    expect(bots.every((c) => c === 1)).toBe(true);
  });
});

describe("a versus room on a level without sides", () => {
  it("a free CPU plays against the side the players chose, by the guard when that is blue", async () => {
    const s = await server();
    const p = await player(s.url, "ada");
    await p.ok({ type: "create", level: "basics-lost-update", versus: true });
    await p.ok({ type: "claim", cpu: 0, side: "red" });
    const room = await p.take("room", (m) => m.room.seats[0].holder !== null);
    expect(room.room.seats.map((x) => [x.side, x.bot])).toEqual([
      ["red", null],
      ["blue", "guard"],
    ]);
    await p.refused({ type: "step", seq: p.seq, cpu: 1 }, "not-your-cpu");
  });
});

describe("versus results in the export", () => {
  it("a versus row says which side won and carries its score", async () => {
    const { resultRow } = await import("../../server/storage/rows.js");
    const room = { code: "RRRRRR", level: VERSUS, policy: "level" as const, versus: true, workshop: "WWWWWWWW", team: null, createdAt: 0 };
    const a = { id: "RRRRRR-1", room: "RRRRRR", n: 1, level: VERSUS, startSeq: 0, startedAt: 0 };
    const r = { outcome: "won" as const, reason: "finished" as const, oracle: null, steps: 4, par: 4, preemptions: 1, parPreemptions: 1, hintsUsed: 0, rewinds: 0, resets: 0, durationMs: 1, score: 1000, counterexample: null, winner: "blue" as const, scores: { red: 0, blue: 1000 } };
    expect(resultRow(room, a, {}, r, 1, ["ada"])).toMatchObject({ outcome: "blue won", score: 1000 });
  });
});

describe("released hints in the results (item 10)", () => {
  it("a result counts the instructor's released hints apart, and the export has a column for them", async () => {
    const { applyCommand, newSession } = await import("../../src/game/session.js");
    const { resultRow } = await import("../../server/storage/rows.js");
    const { toCsv } = await import("../../src/cli/results.js");
    const lv = campaign().find((l) => l.id === "basics-lost-update")!;
    let s = newSession(lv);
    s = applyCommand(lv, s, { kind: "hint", free: true }, 0, "instructor").s;
    s = applyCommand(lv, s, { kind: "hint" }, 0, "p").s;
    for (const actor of [0, 1, 0, 1]) s = applyCommand(lv, s, { kind: "step", actor }, 1, "p").s;
    expect(s.result).toMatchObject({ outcome: "won", hintsUsed: 1, hintsReleased: 1 });
    const room = { code: "RRRRRR", level: lv.id, policy: "level" as const, versus: false, workshop: "WWWWWWWW", team: "reds", createdAt: 0 };
    const a = { id: "RRRRRR-1", room: "RRRRRR", n: 1, level: lv.id, startSeq: 0, startedAt: 0 };
    const row = resultRow(room, a, {}, s.result!, 1, ["ada"]);
    expect(row).toMatchObject({ hints: 1, hintsReleased: 1 });
    const csv = toCsv([row]).split("\r\n");
    expect(csv[0]).toContain(",hints,hintsReleased,rewinds,");
    expect(csv[1]).toContain(",1,1,0,");
  });
});
