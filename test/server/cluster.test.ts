// Several nodes in one process, on the real Redis and PostgreSQL (a key prefix and a schema
// per test): a room runs on one node and its members may be on any; workshops reach every
// node; a node that stops hands its rooms over, and resume tokens work on any node.
import { afterAll, describe, expect, it } from "vitest";
import { findLevel, loadCampaign } from "../../src/level/load.js";
import { verifySetting } from "../../src/level/verify.js";
import { parseSchedule } from "../../src/sim/schedule.js";
import type { Action } from "../../src/sim/types.js";
import { Redis } from "ioredis";
import type { RunningServer } from "../../server/index.js";
import { TestClient } from "./client.js";
import { player, server, track } from "./harness.js";
import { PG_URL, pgStore, REDIS_URL, uniqueName } from "./services.js";

const campaign = loadCampaign();
const shortest = (id: string): Action[] => parseSchedule(verifySetting(findLevel(campaign, id)!, {}).schedule!);

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

/** n nodes of one service: one schema, one key prefix, a short lease. */
async function service(n: number, leaseMs = 600): Promise<{ nodes: RunningServer[]; start: () => Promise<RunningServer>; prefix: string }> {
  const schema = uniqueName("cl");
  const prefix = `${uniqueName("fl")}:`;
  cleanups.push(async () => {
    await (await pgStore(schema)).dropSchema();
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    await r.quit();
  });
  const start = () => server({ postgres: PG_URL, postgresSchema: schema, redis: REDIS_URL, cluster: { prefix, leaseMs } });
  const nodes: RunningServer[] = [];
  for (let i = 0; i < n; i++) nodes.push(await start());
  return { nodes, start, prefix };
}

