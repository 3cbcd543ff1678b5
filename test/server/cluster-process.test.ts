// Three real `faultline serve` processes on the real Redis and PostgreSQL: players of one
// room on different nodes play a level to a result, an instructor on a fourth connection
// pauses the workshop, and kill -9 of the room's node mid-game: the room goes on on another
// node with every acknowledged action.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findLevel, loadCampaign } from "../../src/level/load.js";
import { verifySetting } from "../../src/level/verify.js";
import type { ServerMessage } from "../../src/protocol/server.js";
import { parseSchedule } from "../../src/sim/schedule.js";
import { TestClient } from "./client.js";
import { track } from "./harness.js";
import { PG_URL, pgStore, REDIS_URL, uniqueName } from "./services.js";

const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const LEASE_MS = 1000;
const children: ChildProcess[] = [];
const schema = uniqueName("proc");
const prefix = `${uniqueName("flp")}:`;

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error("dist/ is missing: npm test builds it first (npm run build)");
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
afterAll(async () => {
  await (await pgStore(schema)).dropSchema();
  const r = new Redis(REDIS_URL);
  const keys = await r.keys(`${prefix}*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
});

interface Node {
  child: ChildProcess;
  url: string;
  id: string;
  err: () => string;
}

function node(): Promise<Node> {
  const args = ["serve", "--port", "0", "--postgres", PG_URL, "--schema", schema, "--redis", REDIS_URL, "--redis-prefix", prefix, "--lease-ms", String(LEASE_MS)];
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FAULTLINE_POSTGRES: "", FAULTLINE_REDIS: "" } });
  children.push(child);
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`node did not start: ${out} ${err}`)), 20_000);
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /serving on (ws:\/\/\S+) .*node (\S+) of the service/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ child, url: m[1], id: m[2], err: () => err });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`node exited with ${code}: ${err}`));
    });
  });
}

const kill9 = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });

const lastToken = (c: TestClient): string => {
  const j = c.log.filter((m): m is Extract<ServerMessage, { type: "joined" }> => m.type === "joined").at(-1);
  if (!j) throw new Error("never joined");
  return j.you.token;
};

/** Resume on `url` with the client's last token; the new client has the room's state. */
async function resume(c: TestClient, url: string, name: string): Promise<{ client: TestClient; joined: Extract<ServerMessage, { type: "joined" }> }> {
  const client = track(await TestClient.connect(url));
  client.send({ type: "hello", protocol: [1], name, resume: lastToken(c) });
  const w = await client.take("welcome", () => true, 10_000);
  expect(w.resumed).toBe(true);
  return { client, joined: await client.take("joined", () => true, 10_000) };
}

describe("three nodes, Redis and PostgreSQL, as processes", () => {
  it("a room played across nodes, a pause from a fourth connection, and kill -9 of the room's node mid-game", async () => {
    const nodes = await Promise.all([node(), node(), node()]);
    const [n1, n2, n3] = nodes;
    const teacher = track(await TestClient.hello(n3.url, "teacher"));
    const ws = await teacher.ok<"workshop">({ type: "createWorkshop", title: "Cluster class" });
    const alice = track(await TestClient.hello(n1.url, "alice"));
    const bob = track(await TestClient.hello(n2.url, "bob"));
    const j = await alice.ok<"joined">({ type: "create", level: "basics-lost-update", workshop: ws.workshop.id, team: "pair" });
    const code = j.state.room.code;
    await bob.ok({ type: "join", room: code });
    await alice.ok({ type: "claim", cpu: 0 });
    await bob.ok({ type: "claim", cpu: 1 });
    const acked: number[] = [];
    const step = async (c: TestClient, seq: number, cpu: number) => {
      const a = await c.ok({ type: "step", seq, cpu });
      acked.push(a.seq!);
      return a.seq!;
    };
    // Attempt 1 to its result: alice on n1 (which runs the room), bob on n2.
    const who = { 0: alice, 1: bob } as Record<number, TestClient>;
    let seq = 0;
    for (const act of parseSchedule(verifySetting(findLevel(loadCampaign(), "basics-lost-update")!, {}).schedule!)) {
      if ("dma" in act) throw new Error("no DMA");
      seq = await step(who[act.cpu], seq, act.cpu);
      // Both hear the update (an ack alone says nothing of what the others see).
      const s = seq;
      await Promise.all([alice, bob].map((c) => c.takeWhere((m) => m.type === "update" && m.seq === s, `update ${s}`, 10_000, true)));
    }
    expect(bob.result).toMatchObject({ outcome: "won", steps: 4, score: 1000 });

    // The instructor, on a fourth connection to a third node, pauses the workshop.
    await teacher.ok({ type: "pauseWorkshop", workshop: ws.workshop.id, token: ws.token });
    await bob.takeWhere((m) => m.type === "room" && m.room.paused, "paused on bob's node");
    await alice.refused({ type: "retry", seq }, "paused");
    await teacher.ok({ type: "resumeWorkshop", workshop: ws.workshop.id, token: ws.token });
    await alice.takeWhere((m) => m.type === "room" && !m.room.paused, "resumed");

    // Attempt 2, mid-game.
    // retry's seq starts attempt 2 (an attempts row, not an action).
    seq = (await alice.ok({ type: "retry", seq })).seq!;
    const attempt2 = seq;
    seq = await step(alice, seq, 0);
    seq = await step(bob, seq, 1);
    await alice.sees(seq);

    // kill -9 the node that runs the room.
    await kill9(n1.child);
    // Bob's node notices (n1's key expires) and tells him to resume; he resumes on n3, alice on n2.
    const bobClosed = await bob.closed;
    expect(bobClosed.code).toBe(4010);
    const b2 = await resume(bob, n3.url, "bob");
    const a2 = await resume(alice, n2.url, "alice");
    // Every acknowledged action is there: the state is at the last ack, the attempt's trace has both steps.
    expect(Math.max(...acked)).toBe(attempt2 + 2);
    expect(b2.joined.state.seq).toBe(attempt2 + 2);
    expect(a2.joined.state.seq).toBe(attempt2 + 2);
    expect(b2.joined.state.trace.length).toBe(2);
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    const rows = (await c.query(`SELECT seq FROM ${schema}.actions WHERE room = $1 ORDER BY seq`, [code])).rows as { seq: number }[];
    await c.end();
    expect(rows.map((r) => r.seq)).toEqual(acked);
    // And the game goes on, on one of the surviving nodes.
    seq = Math.max(...acked);
    const next = await b2.client.ok({ type: "step", seq, cpu: 1 });
    expect(next.seq).toBe(seq + 1);
    await a2.client.sees(seq + 1);
    expect(a2.client.invalid).toEqual([]);
    expect(b2.client.invalid).toEqual([]);
    for (const n of [n2, n3]) expect(n.err()).not.toMatch(/internal|error /);
  }, 90_000);
});
