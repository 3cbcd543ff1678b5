// Storage on better-sqlite3 in WAL mode: the product's database.
//
// WAL with synchronous=NORMAL commits without an fsync per transaction: a
// committed write survives the server being killed (kill -9), which is the
// contract the server acknowledges on; only an OS crash or power cut can lose
// the last moments. `durability: "full"` fsyncs every commit for that case too.
//
// Checkpoints (copying the WAL back into the database file, with an fsync) run
// on a worker thread with its own connection, so the thread that commits, which
// is the server's only thread, does not stall on them: with SQLite's automatic
// checkpoint alone, one commit in a few hundred took 5-17 ms (issue 7). The
// automatic checkpoint stays on, at WAL_AUTOCHECKPOINT_PAGES, because only a
// writer can start the WAL over once it is all copied back; by then the worker
// has copied nearly all of it, so that checkpoint has little left to do. Commits
// and their durability are unchanged: a commit is durable once it is in the WAL.

import Database from "better-sqlite3";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import { commandSchema } from "../../src/game/session.js";
import type { LogEntry } from "../../src/game/replay.js";
import { mkdirs } from "../../src/platform/mkdirs.js";
import { resultSchema, type Result } from "../../src/protocol/server.js";
import type { AttemptRecord, ChatRecord, FinishedAttempt, PlayerRecord, ResultRow, RoomRecord, Storage, WorkshopRecord } from "./port.js";
import { resultRow } from "./rows.js";