describe("nodes on Redis and PostgreSQL", () => {
  it("players of one room on different nodes play a level to a result; the room runs on one node", async () => {
    const { nodes } = await service(3);
    const [a, b, c] = nodes;
    const alice = await player(a.url, "alice");
    const bob = await player(b.url, "bob");
    const carol = await player(c.url, "carol");
    const joined = await alice.ok<"joined">({ type: "create", level: "basics-lost-update" });
    const code = joined.state.room.code;
    const bj = await bob.ok<"joined">({ type: "join", room: code });
    expect(bj.state.room.members.map((m) => m.name)).toEqual(["alice", "bob"]);
    await carol.ok({ type: "join", room: code });
    // One node runs it.
    expect(nodes.map((n) => n.hub.registry.rooms.has(code))).toEqual([true, false, false]);
    await alice.ok({ type: "claim", cpu: 0 });
    await bob.ok({ type: "claim", cpu: 1 });
    const by = { 0: alice, 1: bob } as Record<number, TestClient>;
    let seq = 0;
    for (const act of shortest("basics-lost-update")) {
      if ("dma" in act) throw new Error("no DMA here");
      expect((await by[act.cpu].ok({ type: "step", seq, cpu: act.cpu })).seq).toBe(++seq);
      for (const x of [alice, bob, carol]) await x.sees(seq);
    }
    expect(carol.result).toMatchObject({ outcome: "won", steps: 4, score: 1000 });
    // Stale seq is refused with the room's seq, as on one server.
    const stale = await bob.refused({ type: "step", seq: 1, cpu: 1 }, "stale-seq");
    expect(stale.seq).toBe(4);
    // Leave, then create elsewhere: the door handles it again.
    await carol.ok({ type: "leave" });
    const own = await carol.ok<"joined">({ type: "create", level: "basics-spinlock" });
    expect(c.hub.registry.rooms.has(own.state.room.code)).toBe(true);
    for (const x of [alice, bob, carol]) expect(x.invalid).toEqual([]);
  });

  it("a resume token works on any node, and a room whose node stops is rebuilt on another with every acknowledged action", async () => {
    const { nodes } = await service(2);
    const [a, b] = nodes;
    const alice = await player(a.url, "alice");
    const joined = await alice.ok<"joined">({ type: "create", level: "basics-lost-update" });
    const code = joined.state.room.code;
    const bob = await player(b.url, "bob");
    const bj = await bob.ok<"joined">({ type: "join", room: code });
    await alice.ok({ type: "claim", cpu: 0 });
    await bob.ok({ type: "claim", cpu: 1 });
    expect((await alice.ok({ type: "step", seq: 0, cpu: 0 })).seq).toBe(1);
    expect((await bob.ok({ type: "step", seq: 1, cpu: 1 })).seq).toBe(2);
    await alice.sees(2);
    // Bob drops and resumes on node a (where the room runs), then on b again.
    let token = bob.log.filter((m) => m.type === "joined").at(-1)!;
    if (token.type !== "joined") throw new Error();
    await bob.drop();
    const bob2 = track(await TestClient.connect(a.url));
    bob2.send({ type: "hello", protocol: [1], name: "bob", resume: token.you.token });
    const w = await bob2.take("welcome");
    expect(w.resumed).toBe(true);
    expect(w.player.id).toBe(bj.you.member);
    const rj = await bob2.take("joined");
    expect(rj.state.seq).toBe(2);

    // Node a stops (its rooms' leases go back); everyone resumes on b, where the room is rebuilt.
    const aliceTok = (alice.log.find((m) => m.type === "joined") as Extract<typeof alice.log[number], { type: "joined" }>).you.token;
    await a.close();
    const alice2 = track(await TestClient.connect(b.url));
    alice2.send({ type: "hello", protocol: [1], name: "alice", resume: aliceTok });
    expect((await alice2.take("welcome")).resumed).toBe(true);
    const aj = await alice2.take("joined");
    expect(aj.state.seq).toBe(2);
    expect(aj.state.trace.length).toBe(2);
    // Seats came back with the roster.
    expect(aj.state.room.seats.map((s) => s.holder)).toEqual([joined.you.member, bj.you.member]);
    expect(b.hub.registry.rooms.has(code)).toBe(true);
    expect((await alice2.ok({ type: "step", seq: 2, cpu: 0 })).seq).toBe(3);
  });

  it("a node that finds its lease taken stops the room at once; its members resume where the room runs now; /health names the node", async () => {
    const { nodes, prefix } = await service(2);
    const [a, b] = nodes;
    const health = (await (await fetch(`http://127.0.0.1:${a.port}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ ok: true, node: a.node, rooms: 0, relayed: 0, proxied: 0 });
    const alice = await player(a.url, "alice");
    const bob = await player(b.url, "bob");
    const j = await alice.ok<"joined">({ type: "create", level: "basics-lost-update" });
    const code = j.state.room.code;
    await bob.ok({ type: "join", room: code });
    await alice.ok({ type: "claim", cpu: 0 });
    expect((await alice.ok({ type: "step", seq: 0, cpu: 0 })).seq).toBe(1);
    expect(await (await fetch(`http://127.0.0.1:${b.port}/health`)).json()).toMatchObject({ node: b.node, rooms: 0, relayed: 1 });
    // As if node a had stalled past its lease and node b had taken the room meanwhile.
    const r = new Redis(REDIS_URL);
    await r.set(`${prefix}room:${code}`, b.node!, "PX", 60_000);
    await r.quit();
    // At its next renewal node a stops the room: both members are told to resume (4010).
    expect((await alice.closed).code).toBe(4010);
    expect((await bob.closed).code).toBe(4010);
    expect(a.hub.registry.rooms.has(code)).toBe(false);
    const tok = (c: TestClient) => (c.log.filter((m) => m.type === "joined").at(-1) as Extract<(typeof c.log)[number], { type: "joined" }>).you.token;
    const alice2 = track(await TestClient.connect(a.url));
    alice2.send({ type: "hello", protocol: [1], name: "alice", resume: tok(alice) });
    const aj = await alice2.take("joined");
    expect(aj.state.seq).toBe(1);
    expect(b.hub.registry.rooms.has(code)).toBe(true);
    expect((await alice2.ok({ type: "step", seq: 1, cpu: 0 })).seq).toBe(2);
  });

  it("an instructor on another node pauses, announces to and watches every room of the workshop", async () => {
    const { nodes } = await service(3);
    const [a, b, c] = nodes;
    const teacher = await player(c.url, "teacher");
    const ws = await teacher.ok<"workshop">({ type: "createWorkshop", title: "Tuesday" });
    const id = ws.workshop.id;
    const red = await player(a.url, "red");
    const blue = await player(b.url, "blue");
    const rj = await red.ok<"joined">({ type: "create", level: "basics-lost-update", workshop: id, team: "reds" });
    const bj = await blue.ok<"joined">({ type: "create", level: "basics-lost-update", workshop: id, team: "blues" });
    await red.ok({ type: "claim", cpu: 0 });
    await blue.ok({ type: "claim", cpu: 0 });
    await teacher.ok({ type: "watchWorkshop", workshop: id, token: ws.token });
    // Both teams show up on the dashboard, wherever their rooms run.
    await teacher.takeWhere((m) => m.type === "dashboard" && m.teams.length === 2, "dashboard with two teams");
    await teacher.ok({ type: "pauseWorkshop", workshop: id, token: ws.token });
    await red.takeWhere((m) => m.type === "room" && m.room.paused, "paused");
    await blue.takeWhere((m) => m.type === "room" && m.room.paused, "paused");
    await red.refused({ type: "step", seq: 0, cpu: 0 }, "paused");
    await teacher.ok({ type: "announce", workshop: id, token: ws.token, text: "five minutes" });
    for (const x of [red, blue]) expect((await x.take("notice")).text).toBe("five minutes");
    await teacher.ok({ type: "resumeWorkshop", workshop: id, token: ws.token });
    await blue.takeWhere((m) => m.type === "room" && !m.room.paused, "resumed");
    expect((await blue.ok({ type: "step", seq: 0, cpu: 0 })).seq).toBe(1);
    await teacher.takeWhere((m) => m.type === "dashboard" && m.teams.some((t) => t.room === bj.state.room.code && t.steps === 1), "blue's step on the dashboard");
    await teacher.ok({ type: "releaseHint", workshop: id, token: ws.token, room: rj.state.room.code });
    await red.takeWhere((m) => m.type === "update" && m.event.kind === "hint", "a released hint");
  });

  it("the instructor's chat reaches every room of the workshop, wherever it runs, and a mute reaches the room's node (issue 17)", async () => {
    const { nodes } = await service(3);
    const [a, b, c] = nodes;
    const teacher = await player(c.url, "teacher");
    const ws = await teacher.ok<"workshop">({ type: "createWorkshop", title: "Talk" });
    const creds = { workshop: ws.workshop.id, token: ws.token };
    const red = await player(a.url, "red");
    const blue = await player(b.url, "blue");
    const rj = await red.ok<"joined">({ type: "create", level: "basics-lost-update", workshop: creds.workshop, team: "reds" });
    await blue.ok({ type: "create", level: "basics-lost-update", workshop: creds.workshop, team: "blues" });
    await teacher.ok({ type: "workshopChat", ...creds, text: "hold CPU1 \u001b[2J" });
    for (const x of [red, blue]) expect((await x.take("chat")).entry).toMatchObject({ from: "instructor", text: "hold CPU1 ␛[2J" });
    // The room runs on node a; the instructor talks to node c.
    expect(a.hub.registry.rooms.has(rj.state.room.code)).toBe(true);
    await teacher.ok({ type: "watchWorkshop", ...creds });
    await teacher.ok({ type: "mute", ...creds, room: rj.state.room.code, member: rj.you.member, muted: true });
    // The mute travels over Redis to node a, whose dashboard row then says so: from then on red's chat is refused.
    await teacher.takeWhere((m) => m.type === "dashboard" && m.teams.some((t) => t.players?.some((p) => p.id === rj.you.member && p.muted)), "red muted on the dashboard");
    await red.refused({ type: "chat", text: "let me talk" }, "muted");
    await blue.ok({ type: "chat", text: "we still can" });
  });
});
