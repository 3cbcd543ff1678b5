// Late joins, reconnection with resume tokens, and seats that cannot be stolen.
import { describe, expect, it } from "vitest";
import { CloseCode } from "../../src/protocol/codes.js";
import { findLevel, loadCampaign } from "../../src/level/load.js";
import { PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { connect, player, server } from "./harness.js";
import type { TestClient } from "./client.js";

async function room(url: string, level = "basics-lost-update") {
  const alice = await player(url, "alice");
  const joined = await alice.ok<"joined">({ type: "create", level });
  await alice.ok({ type: "claim", cpu: 0 });
  return { alice, joined, code: joined.state.room.code };
}

async function resume(url: string, token: string, name = "again"): Promise<TestClient> {
  const c = await connect(url);
  c.send({ type: "hello", protocol: [PROTOCOL_VERSION], name, resume: token });
  return c;
}

describe("late join", () => {
  it("a late joiner gets the full snapshot: the same trace, machine and seq as those who were there", async () => {
    const s = await server();
    const { alice, code } = await room(s.url);
    await alice.ok({ type: "claim", cpu: 1 });
    for (const cpu of [0, 1, 0]) await alice.ok({ type: "step", seq: alice.seq, cpu });
    await alice.ok({ type: "hint", seq: alice.seq });
    const late = await player(s.url, "late");
    const j = await late.ok<"joined">({ type: "join", room: code });
    expect(j.state.seq).toBe(4);
    expect(j.state.trace.map((t) => t.cpu)).toEqual([0, 1, 0]);
    const lastUpdate = alice.log.filter((m) => m.type === "update").at(-1)!;
    if (lastUpdate.type !== "update") throw new Error();
    // The same game; the snapshot carries every kernel-path listing sent in the attempt, an update only new ones.
    expect({ ...j.state.game, listings: {} }).toEqual({ ...lastUpdate.game, listings: {} });
    expect(Object.keys(j.state.game.listings!)).toEqual(["counter_inc_unlocked"]);
    expect(j.state.game.hints).toHaveLength(1);
    expect(j.state.intro).toBe(findLevel(loadCampaign(), "basics-lost-update")!.intro);
    // A spectator watches: game actions are refused until it holds a CPU.
    await late.refused({ type: "step", seq: 4, cpu: 1 }, "not-a-player");
    await late.refused({ type: "hint", seq: 4 }, "not-a-player");
    // The others see the newcomer.
    const r = await alice.take("room", (m) => m.room.members.some((x) => x.name === "late"));
    expect(r.room.members.map((x) => x.name).sort()).toEqual(["alice", "late"]);
  });
});

describe("reconnection", () => {
  it("within the grace period the seat waits, then the token resumes it; the old token is spent", async () => {
    const s = await server({ timing: { graceMs: 5_000 } });
    const { alice, joined, code } = await room(s.url);
    const bob = await player(s.url, "bob");
    await bob.ok({ type: "join", room: code });
    await alice.ok({ type: "step", seq: 0, cpu: 0 });
    await alice.drop();
    const gone = await bob.take("room", (m) => m.room.members.some((x) => x.id === joined.you.member && !x.connected));
    expect(gone.room.seats[0].holder).toBe(joined.you.member);
    await bob.refused({ type: "claim", cpu: 0 }, "seat-taken");

    const back = await resume(s.url, joined.you.token);
    const w = await back.take("welcome");
    expect(w).toMatchObject({ resumed: true, player: { id: joined.you.member, name: "alice" } });
    const again = await back.take("joined");
    expect(again.you.member).toBe(joined.you.member);
    expect(again.you.token).not.toBe(joined.you.token);
    expect(again.state.seq).toBe(1);
    expect(again.state.room.seats[0].holder).toBe(joined.you.member);
    await bob.take("room", (m) => m.room.members.every((x) => x.connected));
    await back.ok({ type: "step", seq: 1, cpu: 0 });

    // Tokens are single-use: the first one no longer works.
    const replayed = await resume(s.url, joined.you.token);
    await replayed.take("error", (m) => m.code === "resume-failed");
    expect((await replayed.closed).code).toBe(CloseCode.FAILED_TO_RECONNECT);
  });

  it("after the grace period the seat is free and the token is dead", async () => {
    const s = await server({ timing: { graceMs: 50 } });
    const { alice, joined, code } = await room(s.url);
    const bob = await player(s.url, "bob");
    await bob.ok({ type: "join", room: code });
    await alice.drop();
    await bob.take("room", (m) => m.room.members.length === 1 && m.room.seats[0].holder === null);
    await bob.ok({ type: "claim", cpu: 0 });
    const late = await resume(s.url, joined.you.token);
    await late.take("error", (m) => m.code === "resume-failed");
    expect((await late.closed).code).toBe(CloseCode.FAILED_TO_RECONNECT);
  });

  it("a consented close (4000) leaves at once, with no grace period", async () => {
    const s = await server({ timing: { graceMs: 60_000 } });
    const { alice, code } = await room(s.url);
    const bob = await player(s.url, "bob");
    await bob.ok({ type: "join", room: code });
    await alice.close(CloseCode.CONSENTED);
    await bob.take("room", (m) => m.room.members.length === 1 && m.room.seats[0].holder === null);
  });

  it("resuming while the old socket is still open moves the session and closes the old one (4011)", async () => {
    const s = await server();
    const { alice, joined } = await room(s.url);
    const second = await resume(s.url, joined.you.token);
    await second.take("joined");
    expect((await alice.closed).code).toBe(CloseCode.SESSION_REPLACED);
    await second.ok({ type: "step", seq: 0, cpu: 0 });
  });

  it("tokens never reach anyone else: no other client's messages contain them", async () => {
    const s = await server();
    const { alice, joined, code } = await room(s.url);
    const bob = await player(s.url, "bob");
    const bj = await bob.ok<"joined">({ type: "join", room: code });
    await bob.ok({ type: "claim", cpu: 1 });
    await alice.drop();
    const back = await resume(s.url, joined.you.token);
    const again = await back.take("joined");
    await back.ok({ type: "step", seq: 0, cpu: 0 });
    await bob.sees(1);
    const bobSaw = JSON.stringify(bob.log);
    for (const t of [joined.you.token, again.you.token]) expect(bobSaw).not.toContain(t);
    const aliceSaw = JSON.stringify([...alice.log, ...back.log]);
    expect(aliceSaw).not.toContain(bj.you.token);
  });
});

describe("seat hijacks are refused", () => {
  it("claiming a held CPU, stepping someone else's CPU, a guessed token, a stale seq: typed errors, nothing changes", async () => {
    const s = await server();
    const { alice, joined, code } = await room(s.url);
    await alice.ok({ type: "claim", cpu: 1 });
    const mallory = await player(s.url, "mallory");
    await mallory.ok({ type: "join", room: code });
    const before = s.hub.registry.rooms.get(code)!.snapshot();

    expect((await mallory.refused({ type: "claim", cpu: 0 }, "seat-taken")).message).toMatch(/alice/);
    await mallory.refused({ type: "release", cpu: 0 }, "not-your-cpu");
    await mallory.refused({ type: "step", seq: 0, cpu: 0 }, "not-a-player");
    await mallory.refused({ type: "claim", cpu: 9 }, "no-such-cpu");

    // Even holding a CPU of its own, mallory cannot drive alice's.
    await alice.ok({ type: "release", cpu: 1 });
    await mallory.ok({ type: "claim", cpu: 1 });
    await mallory.refused({ type: "step", seq: 0, cpu: 0 }, "not-your-cpu");
    await mallory.refused({ type: "step", seq: 0, cpu: "dma" }, "bad-action");

    // A stale sequence number: someone moved first.
    await alice.ok({ type: "step", seq: 0, cpu: 0 });
    const stale = await mallory.refused({ type: "step", seq: 0, cpu: 1 }, "stale-seq");
    expect(stale.seq).toBe(1);

    // A made-up resume token.
    const guess = await resume(s.url, "A".repeat(43));
    await guess.take("error", (m) => m.code === "resume-failed");
    expect((await guess.closed).code).toBe(CloseCode.FAILED_TO_RECONNECT);

    const after = s.hub.registry.rooms.get(code)!.snapshot();
    expect(after.seq).toBe(before.seq + 1);
    expect(after.trace.map((t) => t.by)).toEqual([joined.you.member]);
  });
});