const SCHEMA_VERSION = 4;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE players (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE workshops (
      id TEXT PRIMARY KEY, title TEXT NOT NULL, token_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL, paused INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE rooms (
      code TEXT PRIMARY KEY, level TEXT NOT NULL, policy TEXT NOT NULL, versus INTEGER NOT NULL,
      workshop TEXT REFERENCES workshops(id), team TEXT, created_at INTEGER NOT NULL);
    CREATE INDEX rooms_workshop ON rooms(workshop);
    CREATE TABLE attempts (
      id TEXT PRIMARY KEY, room TEXT NOT NULL REFERENCES rooms(code), n INTEGER NOT NULL,
      level TEXT NOT NULL, start_seq INTEGER NOT NULL, started_at INTEGER NOT NULL,
      ended_at INTEGER, knobs TEXT, outcome TEXT, reason TEXT, steps INTEGER, par INTEGER,
      hints INTEGER, rewinds INTEGER, resets INTEGER, duration_ms INTEGER, score INTEGER,
      result TEXT, players TEXT, UNIQUE (room, n));
    CREATE TABLE actions (
      attempt TEXT NOT NULL REFERENCES attempts(id), seq INTEGER NOT NULL, room TEXT NOT NULL,
      at INTEGER NOT NULL, by TEXT NOT NULL, cmd TEXT NOT NULL, PRIMARY KEY (attempt, seq));
    CREATE INDEX actions_room ON actions(room, seq);
    CREATE TABLE scores (
      attempt TEXT NOT NULL REFERENCES attempts(id), player TEXT NOT NULL, name TEXT NOT NULL,
      score INTEGER NOT NULL, PRIMARY KEY (attempt, player));
  `,
  // A workshop's own list of levels (JSON array of ids), null for every level.
  2: `ALTER TABLE workshops ADD COLUMN levels TEXT;`,
  // A sandbox room's scenario (JSON), null for a room on a level: the room is rebuilt from it.
  3: `ALTER TABLE rooms ADD COLUMN scenario TEXT;`,
  // What a room's members said (issue 17): kept with the room, replayed with each attempt.
  4: `
    CREATE TABLE chat (
      room TEXT NOT NULL REFERENCES rooms(code), n INTEGER NOT NULL, attempt TEXT NOT NULL, step INTEGER NOT NULL,
      at INTEGER NOT NULL, sender TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (room, n));
    CREATE INDEX chat_attempt ON chat(attempt, n);
  `,
};

export interface SqliteOptions {
  /** "normal" (default): survives a killed process; "full": also an OS crash or power cut. */
  durability?: "normal" | "full";
  /** Refuse to create a new database file (for readers such as `faultline results`). */
  mustExist?: boolean;
  /**
   * Checkpoint the WAL from a worker thread (see the top of this file). Default: on
   * for a database file opened to write (not `mustExist`); never for ":memory:".
   */
  checkpointer?: boolean;
}

/** The automatic checkpoint on the committing connection, in pages (SQLite's default is 1000). */
export const WAL_AUTOCHECKPOINT_PAGES = 4000;
/** How often the worker checkpoints. */
export const CHECKPOINT_EVERY_MS = 50;

/** What the checkpointer answers to { type: "checkpoint" } (the counts of PRAGMA wal_checkpoint). */
export interface Checkpointed {
  busy: number;
  log: number;
  checkpointed: number;
}

// The worker: its own connection, a PASSIVE checkpoint (never waits for, nor
// blocks, the writer) every `every` ms and on request. A failed checkpoint is
// left to the next one; if the worker itself dies, the committing connection
// goes back to SQLite's default automatic checkpoint (see the constructor).
const CHECKPOINTER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma("busy_timeout = 0");
const checkpoint = () => db.pragma("wal_checkpoint(PASSIVE)")[0];
const timer = setInterval(() => { try { checkpoint(); } catch {} }, workerData.every);
parentPort.on("message", (m) => {
  if (m.type === "checkpoint") {
    try { parentPort.postMessage({ type: "checkpointed", ...checkpoint() }); }
    catch (e) { parentPort.postMessage({ type: "failed", message: String(e && e.message) }); }
  } else if (m.type === "close") { clearInterval(timer); db.close(); parentPort.close(); }
});
`;

type Row = Record<string, unknown>;

export class SqliteStorage implements Storage {
  readonly db: Database.Database;
  private st: Record<string, Database.Statement>;
  /** Players rows without a score removed when this connection opened the database. */
  readonly reaped: number = 0;
  /** The checkpoint worker, when there is one. */
  private checkpointer: Worker | null = null;

  constructor(readonly path: string, opts: SqliteOptions = {}) {
    if (path !== ":memory:" && !opts.mustExist) mkdirs(dirname(path));
    this.db = new Database(path, { fileMustExist: opts.mustExist ?? false });
    this.db.pragma("journal_mode = WAL");
    this.db.pragma(`synchronous = ${opts.durability === "full" ? "FULL" : "NORMAL"}`);
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.migrate();
    // Earlier servers wrote a players row for every hello (5,001 per 10,000 connections); only those
    // who finished an attempt (scores) are worth a row. Reaped at each start by a writer.
    if (!opts.mustExist) this.reaped = this.db.prepare("DELETE FROM players WHERE id NOT IN (SELECT player FROM scores)").run().changes;
    if (path !== ":memory:" && (opts.checkpointer ?? !opts.mustExist)) {
      this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      const module = createRequire(import.meta.url).resolve("better-sqlite3");
      const w = new Worker(CHECKPOINTER, { eval: true, workerData: { module, path: this.db.name, every: CHECKPOINT_EVERY_MS } });
      // A worker that dies only gives the commits their stalls back: say so and go on as without it.
      w.on("error", (e) => console.error(`faultline: the WAL checkpoint worker stopped (${e.message}); checkpoints run on commit`));
      w.on("exit", () => {
        if (this.checkpointer !== w) return; // closed by close()
        this.checkpointer = null;
        if (this.db.open) this.db.pragma("wal_autocheckpoint = 1000");
      });
      w.unref();
      this.checkpointer = w;
    }
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      savePlayer: p("INSERT INTO players (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name"),
      createWorkshop: p("INSERT INTO workshops (id, title, token_hash, created_at, paused, levels) VALUES (?, ?, ?, ?, ?, ?)"),
      getWorkshop: p("SELECT * FROM workshops WHERE id = ?"),
      setPaused: p("UPDATE workshops SET paused = ? WHERE id = ?"),
      createRoom: p("INSERT INTO rooms (code, level, policy, versus, workshop, team, created_at, scenario) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      getRoom: p("SELECT * FROM rooms WHERE code = ?"),
      workshopRooms: p("SELECT code FROM rooms WHERE workshop = ? ORDER BY created_at, code"),
      startAttempt: p("INSERT INTO attempts (id, room, n, level, start_seq, started_at) VALUES (?, ?, ?, ?, ?, ?)"),
      appendAction: p("INSERT INTO actions (attempt, seq, room, at, by, cmd) VALUES (?, ?, ?, ?, ?, ?)"),
      finishAttempt: p(`UPDATE attempts SET ended_at = ?, knobs = ?, outcome = ?, reason = ?, steps = ?, par = ?, hints = ?,
        rewinds = ?, resets = ?, duration_ms = ?, score = ?, result = ?, players = ? WHERE id = ?`),
      score: p("INSERT OR REPLACE INTO scores (attempt, player, name, score) VALUES (?, ?, ?, ?)"),
      attempts: p("SELECT * FROM attempts WHERE room = ? ORDER BY n"),
      actions: p("SELECT seq, at, by, cmd FROM actions WHERE attempt = ? ORDER BY seq"),
      lastSeq: p("SELECT MAX(s) AS s FROM (SELECT MAX(seq) AS s FROM actions WHERE room = ? UNION ALL SELECT MAX(start_seq) FROM attempts WHERE room = ?)"),
      appendChat: p("INSERT INTO chat (room, n, attempt, step, at, sender, name, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      chatOfAttempt: p("SELECT * FROM chat WHERE attempt = ? AND room = ? ORDER BY n"),
      chatLatest: p("SELECT * FROM (SELECT * FROM chat WHERE room = ? ORDER BY n DESC LIMIT ?) ORDER BY n"),
      results: p(`SELECT a.*, r.code AS r_code, r.level AS r_level, r.policy AS r_policy, r.versus AS r_versus,
        r.workshop AS r_workshop, r.team AS r_team, r.created_at AS r_created_at
        FROM attempts a JOIN rooms r ON a.room = r.code
        WHERE r.workshop = ? AND a.ended_at IS NOT NULL ORDER BY a.ended_at, a.id`),
    };
  }

  private migrate(): void {
    const have = this.db.pragma("user_version", { simple: true }) as number;
    if (have > SCHEMA_VERSION) throw new Error(`${this.path}: database schema ${have} is newer than this faultline (${SCHEMA_VERSION})`);
    for (let v = have + 1; v <= SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v}`);
      })();
    }
  }

  savePlayer(p: PlayerRecord): void {
    this.st.savePlayer.run(p.id, p.name, p.createdAt);
  }
  createWorkshop(w: WorkshopRecord): void {
    this.st.createWorkshop.run(w.id, w.title, w.tokenHash, w.createdAt, w.paused ? 1 : 0, w.levels ? JSON.stringify(w.levels) : null);
  }
  getWorkshop(id: string): WorkshopRecord | null {
    const r = this.st.getWorkshop.get(id) as Row | undefined;
    return r
      ? { id: String(r.id), title: String(r.title), tokenHash: String(r.token_hash), createdAt: Number(r.created_at), paused: r.paused === 1, levels: typeof r.levels === "string" ? (JSON.parse(r.levels) as string[]) : null }
      : null;
  }
  setWorkshopPaused(id: string, paused: boolean): void {
    this.st.setPaused.run(paused ? 1 : 0, id);
  }
  createRoom(r: RoomRecord): void {
    this.st.createRoom.run(r.code, r.level, r.policy, r.versus ? 1 : 0, r.workshop, r.team, r.createdAt, r.scenario ?? null);
  }
  getRoom(code: string): RoomRecord | null {
    const r = this.st.getRoom.get(code) as Row | undefined;
    return r ? roomOf(r) : null;
  }
  workshopRooms(workshop: string): string[] {
    return (this.st.workshopRooms.all(workshop) as Row[]).map((r) => String(r.code));
  }
  startAttempt(a: AttemptRecord): void {
    this.st.startAttempt.run(a.id, a.room, a.n, a.level, a.startSeq, a.startedAt);
  }
  appendAction(attempt: string, room: string, e: LogEntry): void {
    this.st.appendAction.run(attempt, e.seq, room, e.at, e.by, JSON.stringify(e.cmd));
  }
  finishAttempt(f: FinishedAttempt): void {
    this.transaction(() => {
      const r = f.result;
      const changed = this.st.finishAttempt.run(
        f.endedAt, JSON.stringify(f.knobs), r.outcome, r.reason, r.steps, r.par, r.hintsUsed, r.rewinds, r.resets, r.durationMs, r.score,
        JSON.stringify(r), JSON.stringify(f.players), f.attempt,
      ).changes;
      if (changed !== 1) throw new Error(`no attempt ${f.attempt}`);
      for (const p of f.players) {
        this.st.score.run(f.attempt, p.id, p.name, r.score);
        // A players row for whoever played an attempt to its end (hello alone writes nothing).
        this.st.savePlayer.run(p.id, p.name, f.endedAt);
      }
    });
  }
  attempts(room: string): (AttemptRecord & { result: Result | null; knobs: Record<string, string> | null })[] {
    return (this.st.attempts.all(room) as Row[]).map((r) => ({
      ...attemptOf(r),
      result: r.result === null ? null : resultSchema.parse(JSON.parse(String(r.result))),
      knobs: r.knobs === null ? null : (JSON.parse(String(r.knobs)) as Record<string, string>),
    }));
  }
  actions(attempt: string): LogEntry[] {
    return (this.st.actions.all(attempt) as Row[]).map((r) => ({
      seq: Number(r.seq),
      at: Number(r.at),
      by: String(r.by),
      cmd: commandSchema.parse(JSON.parse(String(r.cmd))),
    }));
  }
  lastSeq(room: string): number {
    const r = this.st.lastSeq.get(room, room) as Row | undefined;
    return r && r.s !== null ? Number(r.s) : 0;
  }
  results(workshop: string): ResultRow[] {
    return (this.st.results.all(workshop) as Row[]).map((r) => {
      const room: RoomRecord = roomOf({ code: r.r_code, level: r.r_level, policy: r.r_policy, versus: r.r_versus, workshop: r.r_workshop, team: r.r_team, created_at: r.r_created_at });
      const players = (JSON.parse(String(r.players ?? "[]")) as { name: string }[]).map((p) => p.name);
      return resultRow(room, attemptOf(r), JSON.parse(String(r.knobs)) as Record<string, string>, resultSchema.parse(JSON.parse(String(r.result))), Number(r.ended_at), players);
    });
  }
  appendChat(c: ChatRecord): void {
    this.st.appendChat.run(c.room, c.n, c.attempt, c.step, c.at, c.from, c.name, c.text);
  }
  chat(room: string, opts: { attempt: string } | { limit: number }): ChatRecord[] {
    const rows = ("attempt" in opts ? this.st.chatOfAttempt.all(opts.attempt, room) : this.st.chatLatest.all(room, opts.limit)) as Row[];
    return rows.map((r) => ({ room: String(r.room), n: Number(r.n), attempt: String(r.attempt), step: Number(r.step), at: Number(r.at), from: String(r.sender), name: String(r.name), text: String(r.text) }));
  }
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
  /** One small real write (the schema version, rewritten): fails while the database refuses writes. */
  probe(): void {
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }
  /** Run one checkpoint on the worker now and resolve with its counts (tests); null without a worker. */
  checkpoint(): Promise<Checkpointed | null> {
    const w = this.checkpointer;
    if (!w) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const done = (m: { type: string; message?: string } & Checkpointed) => {
        if (m.type !== "checkpointed" && m.type !== "failed") return;
        w.off("message", done);
        w.off("error", reject);
        if (m.type === "failed") reject(new Error(`checkpoint failed: ${m.message}`));
        else resolve({ busy: m.busy, log: m.log, checkpointed: m.checkpointed });
      };
      w.on("message", done);
      w.once("error", reject);
      w.postMessage({ type: "checkpoint" });
    });
  }
  close(): void {
    // The worker closes its connection and ends on its own; it holds no transaction between checkpoints.
    this.checkpointer?.postMessage({ type: "close" });
    this.checkpointer = null;
    if (this.db.open) this.db.close();
  }
}

function roomOf(r: Row): RoomRecord {
  return {
    code: String(r.code),
    level: String(r.level),
    policy: String(r.policy) as RoomRecord["policy"],
    versus: r.versus === 1,
    workshop: r.workshop === null ? null : String(r.workshop),
    team: r.team === null ? null : String(r.team),
    createdAt: Number(r.created_at),
    ...(typeof r.scenario === "string" ? { scenario: r.scenario } : {}),
  };
}

function attemptOf(r: Row): AttemptRecord {
  return { id: String(r.id), room: String(r.room), n: Number(r.n), level: String(r.level), startSeq: Number(r.start_seq), startedAt: Number(r.started_at) };
}
