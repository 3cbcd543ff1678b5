// Versus levels over real sockets: a room on a versus-mode level is a versus
// room whatever the create request says, a claim names the side the level gives
// that CPU, and the result names the winning side. The level is a test fixture
// (test/fixtures/versus-lost-update.yaml) put into the campaign after the first level.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCampaign, loadLevelFile, type Level } from "../../src/level/load.js";
import { player, server } from "./harness.js";
import type { TestClient } from "./client.js";

const VERSUS = "versus-lost-update";
let levels: Level[] | null = null;
function campaign(): Level[] {
  if (!levels) {
    const all = loadCampaign();
    const versus = loadLevelFile(join(import.meta.dirname, "..", "fixtures", `${VERSUS}.yaml`));
    levels = [all[0], versus, ...all.slice(1)];
  }
  return levels;
}

/** Steps in turn, each player waiting to hear of the previous step first. */
async function play(moves: [TestClient, number][], from = 0): Promise<void> {
  let seq = from;
  for (const [who, cpu] of moves) {
    await who.sees(seq);
    await who.ok({ type: "step", seq: seq++, cpu });
  }
}

describe("versus levels", () => {
  it("the welcome lists a versus level with each CPU's side", async () => {
    const s = await server({ levels: campaign() });
    const p = await player(s.url, "p");
    const welcome = p.log.find((m) => m.type === "welcome")!;
    if (welcome.type !== "welcome") throw new Error("no welcome");
    const info = welcome.levels.find((l) => l.id === VERSUS)!;
    expect(info).toMatchObject({ mode: "versus", par: 4, knobs: [], cpus: [{ name: "T0", side: "red" }, { name: "T1", side: "blue" }] });
    // A level without sides says nothing about them.
    expect(welcome.levels[0].cpus).toEqual([{ name: "T0" }, { name: "T1" }]);
  });

  it("a room on a versus level is a versus room, even when created with versus: false", async () => {
    const s = await server({ levels: campaign() });
    const a = await player(s.url, "a");
    const b = await player(s.url, "b");
    const plain = await a.ok<"joined">({ type: "create", level: VERSUS });
    expect(plain.state.room).toMatchObject({ versus: true, level: { mode: "versus" } });
    const asFalse = await b.ok<"joined">({ type: "create", level: VERSUS, versus: false });
    expect(asFalse.state.room.versus).toBe(true);
    // Other levels stay as asked.
    await a.ok({ type: "leave" });
    expect((await a.ok<"joined">({ type: "create", level: "basics-lost-update" })).state.room.versus).toBe(false);
  });

  it("a claim needs the CPU's side; the room reports the sides and red wins by the race", async () => {
    const s = await server({ levels: campaign() });
    const red = await player(s.url, "red");
    const blue = await player(s.url, "blue");
    const j = await red.ok<"joined">({ type: "create", level: VERSUS });
    await blue.ok({ type: "join", room: j.state.room.code });
    const missing = await red.refused({ type: "claim", cpu: 0 }, "side-required");
    expect(missing.message).toContain("red (CPU0 plays for red)");
    await red.refused({ type: "claim", cpu: 0, side: "blue" }, "wrong-side");
    await red.ok({ type: "claim", cpu: 0, side: "red" });
    await blue.ok({ type: "claim", cpu: 1, side: "blue" });
    const room = await red.take("room", (m) => m.room.seats[1].side === "blue" && m.room.seats[1].holder !== null);
    expect(room.room.seats.map((x) => [x.holder !== null, x.side])).toEqual([
      [true, "red"],
      [true, "blue"],
    ]);
    await play([
      [red, 0],
      [blue, 1],
      [red, 0],
      [blue, 1],
    ]);
    const end = await blue.take("update", (m) => m.game.result !== null);
    expect(end.game.result).toMatchObject({ reason: "oracle", winner: "red", oracle: { id: "lost-update" } });
  });

  it("blue wins when every CPU finishes safely", async () => {
    const s = await server({ levels: campaign() });
    const red = await player(s.url, "red");
    const blue = await player(s.url, "blue");
    const j = await red.ok<"joined">({ type: "create", level: VERSUS });
    await blue.ok({ type: "join", room: j.state.room.code });
    await red.ok({ type: "claim", cpu: 0, side: "red" });
    await blue.ok({ type: "claim", cpu: 1, side: "blue" });
    await play([
      [red, 0],
      [red, 0],
      [blue, 1],
      [blue, 1],
    ]);
    const end = await red.take("update", (m) => m.game.result !== null);
    expect(end.game.result!.winner).toBe("blue");
    expect(end.game.result!.oracle).toBeNull();
  });

  it("next from a plain room onto a versus level makes the room versus, with the level's sides on held seats", async () => {
    const s = await server({ levels: campaign() });
    const p = await player(s.url, "p");
    await p.ok({ type: "create", level: "basics-lost-update" });
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "claim", cpu: 1 });
    for (const cpu of [0, 1, 0, 1]) await p.ok({ type: "step", seq: p.seq, cpu });
    await p.ok({ type: "next", seq: p.seq });
    const room = await p.take("room", (m) => m.room.level.id === VERSUS);
    expect(room.room.versus).toBe(true);
    expect(room.room.seats.map((x) => x.side)).toEqual(["red", "blue"]);
    for (const cpu of [0, 1, 0, 1]) await p.ok({ type: "step", seq: p.seq, cpu });
    const end = await p.take("update", (m) => m.game.level === VERSUS && m.game.result !== null);
    expect(end.game.result!.winner).toBe("red");
    // The replay of that attempt is judged as it was played: versus.
    const replay = await p.ok<"replay">({ type: "replay" });
    expect(replay.result!.winner).toBe("red");
  });
});
