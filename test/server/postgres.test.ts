// One server on PostgreSQL (the real one, a schema per test): a level played to a result,
// acknowledgements only after the commit, the room rebuilt after a restart, and the results.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { findLevel, loadCampaign } from "../../src/level/load.js";
import { verifySetting } from "../../src/level/verify.js";
import { parseSchedule } from "../../src/sim/schedule.js";
import type { Action } from "../../src/sim/types.js";
import type { TestClient } from "./client.js";
import { player, server } from "./harness.js";
import { PG_URL, pgStore, uniqueName } from "./services.js";

const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, FAULTLINE_POSTGRES: "" } });
const campaign = loadCampaign();
const shortest = (id: string): Action[] => parseSchedule(verifySetting(findLevel(campaign, id)!, {}).schedule!);

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await (await pgStore(s)).dropSchema();
});
function schema(): string {
  const s = uniqueName("srv");
  schemas.push(s);
  return s;
}

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Play basics-lost-update to its win with two players; returns the room code. */
async function playToWin(alice: TestClient, bob: TestClient, create: Record<string, unknown> = {}): Promise<string> {
  const joined = await alice.ok<"joined">({ type: "create", level: "basics-lost-update", ...create });
  const code = joined.state.room.code;
  await bob.ok({ type: "join", room: code });
  await alice.ok({ type: "claim", cpu: 0 });
  await bob.ok({ type: "claim", cpu: 1 });
  const by: Record<number, TestClient> = { 0: alice, 1: bob };
  let seq = 0;
  for (const a of shortest("basics-lost-update")) {
    if ("dma" in a) throw new Error("no DMA here");
    expect((await by[a.cpu].ok({ type: "step", seq, cpu: a.cpu })).seq).toBe(++seq);
  }
  await alice.sees(seq);
  return code;
}

describe("a server on PostgreSQL", () => {
  it("plays a level to a result; every acknowledged step is in the database, and a restarted server rebuilds the room from it", async () => {
    const sch = schema();
    const s = await server({ postgres: PG_URL, postgresSchema: sch });
    const [alice, bob] = await Promise.all([player(s.url, "alice"), player(s.url, "bob")]);
    const code = await playToWin(alice, bob);
    expect(alice.result).toMatchObject({ outcome: "won", steps: 4, score: 1000 });
    const rows = await sql<{ seq: number }>(`SELECT seq FROM ${sch}.actions WHERE room = $1 ORDER BY seq`, [code]);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    const [attempt] = await sql<{ outcome: string; score: number }>(`SELECT outcome, score FROM ${sch}.attempts WHERE room = $1`, [code]);
    expect(attempt).toMatchObject({ outcome: "won", score: 1000 });
    await s.close();

    // A new server on the same schema: the room comes back from the log, its result and replay with it.
    const t = await server({ postgres: PG_URL, postgresSchema: sch });
    const carol = await player(t.url, "carol");
    const j = await carol.ok<"joined">({ type: "join", room: code });
    expect(j.state.seq).toBe(4);
    expect(j.state.game.result).toMatchObject({ outcome: "won", steps: 4 });
    const replay = await carol.ok<"replay">({ type: "replay" });
    expect(replay.trace.map((x) => x.action)).toEqual(shortest("basics-lost-update"));
    // retry starts attempt 2 (seq 5); the replay of attempt 1 now comes from its log, loaded on demand.
    await carol.ok({ type: "claim", cpu: 0 });
    expect((await carol.ok({ type: "retry", seq: 4 })).seq).toBe(5);
    const old = await carol.ok<"replay">({ type: "replay", attempt: `${code}-1` });
    expect(old.result).toMatchObject({ outcome: "won" });
    expect(carol.invalid).toEqual([]);
  });

  it("acknowledges a step only once it is committed: while the table is locked, nobody hears of it", async () => {
    const sch = schema();
    const s = await server({ postgres: PG_URL, postgresSchema: sch });
    const [alice, bob] = await Promise.all([player(s.url, "alice"), player(s.url, "bob")]);
    const joined = await alice.ok<"joined">({ type: "create", level: "basics-lost-update" });
    await bob.ok({ type: "join", room: joined.state.room.code });
    await alice.ok({ type: "claim", cpu: 0 });
    // Another session holds the actions table: the server's commit of the next step must wait for it.
    const locker = new pg.Client({ connectionString: PG_URL });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE ${sch}.actions IN EXCLUSIVE MODE`);
    const heard = alice.log.length + bob.log.length;
    alice.send({ type: "step", rid: 99, seq: 0, cpu: 0 });
    // Until PostgreSQL shows the server's write waiting on the lock (a sync point, not a sleep).
    for (;;) {
      const w = await sql(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%faultline_apply%'`);
      if (w.length > 0) break;
    }
    // The step is applied in memory and its write is in flight, but neither its ack nor the update went out.
    expect(alice.log.length + bob.log.length).toBe(heard);
    await locker.query("COMMIT");
    await locker.end();
    const ack = await alice.take("ack", (m) => m.rid === 99);
    expect(ack.seq).toBe(1);
    await bob.sees(1);
    expect(await sql(`SELECT seq FROM ${sch}.actions`)).toEqual([{ seq: 1 }]);
  });

  it("faultline results reads a workshop's results from PostgreSQL", async () => {
    const sch = schema();
    const s = await server({ postgres: PG_URL, postgresSchema: sch });
    const [alice, bob, teacher] = await Promise.all([player(s.url, "alice"), player(s.url, "bob"), player(s.url, "teacher")]);
    const ws = await teacher.ok<"workshop">({ type: "createWorkshop", title: "Tuesday" });
    await playToWin(alice, bob, { workshop: ws.workshop.id, team: "reds" });
    await s.close();
    const out = cli("results", "--postgres", PG_URL, "--schema", sch, "--workshop", ws.workshop.id, "--json");
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject([{ workshop: ws.workshop.id, team: "reds", outcome: "won", score: 1000, players: "alice; bob" }]);
    const missing = cli("results", "--postgres", PG_URL, "--schema", sch, "--workshop", "ZZZZZZZZ");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^faultline: no workshop ZZZZZZZZ in postgres:\/\//);
    const both = cli("results", "--postgres", PG_URL, "--db", "/tmp/x.db", "--workshop", "ZZZZZZZZ");
    expect(both.stderr.trim()).toBe("faultline: choose one of --db (SQLite) and --postgres (PostgreSQL)");
  });
});
