// Every Storage implementation keeps the same contract (memory, SQLite, and PostgreSQL
// on the real server, each test in its own schema); SQLite runs in WAL mode and survives
// reopening. An asynchronous store (PostgreSQL) is read back through load(), from a second
// connection to the same database, as another node would read it.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Result } from "../../src/protocol/server.js";
import { MemoryStorage } from "../../server/storage/memory.js";
import type { Storage } from "../../server/storage/port.js";
import { SqliteStorage, WAL_AUTOCHECKPOINT_PAGES } from "../../server/storage/sqlite.js";
import { PgStorage } from "../../server/storage/postgres.js";
import { pgStore, uniqueName } from "./services.js";

const dir = mkdtempSync(join(tmpdir(), "faultline-storage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result: Result = {
  outcome: "won", reason: "oracle", oracle: { id: "lost-update", message: "lost", step: 4 }, steps: 4, par: 4, preemptions: 2, parPreemptions: 1,
  hintsUsed: 1, rewinds: 0, resets: 0, durationMs: 1234, score: 900, counterexample: null, winner: null,
};

function fill(st: Storage): void {
  st.createWorkshop({ id: "WWWWWWWW", title: "W", tokenHash: "ab".repeat(32), createdAt: 1, paused: false });
  st.savePlayer({ id: "p1", name: "ann", createdAt: 1 });
  st.createRoom({ code: "RRRRRR", level: "basics-lost-update", policy: "manual", versus: false, workshop: "WWWWWWWW", team: "reds", createdAt: 10 });
  st.createRoom({ code: "SSSSSS", level: "basics-lost-update", policy: "eager", versus: true, workshop: null, team: null, createdAt: 11 });
  st.startAttempt({ id: "RRRRRR-1", room: "RRRRRR", n: 1, level: "basics-lost-update", startSeq: 0, startedAt: 10 });
  st.transaction(() => {
    st.appendAction("RRRRRR-1", "RRRRRR", { seq: 1, at: 20, by: "p1", cmd: { kind: "step", actor: 0 } });
    st.appendAction("RRRRRR-1", "RRRRRR", { seq: 2, at: 30, by: "bot", cmd: { kind: "step", actor: "dma" } });
    st.finishAttempt({ attempt: "RRRRRR-1", knobs: { lock: "none" }, result, endedAt: 40, players: [{ id: "p1", name: "ann" }] });
  });
  st.startAttempt({ id: "RRRRRR-2", room: "RRRRRR", n: 2, level: "basics-spinlock", startSeq: 3, startedAt: 50 });
  // What the room said (issue 17): two lines in the first attempt, one in the second.
  st.appendChat({ room: "RRRRRR", n: 1, attempt: "RRRRRR-1", step: 0, at: 15, from: "p1", name: "ann", text: "you first" });
  st.appendChat({ room: "RRRRRR", n: 2, attempt: "RRRRRR-1", step: 2, at: 35, from: "instructor", name: "instructor", text: "␛[2J is harmless now" });
  st.appendChat({ room: "RRRRRR", n: 3, attempt: "RRRRRR-2", step: 0, at: 55, from: "p1", name: "ann", text: "again" });
}

function check(st: Storage): void {
  expect(st.getWorkshop("WWWWWWWW")).toMatchObject({ title: "W", paused: false });
  expect(st.getWorkshop("NOPE")).toBeNull();
  expect(st.getRoom("SSSSSS")).toEqual({ code: "SSSSSS", level: "basics-lost-update", policy: "eager", versus: true, workshop: null, team: null, createdAt: 11 });
  expect(st.workshopRooms("WWWWWWWW")).toEqual(["RRRRRR"]);
  expect(st.actions("RRRRRR-1")).toEqual([
    { seq: 1, at: 20, by: "p1", cmd: { kind: "step", actor: 0 } },
    { seq: 2, at: 30, by: "bot", cmd: { kind: "step", actor: "dma" } },
  ]);
  expect(st.attempts("RRRRRR").map((a) => [a.id, a.result?.score ?? null, a.knobs])).toEqual([
    ["RRRRRR-1", 900, { lock: "none" }],
    ["RRRRRR-2", null, null],
  ]);
  expect(st.lastSeq("RRRRRR")).toBe(3);
  expect(st.chat("RRRRRR", { attempt: "RRRRRR-1" }).map((c) => [c.n, c.step, c.from, c.text])).toEqual([
    [1, 0, "p1", "you first"],
    [2, 2, "instructor", "␛[2J is harmless now"],
  ]);
  expect(st.chat("RRRRRR", { limit: 2 }).map((c) => c.n)).toEqual([2, 3]);
  expect(st.chat("RRRRRR", { limit: 2 })[1]).toEqual({ room: "RRRRRR", n: 3, attempt: "RRRRRR-2", step: 0, at: 55, from: "p1", name: "ann", text: "again" });
  expect(st.chat("SSSSSS", { limit: 50 })).toEqual([]);
  expect(st.lastSeq("SSSSSS")).toBe(0);
  expect(st.results("WWWWWWWW")).toEqual([
    {
      workshop: "WWWWWWWW", room: "RRRRRR", team: "reds", attempt: "RRRRRR-1", level: "basics-lost-update", knobs: "lock=none",
      outcome: "won", reason: "oracle", steps: 4, par: 4, hints: 1, hintsReleased: 0, rewinds: 0, resets: 0, durationMs: 1234, score: 900,
      players: "ann", startedAt: new Date(10).toISOString(), endedAt: new Date(40).toISOString(),
    },
  ]);
}

/** What check() reads, for a store that reads through load(). */
const NEED = { workshops: ["WWWWWWWW"], rooms: ["RRRRRR", "SSSSSS"], attempts: ["RRRRRR-1"], results: ["WWWWWWWW"] };

/** Each store, and how to read what it wrote the way a restarted server (or another node) would. */
interface Subject {
  st: Storage;
  reader(): Promise<Storage>;
  done(): Promise<void>;
}

const pgSchemas: PgStorage[] = [];
afterAll(async () => {
  for (const s of pgSchemas.splice(0)) await s.dropSchema();
});

describe.each([
  ["memory", async (): Promise<Subject> => {
    const st = new MemoryStorage();
    return { st, reader: async () => st, done: async () => st.close() };
  }],
  ["sqlite", async (): Promise<Subject> => {
    const file = join(dir, `contract-${Math.random()}.db`);
    const st = new SqliteStorage(file);
    const readers: SqliteStorage[] = [];
    return {
      st,
      reader: async () => {
        const r = new SqliteStorage(file, { mustExist: true });
        readers.push(r);
        return r;
      },
      done: async () => {
        for (const r of readers) r.close();
        st.close();
      },
    };
  }],
  ["postgres", async (): Promise<Subject> => {
    const schema = uniqueName("contract");
    const st = await pgStore(schema);
    const readers: PgStorage[] = [];
    pgSchemas.push(st);
    return {
      st,
      reader: async () => {
        await st.flushed();
        const r = await pgStore(schema);
        readers.push(r);
        return r;
      },
      done: async () => {
        for (const r of readers) await r.close();
      },
    };
  }],
] as const)("%s storage", (_name, make) => {
  it("stores and returns players, workshops, rooms, attempts, logs and results", async () => {
    const { st, reader, done } = await make();
    fill(st);
    await st.load?.(NEED);
    check(st);
    const r = await reader();
    await r.load?.(NEED);
    check(r);
    st.setWorkshopPaused("WWWWWWWW", true);
    expect(st.getWorkshop("WWWWWWWW")!.paused).toBe(true);
    await st.written?.();
    const again = await reader();
    await again.load?.({ workshops: ["WWWWWWWW"] });
    expect(again.getWorkshop("WWWWWWWW")!.paused).toBe(true);
    await done();
  });

  it("refuses a duplicate room, a duplicate log sequence number and a duplicate chat number", async () => {
    const { st, done } = await make();
    fill(st);
    expect(() => st.createRoom({ code: "RRRRRR", level: "x", policy: "manual", versus: false, workshop: null, team: null, createdAt: 0 })).toThrow();
    expect(() => st.appendAction("RRRRRR-1", "RRRRRR", { seq: 2, at: 0, by: "p1", cmd: { kind: "start" } })).toThrow();
    expect(() => st.appendChat({ room: "RRRRRR", n: 1, attempt: "RRRRRR-1", step: 0, at: 0, from: "p1", name: "ann", text: "twice" })).toThrow();
    await done();
  });
});

describe("postgres", () => {
  it("commits a transaction's writes together, in order, in batches; written() settles once they are committed", async () => {
    const st = await pgStore();
    pgSchemas.push(st);
    fill(st);
    const p = st.written();
    expect(p).not.toBeNull();
    await p;
    expect(st.written()).toBeNull();
    // fill made 12 writes (the transaction's three and the chat's three among them); they went in fewer statements than writes.
    expect(st.stats.writes).toBe(12);
    expect(st.stats.batches).toBeLessThan(12);
  });

  it("fails stop when another node wrote the same sequence number: the batch is refused, onFatal is told, nothing later is written", async () => {
    const schema = uniqueName("conflict");
    const a = await pgStore(schema);
    pgSchemas.push(a);
    fill(a);
    await a.flushed();
    let fatal: Error | null = null;
    const b = await pgStore(schema, { onFatal: (e) => (fatal = e) });
    await b.load({ rooms: ["RRRRRR"] });
    // b holds the log as it was; a moves on first (seq 4), then b writes its own seq 4.
    a.appendAction("RRRRRR-2", "RRRRRR", { seq: 4, at: 60, by: "p1", cmd: { kind: "start" } });
    await a.flushed();
    b.appendAction("RRRRRR-2", "RRRRRR", { seq: 4, at: 61, by: "p2", cmd: { kind: "start" } });
    await expect(b.written()).rejects.toThrow(/duplicate key/);
    expect(fatal).not.toBeNull();
    expect(() => b.appendAction("RRRRRR-2", "RRRRRR", { seq: 5, at: 62, by: "p2", cmd: { kind: "start" } })).toThrow(/stopped/);
    await b.close();
    const c = await pgStore(schema);
    await c.load({ rooms: ["RRRRRR"] });
    expect(c.actions("RRRRRR-2")).toEqual([{ seq: 4, at: 60, by: "p1", cmd: { kind: "start" } }]);
    await c.close();
  });

  it("drops a transaction that throws halfway: none of its writes reach the database", async () => {
    const st = await pgStore();
    pgSchemas.push(st);
    fill(st);
    expect(() =>
      st.transaction(() => {
        st.appendAction("RRRRRR-2", "RRRRRR", { seq: 4, at: 60, by: "p1", cmd: { kind: "start" } });
        throw new Error("halfway");
      }),
    ).toThrow("halfway");
    await st.load({ rooms: ["RRRRRR"] });
    expect(st.actions("RRRRRR-2")).toEqual([]);
    expect(st.lastSeq("RRRRRR")).toBe(3);
  expect(st.chat("RRRRRR", { attempt: "RRRRRR-1" }).map((c) => [c.n, c.step, c.from, c.text])).toEqual([
    [1, 0, "p1", "you first"],
    [2, 2, "instructor", "␛[2J is harmless now"],
  ]);
  expect(st.chat("RRRRRR", { limit: 2 }).map((c) => c.n)).toEqual([2, 3]);
  expect(st.chat("RRRRRR", { limit: 2 })[1]).toEqual({ room: "RRRRRR", n: 3, attempt: "RRRRRR-2", step: 0, at: 55, from: "p1", name: "ann", text: "again" });
  expect(st.chat("SSSSSS", { limit: 50 })).toEqual([]);
  });

  it("migrates once when nodes open the same schema together, and refuses a newer schema", async () => {
    const schema = uniqueName("migrate");
    const stores = await Promise.all([pgStore(schema), pgStore(schema), pgStore(schema)]);
    pgSchemas.push(stores[0]);
    for (const s of stores.slice(1)) await s.close();
    const pg = await import("pg");
    const c = new pg.default.Client({ connectionString: (await import("./services.js")).PG_URL });
    await c.connect();
    await c.query(`UPDATE ${schema}.faultline_schema SET version = 99`);
    await c.end();
    await expect(pgStore(schema)).rejects.toThrow(/newer than this faultline/);
  });
});

describe("sqlite", () => {
  it("uses WAL and keeps everything across a reopen", () => {
    const file = join(dir, "reopen.db");
    const a = new SqliteStorage(file);
    expect(a.db.pragma("journal_mode", { simple: true })).toBe("wal");
    fill(a);
    a.close();
    const b = new SqliteStorage(file, { mustExist: true });
    check(b);
    b.close();
  });

  it("reaps players rows of players who never finished an attempt when a writer opens it", () => {
    const path = join(dir, "reap.db");
    const a = new SqliteStorage(path, { checkpointer: false });
    for (let i = 0; i < 50; i++) a.savePlayer({ id: `idle${i}`, name: "idle", createdAt: 1 });
    fill(a);
    a.close();
    const b = new SqliteStorage(path, { checkpointer: false });
    expect(b.reaped).toBe(50);
    expect(b.db.prepare("SELECT id FROM players").all()).toEqual([{ id: "p1" }]);
    b.close();
  });

  it("rolls back a transaction that fails halfway", () => {
    const st = new SqliteStorage(join(dir, "rollback.db"));
    fill(st);
    expect(() =>
      st.transaction(() => {
        st.appendAction("RRRRRR-2", "RRRRRR", { seq: 4, at: 60, by: "p1", cmd: { kind: "start" } });
        st.finishAttempt({ attempt: "NO-SUCH", knobs: {}, result, endedAt: 70, players: [] });
      }),
    ).toThrow();
    expect(st.actions("RRRRRR-2")).toEqual([]);
    st.close();
  });

  it("checkpoints the WAL from its worker thread: the database file alone then holds every commit", async () => {
    const file = join(dir, "checkpoint.db");
    const st = new SqliteStorage(file);
    fill(st);
    st.createRoom({ code: "TTTTTT", level: "basics-lost-update", policy: "manual", versus: false, workshop: null, team: null, createdAt: 12 });
    st.startAttempt({ id: "TTTTTT-1", room: "TTTTTT", n: 1, level: "basics-lost-update", startSeq: 0, startedAt: 12 });
    // One transaction each, as the server commits actions.
    for (let seq = 1; seq <= 300; seq++) st.appendAction("TTTTTT-1", "TTTTTT", { seq, at: 60 + seq, by: "p1", cmd: { kind: "step", actor: seq % 2 } });
    expect(st.db.pragma("wal_autocheckpoint", { simple: true })).toBe(WAL_AUTOCHECKPOINT_PAGES);
    const c = await st.checkpoint();
    expect(c).not.toBeNull();
    expect(c!.busy).toBe(0);
    expect(c!.checkpointed).toBe(c!.log);
    // Copy the database file without its WAL: what the worker copied back is all there.
    const copy = join(dir, "checkpoint-copy.db");
    copyFileSync(file, copy);
    const alone = new SqliteStorage(copy, { mustExist: true });
    expect(await alone.checkpoint()).toBeNull(); // a reader has no worker
    check(alone);
    expect(alone.actions("TTTTTT-1")).toHaveLength(300);
    alone.close();
    st.close();
    const again = new SqliteStorage(file, { mustExist: true });
    check(again);
    expect(again.actions("TTTTTT-1").map((e) => e.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    again.close();
    // Without the worker, SQLite's own automatic checkpoint as before.
    const plain = new SqliteStorage(join(dir, "plain.db"), { checkpointer: false });
    expect(await plain.checkpoint()).toBeNull();
    expect(plain.db.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
    plain.close();
  });
});
