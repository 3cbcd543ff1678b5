// Watchers (issue 17, item 4): `join` with `watch` enters a room without a seat.
// A watcher hears everything the players hear, in order, to the debrief; every
// game action, claim and release it sends is refused (watch-only) and changes
// nothing; it is listed as a watcher, not a member, and does not keep the bots
// moving. Real sockets throughout.
import { describe, expect, it } from "vitest";
import type { RunningServer } from "../../server/index.js";
import type { ServerMessage, ServerMessageOf } from "../../src/protocol/server.js";
import type { TestClient } from "./client.js";
import { connect, player, server } from "./harness.js";

const updates = (c: TestClient) => c.log.filter((m): m is ServerMessageOf<"update"> => m.type === "update");

async function roomWithWatcher(s: RunningServer, level = "basics-lost-update", policy?: string) {
  const ada = await player(s.url, "ada");
  const j = await ada.ok<"joined">({ type: "create", level, ...(policy ? { policy } : {}) });
  const code = j.state.room.code;
  await ada.ok({ type: "claim", cpu: 0 });
  const eve = await player(s.url, "eve");
  const w = await eve.ok<"joined">({ type: "join", room: code, watch: true });
  return { ada, eve, code, w };
}

describe("watching a room", () => {
  it("a watcher is listed as one, not as a member, and gets every update in order, to the result and its share line", async () => {
    const s = await server();
    const { ada, eve, code, w } = await roomWithWatcher(s);
    expect(w.you.watch).toBe(true);
    expect(w.state.room.members.map((m) => m.name)).toEqual(["ada"]);
    expect(w.state.room.watchers).toEqual([{ id: w.you.member, name: "eve", connected: true }]);
    // The players hear of the watcher too.
    const seen = await ada.take("room", (m) => (m.room.watchers ?? []).some((x) => x.name === "eve"));
    expect(seen.room.members).toHaveLength(1);
    // The player plays both CPUs of the manual room: steps, a run, a rewind, to the lost update.
    const seq = () => ada.seq;
    await ada.ok({ type: "step", seq: seq(), cpu: 1 });
    await ada.ok({ type: "run", seq: seq(), cpu: 0 }); // reads and writes: the writes commute here
    await ada.ok({ type: "rewind", seq: seq() }); // cuts the run: its read stays, as a step
    await ada.ok({ type: "run", seq: seq(), cpu: 1 });
    const last = await ada.ok({ type: "step", seq: seq(), cpu: 0 });
    await eve.sees(last.seq!);
    const mine = updates(ada);
    const theirs = updates(eve);
    expect(theirs.map((u) => u.seq)).toEqual(mine.map((u) => u.seq));
    expect(theirs.map((u) => u.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(theirs.map((u) => u.event)).toEqual(mine.map((u) => u.event));
    const end = theirs.at(-1)!.game;
    expect(end.phase).toBe("over");
    expect(end.result).toMatchObject({ outcome: "won", share: { schedule: "1 0 1+ 0", command: 'faultline run basics-lost-update --schedule "1 0 1+ 0"' } });
    expect(end.debrief).toBeTruthy();
    // A watcher may ask for the replay (reading is not acting).
    const r = await eve.ok<"replay">({ type: "replay" });
    expect(r.trace.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(eve.invalid).toEqual([]);
    expect(s.hub.registry.rooms.get(code)!.members.size).toBe(1);
  });

  it("every game action, claim and release a watcher sends is refused with watch-only, and nothing changes", async () => {
    const s = await server();
    const { ada, eve, code } = await roomWithWatcher(s, "basics-spinlock", "manual");
    const room = s.hub.registry.rooms.get(code)!;
    const acts: Record<string, unknown>[] = [
      { type: "knob", seq: 0, knob: "lock", value: "spin_lock" },
      { type: "start", seq: 0 },
      { type: "step", seq: 0, cpu: 1 },
      { type: "run", seq: 0, cpu: 1 },
      { type: "hint", seq: 0 },
      { type: "rewind", seq: 0 },
      { type: "reset", seq: 0 },
      { type: "retry", seq: 0 },
      { type: "next", seq: 0 },
      { type: "claim", cpu: 1 },
      { type: "release", cpu: 0 },
    ];
    for (const a of acts) {
      const e = await eve.refused({ ...(a as { type: string }) }, "watch-only");
      expect(e.message).toMatch(/to watch/);
    }
    expect(room.seq).toBe(0);
    expect(room.seats).toEqual([ada.log.find((m): m is ServerMessageOf<"joined"> => m.type === "joined")!.you.member, null]);
    expect(updates(eve)).toEqual([]);
    // Leaving and joining without watch makes a player of the same connection.
    await eve.ok({ type: "leave" });
    const j = await eve.ok<"joined">({ type: "join", room: code });
    expect(j.you.watch).toBeUndefined();
    await eve.ok({ type: "claim", cpu: 1 });
    expect((await eve.ok({ type: "step", seq: 0, cpu: 1 })).seq).toBe(1);
  });

  it("a room's watchers have their own cap, and do not take members' places", async () => {
    const s = await server({ limits: { maxMembersPerRoom: 1, maxWatchersPerRoom: 1 } });
    const { code } = await roomWithWatcher(s);
    const zed = await player(s.url, "zed");
    await zed.refused({ type: "join", room: code, watch: true }, "room-full");
    await zed.refused({ type: "join", room: code }, "room-full");
  });

  it("a watcher's joins count in the connection's message rate and its address's arrivals", async () => {
    const s = await server({ limits: { messagesPerSecond: 0.001, messageBurst: 4 } });
    const { code } = await roomWithWatcher(s);
    const zed = await player(s.url, "zed"); // its hello is the first of four
    await zed.ok<"joined">({ type: "join", room: code, watch: true });
    await zed.ok({ type: "leave" });
    await zed.ok<"joined">({ type: "join", room: code, watch: true });
    await zed.refused({ type: "leave" }, "rate-limited");
    const t = await server({ limits: { admissionsPerMinute: 0.001, admissionBurst: 5 } });
    const r = await roomWithWatcher(t); // hello, create, hello, join: four arrivals
    const yan = await connect(t.url);
    yan.send({ type: "hello", protocol: [1], name: "yan" });
    await yan.take("welcome");
    await yan.refused({ type: "join", room: r.code, watch: true }, "rate-limited");
  });

  it("a watcher does not keep the bots moving: with only a watcher connected they wait, and move once the player is back", async () => {
    const s = await server({ timing: { botDelayMs: 150 } });
    const { ada, eve, code } = await roomWithWatcher(s, "basics-lost-update", "eager");
    const token = ada.log.find((m): m is ServerMessageOf<"joined"> => m.type === "joined")!.you.token;
    expect((await ada.ok({ type: "start", seq: 0 })).seq).toBe(1);
    await ada.drop();
    await eve.take("room", (m) => m.room.members.every((x) => !x.connected));
    const room = s.hub.registry.rooms.get(code)!;
    const seq = room.seq;
    // Past the armed move's due time: a timer armed later with a longer delay fires after it.
    await new Promise((r) => setTimeout(r, 170));
    expect(room.seq).toBe(seq);
    expect(s.storage.lastSeq(code)).toBe(seq);
    const back = await connect(s.url);
    back.send({ type: "hello", protocol: [1], name: "ada", resume: token });
    await back.take("joined");
    const u = await eve.take("update", (m) => m.event.kind === "step" && m.event.by === "bot");
    expect(u.seq).toBe(seq + 1);
  });

  it("a watcher that drops keeps its place for the grace period and resumes as a watcher", async () => {
    const s = await server();
    const { eve, code, w } = await roomWithWatcher(s);
    await eve.drop();
    const room = s.hub.registry.rooms.get(code)!;
    expect(room.watchers.size).toBe(1);
    const back = await connect(s.url);
    back.send({ type: "hello", protocol: [1], name: "eve", resume: w.you.token });
    await back.take("welcome");
    const j = await back.take("joined");
    expect(j.you).toMatchObject({ member: w.you.member, watch: true });
    expect(j.state.room.watchers).toEqual([{ id: w.you.member, name: "eve", connected: true }]);
    await back.refused({ type: "step", seq: 0, cpu: 0 }, "watch-only");
  });

  it("a watcher's name passes the door's name rules: ESC sequences, bidi and zero-width characters are refused, never shown", async () => {
    const s = await server();
    const { ada, code } = await roomWithWatcher(s);
    for (const name of ["\u001b]0;owned\u0007eve", "\u001b[2Jeve", "eve\u202egnp.exe", "e\u200bve"]) {
      const c = await connect(s.url);
      c.send({ type: "hello", protocol: [1], name });
      const e = await c.take("error");
      expect(e.code).toBe("bad-frame");
      // Still before hello: it cannot join, so the name never reaches the room.
      await c.refused({ type: "join", room: code, watch: true }, "hello-first");
    }
    const names = ada.log.flatMap((m: ServerMessage) => (m.type === "room" ? (m.room.watchers ?? []).map((x) => x.name) : []));
    expect(names.every((n) => !/[\p{Cc}\p{Cf}]/u.test(n))).toBe(true);
    expect(new Set(names)).toEqual(new Set(["eve"]));
  });
});
