// Storage on PostgreSQL (node-postgres): the shared database of several
// `faultline serve` nodes (docs/cluster.md), or of one that wants a server
// database rather than a file.
//
// The port is synchronous and PostgreSQL is not, so this store is a
// write-behind cache with ordered group commit:
//
// - A write is checked against what the store holds and applied to it at once
//   (the room goes on in arrival order), then queued. Queued writes go to the
//   database in order, in batches: every write queued while a batch is in
//   flight goes in the next one, as ONE statement (faultline_apply, a function
//   the migrations create, applies a JSON array of writes) on one connection.
//   A statement is atomic, so a transaction() is atomic, and batches commit in
//   the order the writes were made.
// - written() is the promise of the batch holding the latest write: the server
//   holds every output (acks, updates) behind it (server/outbox.ts), so nothing
//   is acknowledged or broadcast before it is committed.
// - Reads answer from memory: what this store wrote and what load() brought in.
//   load() first waits for this store's own writes, then reads the database.
// - A batch that fails (the database went away, a conflict with another node)
//   is fatal: the writes after it depend on it. onFatal is called once, every
//   later write and load fails, and the server stops (fail-stop). No output
//   waiting on that batch is ever sent: nothing unacknowledged is claimed.
//
// Tables live in a schema of their own (default "faultline"; tests use one
// per run) and are created by numbered migrations under an advisory lock, so
// nodes starting together migrate once.

import pg from "pg";
import { commandSchema } from "../../src/game/session.js";
import type { LogEntry } from "../../src/game/replay.js";
import { resultSchema, type Result } from "../../src/protocol/server.js";
import type { AttemptRecord, ChatRecord, FinishedAttempt, Need, PlayerRecord, ResultRow, RoomRecord, Storage, WorkshopRecord } from "./port.js";
import { resultRow } from "./rows.js";
export { redactUrl } from "../url.js";

export const PG_SCHEMA_VERSION = 2;
export const DEFAULT_PG_SCHEMA = "faultline";

/**
 * faultline_apply, the function that applies one batch of writes, in order, as one statement
 * (so atomically): one WHEN per kind of write. A migration that adds a kind replaces it.
 */
function applyFunction(cases: string): string {
  return `CREATE OR REPLACE FUNCTION faultline_apply(ops JSONB) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
    DECLARE o JSONB; p JSONB; r JSONB;
    BEGIN
      FOR o IN SELECT value FROM jsonb_array_elements(ops) LOOP
        CASE o->>'op'
        ${cases}
        ELSE RAISE EXCEPTION 'unknown write %', o->>'op';
        END CASE;
      END LOOP;
    END $fn$;`;
}

const APPLY_V1 = `
        WHEN 'player' THEN
          INSERT INTO players (id, name, created_at) VALUES (o->>'id', o->>'name', (o->>'at')::BIGINT)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name;
        WHEN 'workshop' THEN
          INSERT INTO workshops (id, title, token_hash, created_at, paused, levels)
            VALUES (o->>'id', o->>'title', o->>'tokenHash', (o->>'createdAt')::BIGINT, (o->>'paused')::BOOLEAN,
                    CASE WHEN jsonb_typeof(o->'levels') = 'array' THEN o->'levels' ELSE NULL END);
        WHEN 'paused' THEN
          UPDATE workshops SET paused = (o->>'paused')::BOOLEAN WHERE id = o->>'id';
        WHEN 'room' THEN
          INSERT INTO rooms (code, level, policy, versus, workshop, team, created_at)
            VALUES (o->>'code', o->>'level', o->>'policy', (o->>'versus')::BOOLEAN, o->>'workshop', o->>'team', (o->>'createdAt')::BIGINT);
        WHEN 'attempt' THEN
          INSERT INTO attempts (id, room, n, level, start_seq, started_at)
            VALUES (o->>'id', o->>'room', (o->>'n')::INTEGER, o->>'level', (o->>'startSeq')::INTEGER, (o->>'startedAt')::BIGINT);
        WHEN 'action' THEN
          INSERT INTO actions (attempt, seq, room, at, by, cmd)
            VALUES (o->>'attempt', (o->>'seq')::INTEGER, o->>'room', (o->>'at')::BIGINT, o->>'by', o->'cmd');
        WHEN 'finish' THEN
          r := o->'result';
          UPDATE attempts SET ended_at = (o->>'endedAt')::BIGINT, knobs = o->'knobs', outcome = r->>'outcome', reason = r->>'reason',
            steps = (r->>'steps')::INTEGER, par = (r->>'par')::INTEGER, hints = (r->>'hintsUsed')::INTEGER,
            rewinds = (r->>'rewinds')::INTEGER, resets = (r->>'resets')::INTEGER, duration_ms = (r->>'durationMs')::BIGINT,
            score = (r->>'score')::INTEGER, result = r, players = o->'players'
            WHERE id = o->>'attempt';
          IF NOT FOUND THEN RAISE EXCEPTION 'no attempt %', o->>'attempt'; END IF;
          FOR p IN SELECT value FROM jsonb_array_elements(o->'players') LOOP
            INSERT INTO scores (attempt, player, name, score) VALUES (o->>'attempt', p->>'id', p->>'name', (r->>'score')::INTEGER)
              ON CONFLICT (attempt, player) DO UPDATE SET name = excluded.name, score = excluded.score;
            INSERT INTO players (id, name, created_at) VALUES (p->>'id', p->>'name', (o->>'endedAt')::BIGINT)
              ON CONFLICT (id) DO UPDATE SET name = excluded.name;
          END LOOP;`;

const APPLY_V2 = `${APPLY_V1}
        WHEN 'chat' THEN
          INSERT INTO chat (room, n, attempt, step, at, sender, name, text)
            VALUES (o->>'room', (o->>'n')::INTEGER, o->>'attempt', (o->>'step')::INTEGER, (o->>'at')::BIGINT, o->>'from', o->>'name', o->>'text');`;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE players (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at BIGINT NOT NULL);
    CREATE TABLE workshops (
      id TEXT PRIMARY KEY, title TEXT NOT NULL, token_hash TEXT NOT NULL,
      created_at BIGINT NOT NULL, paused BOOLEAN NOT NULL DEFAULT false, levels JSONB);
    CREATE TABLE rooms (
      code TEXT PRIMARY KEY, level TEXT NOT NULL, policy TEXT NOT NULL, versus BOOLEAN NOT NULL,
      workshop TEXT REFERENCES workshops(id), team TEXT, created_at BIGINT NOT NULL);
    CREATE INDEX rooms_workshop ON rooms(workshop);
    CREATE TABLE attempts (
      id TEXT PRIMARY KEY, room TEXT NOT NULL REFERENCES rooms(code), n INTEGER NOT NULL,
      level TEXT NOT NULL, start_seq INTEGER NOT NULL, started_at BIGINT NOT NULL,
      ended_at BIGINT, knobs JSONB, outcome TEXT, reason TEXT, steps INTEGER, par INTEGER,
      hints INTEGER, rewinds INTEGER, resets INTEGER, duration_ms BIGINT, score INTEGER,
      result JSONB, players JSONB, UNIQUE (room, n));
    CREATE TABLE actions (
      attempt TEXT NOT NULL REFERENCES attempts(id), seq INTEGER NOT NULL, room TEXT NOT NULL,
      at BIGINT NOT NULL, by TEXT NOT NULL, cmd JSONB NOT NULL, PRIMARY KEY (attempt, seq));
    CREATE INDEX actions_room ON actions(room, seq);
    CREATE TABLE scores (
      attempt TEXT NOT NULL REFERENCES attempts(id), player TEXT NOT NULL, name TEXT NOT NULL,
      score INTEGER NOT NULL, PRIMARY KEY (attempt, player));
    ${applyFunction(APPLY_V1)}
  `,
  // What a room's members said (issue 17); faultline_apply learns the write that keeps it.
  2: `
    CREATE TABLE chat (
      room TEXT NOT NULL REFERENCES rooms(code), n INTEGER NOT NULL, attempt TEXT NOT NULL, step INTEGER NOT NULL,
      at BIGINT NOT NULL, sender TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (room, n));
    CREATE INDEX chat_attempt ON chat(attempt, n);
    ${applyFunction(APPLY_V2)}
  `,
};

export interface PgOptions {
  /** The schema that holds the tables (created if missing). Default "faultline". */
  schema?: string;
  /** Called once when a batch of writes cannot be committed (the store is then broken). */
  onFatal?: (e: Error) => void;
  /** Connections for loads (default 4); writes have one of their own, to keep their order. */
  readers?: number;
  /**
   * PostgreSQL's synchronous_commit for this store's writes. true (the default): a commit is
   * flushed to PostgreSQL's disk before it counts (survives PostgreSQL or the machine crashing;
   * one disk flush per batch). false: it counts once PostgreSQL has it (survives this server
   * being killed, as SQLite's default does; PostgreSQL crashing may lose its last fraction of a second).
   */
  synchronousCommit?: boolean;
}

type Op = Record<string, unknown> & { op: string };

interface Batch {
  ops: Op[];
  done: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

type AttemptRow = AttemptRecord & { result: Result | null; knobs: Record<string, string> | null };
type Row = Record<string, unknown>;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const copy = <T>(v: T): T => structuredClone(v);

export class PgStorage implements Storage {
  // What this store holds (see the top of the file).
  private readonly workshops = new Map<string, WorkshopRecord>();
  private readonly roomsOf = new Map<string, string[]>();
  private readonly rooms = new Map<string, RoomRecord>();
  private readonly attemptsOf = new Map<string, AttemptRow[]>();
  private readonly logs = new Map<string, LogEntry[]>();
  private readonly seqs = new Map<string, number>();
  private readonly resultRows = new Map<string, ResultRow[]>();
  /** Each room's chat this store holds (it wrote it, or load() brought the room in), oldest first. */
  private readonly chats = new Map<string, ChatRecord[]>();

  private collecting: Batch | null = null;
  private inflight: Batch | null = null;
  /** Writes made inside transaction(): queued together, or dropped if it throws. */
  private txOps: Op[] | null = null;
  private broken: Error | null = null;
  private closed = false;
  /** Batches committed, and writes in them (tests, benchmarks). */
  readonly stats = { batches: 0, writes: 0 };

  private constructor(
    private readonly writer: pg.Client,
    private readonly readers: pg.Pool,
    readonly schema: string,
    private readonly onFatal: (e: Error) => void,
  ) {}

  /** Connect, create the schema and migrate it. Throws a readable error if the database cannot be used. */
  static async open(url: string, opts: PgOptions = {}): Promise<PgStorage> {
    const schema = opts.schema ?? DEFAULT_PG_SCHEMA;
    if (!SCHEMA_NAME.test(schema)) throw new Error(`bad PostgreSQL schema name "${schema}" (lower-case letters, digits and _)`);
    const config = { connectionString: url, options: `-c search_path=${schema}`, application_name: "faultline" };
    const writer = new pg.Client(config);
    await writer.connect();
    if (opts.synchronousCommit === false) await writer.query("SET synchronous_commit = off");
    const readers = new pg.Pool({ ...config, max: opts.readers ?? 4 });
    let st: PgStorage | null = null;
    const fatal = (e: Error) => st?.fail(e);
    // A connection that drops between queries is reported here (not thrown): it is the next batch's failure.
    writer.on("error", (e) => fatal(e));
    readers.on("error", () => {}); // an idle reader that drops is replaced by the pool
    try {
      await migrate(writer, schema);
    } catch (e) {
      await writer.end().catch(() => {});
      await readers.end().catch(() => {});
      throw e;
    }
    st = new PgStorage(writer, readers, schema, opts.onFatal ?? (() => {}));
    return st;
  }

  // ------------------------------------------------------------------ writes

  private usable(): void {
    if (this.closed) throw new Error("storage is closed");
    if (this.broken) throw new Error(`the PostgreSQL store stopped: ${this.broken.message}`);
  }

  private queue(op: Op): void {
    if (this.txOps) {
      this.txOps.push(op);
      return;
    }
    this.enqueue([op]);
  }

  private enqueue(ops: Op[]): void {
    if (ops.length === 0) return;
    if (!this.collecting) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Whoever waits on it handles a failure; an unobserved one is reported through onFatal.
      done.catch(() => {});
      this.collecting = { ops: [], done, resolve, reject };
      // Everything written by the handler running now goes in this batch.
      if (!this.inflight) queueMicrotask(() => this.flush());
    }
    this.collecting.ops.push(...ops);
  }

  private flush(): void {
    if (this.inflight || !this.collecting) return;
    const b = this.collecting;
    this.collecting = null;
    this.inflight = b;
    if (this.broken) return this.settle(b, this.broken);
    this.writer.query("SELECT faultline_apply($1::jsonb)", [JSON.stringify(b.ops)]).then(
      () => {
        this.stats.batches++;
        this.stats.writes += b.ops.length;
        this.settle(b, null);
      },
      (e: unknown) => this.settle(b, e instanceof Error ? e : new Error(String(e))),
    );
  }

  private settle(b: Batch, e: Error | null): void {
    this.inflight = null;
    if (e) {
      this.fail(e);
      b.reject(this.broken ?? e);
    } else b.resolve();
    if (this.collecting) this.flush();
  }

  private fail(e: Error): void {
    if (this.broken) return;
    this.broken = e;
    this.onFatal(e);
  }

  written(): Promise<void> | null {
    return (this.collecting ?? this.inflight)?.done ?? null;
  }

  /** Every write so far committed (rejects if the store broke). */
  async flushed(): Promise<void> {
    for (;;) {
      const p = this.written();
      if (!p) {
        if (this.broken) throw this.broken;
        return;
      }
      await p;
    }
  }

  savePlayer(p: PlayerRecord): void {
    this.usable();
    this.queue({ op: "player", id: p.id, name: p.name, at: p.createdAt });
  }
  createWorkshop(w: WorkshopRecord): void {
    this.usable();
    if (this.workshops.has(w.id)) throw new Error(`workshop ${w.id} exists`);
    this.queue({ op: "workshop", id: w.id, title: w.title, tokenHash: w.tokenHash, createdAt: w.createdAt, paused: w.paused, levels: w.levels ?? null });
    this.workshops.set(w.id, copy({ ...w, levels: w.levels ?? null }));
    this.roomsOf.set(w.id, []);
  }
  getWorkshop(id: string): WorkshopRecord | null {
    const w = this.workshops.get(id);
    return w ? copy(w) : null;
  }
  setWorkshopPaused(id: string, paused: boolean): void {
    this.usable();
    this.queue({ op: "paused", id, paused });
    const w = this.workshops.get(id);
    if (w) w.paused = paused;
  }
  createRoom(r: RoomRecord): void {
    this.usable();
    if (this.rooms.has(r.code)) throw new Error(`room ${r.code} exists`);
    this.queue({ op: "room", ...r });
    this.rooms.set(r.code, copy(r));
    this.attemptsOf.set(r.code, []);
    if (r.workshop) this.roomsOf.get(r.workshop)?.push(r.code);
  }
  getRoom(code: string): RoomRecord | null {
    const r = this.rooms.get(code);
    return r ? copy(r) : null;
  }
  workshopRooms(workshop: string): string[] {
    return [...(this.roomsOf.get(workshop) ?? [])];
  }
  startAttempt(a: AttemptRecord): void {
    this.usable();
    const list = this.attemptsOf.get(a.room) ?? [];
    if (list.some((x) => x.id === a.id || x.n === a.n)) throw new Error(`room ${a.room} already has attempt ${a.n}`);
    this.queue({ op: "attempt", ...a });
    // Only the last attempt's log is kept in memory (a room rebuilds from it); replays load the others.
    for (const x of list) this.logs.delete(x.id);
    list.push({ ...copy(a), result: null, knobs: null });
    this.attemptsOf.set(a.room, list);
    this.logs.set(a.id, []);
    this.seqs.set(a.room, Math.max(this.seqs.get(a.room) ?? 0, a.startSeq));
  }
  appendAction(attempt: string, room: string, e: LogEntry): void {
    this.usable();
    // Logs are appended to the room's current attempt, whose log this store holds (it wrote or loaded it).
    const log = this.logs.get(attempt);
    if (!log) throw new Error(`attempt ${attempt} is not a current attempt this store holds (load its room first)`);
    if (log.some((x) => x.seq === e.seq)) throw new Error(`attempt ${attempt} already has seq ${e.seq}`);
    this.queue({ op: "action", attempt, room, seq: e.seq, at: e.at, by: e.by, cmd: e.cmd });
    log.push(copy(e));
    this.seqs.set(room, Math.max(this.seqs.get(room) ?? 0, e.seq));
  }
  finishAttempt(f: FinishedAttempt): void {
    this.usable();
    this.queue({ op: "finish", attempt: f.attempt, knobs: f.knobs, result: f.result, endedAt: f.endedAt, players: f.players });
    for (const list of this.attemptsOf.values()) {
      const a = list.find((x) => x.id === f.attempt);
      if (a) {
        a.result = copy(f.result);
        a.knobs = copy(f.knobs);
      }
    }
  }
  appendChat(c: ChatRecord): void {
    this.usable();
    const list = this.chats.get(c.room) ?? [];
    if (list.some((x) => x.n === c.n)) throw new Error(`room ${c.room} already has chat ${c.n}`);
    this.queue({ op: "chat", ...c });
    list.push(copy(c));
    this.chats.set(c.room, list);
  }
  transaction<T>(fn: () => T): T {
    if (this.txOps) return fn();
    this.txOps = [];
    try {
      const r = fn();
      const ops = this.txOps;
      this.txOps = null;
      this.enqueue(ops);
      return r;
    } catch (e) {
      // Nothing reaches the database; what the half-run wrote into memory is forgotten (load() brings it back).
      const ops = this.txOps ?? [];
      this.txOps = null;
      for (const op of ops) if (typeof op.room === "string") this.forget(op.room);
      throw e;
    }
  }

  // ------------------------------------------------------------------ reads

  attempts(room: string): AttemptRow[] {
    return copy(this.attemptsOf.get(room) ?? []);
  }
  actions(attempt: string): LogEntry[] {
    return copy(this.logs.get(attempt) ?? []);
  }
  lastSeq(room: string): number {
    return this.seqs.get(room) ?? 0;
  }
  results(workshop: string): ResultRow[] {
    return copy(this.resultRows.get(workshop) ?? []);
  }
  chat(room: string, opts: { attempt: string } | { limit: number }): ChatRecord[] {
    const list = this.chats.get(room) ?? [];
    return copy("attempt" in opts ? list.filter((c) => c.attempt === opts.attempt) : list.slice(Math.max(0, list.length - opts.limit)));
  }

  async load(need: Need): Promise<void> {
    this.usable();
    await this.flushed();
    const rooms = [...new Set(need.rooms ?? [])];
    const workshops = new Set(need.workshops ?? []);
    const q = (sql: string, params: unknown[]) => this.readers.query(sql, params).then((r) => r.rows as Row[]);
    if (rooms.length > 0) {
      const [rows, attempts, chat] = await Promise.all([
        q("SELECT * FROM rooms WHERE code = ANY($1)", [rooms]),
        q("SELECT * FROM attempts WHERE room = ANY($1) ORDER BY room, n", [rooms]),
        q("SELECT * FROM chat WHERE room = ANY($1) ORDER BY room, n", [rooms]),
      ]);
      const byRoom = new Map<string, AttemptRow[]>();
      for (const a of attempts) {
        const list = byRoom.get(String(a.room)) ?? [];
        list.push({ ...attemptOf(a), result: a.result === null ? null : resultSchema.parse(a.result), knobs: (a.knobs as Record<string, string> | null) ?? null });
        byRoom.set(String(a.room), list);
      }
      const last = [...byRoom.values()].map((l) => l[l.length - 1].id);
      const logs = await this.readLogs(last);
      for (const code of rooms) this.forget(code);
      for (const r of rows) {
        const room = roomOf(r);
        const list = byRoom.get(room.code) ?? [];
        this.rooms.set(room.code, room);
        this.attemptsOf.set(room.code, list);
        let seq = 0;
        for (const a of list) seq = Math.max(seq, a.startSeq);
        const lastId = list.length ? list[list.length - 1].id : null;
        if (lastId) {
          const log = logs.get(lastId) ?? [];
          this.logs.set(lastId, log);
          for (const e of log) seq = Math.max(seq, e.seq);
        }
        this.seqs.set(room.code, seq);
        this.chats.set(
          room.code,
          chat.filter((c) => c.room === room.code).map((c) => ({ room: room.code, n: Number(c.n), attempt: String(c.attempt), step: Number(c.step), at: Number(c.at), from: String(c.sender), name: String(c.name), text: String(c.text) })),
        );
        // Fresh too: another node may have paused it since.
        if (room.workshop) workshops.add(room.workshop);
      }
    }
    if (workshops.size > 0) {
      const ids = [...workshops];
      const [rows, codes] = await Promise.all([
        q("SELECT * FROM workshops WHERE id = ANY($1)", [ids]),
        q("SELECT code, workshop FROM rooms WHERE workshop = ANY($1) ORDER BY created_at, code", [ids]),
      ]);
      for (const id of ids) {
        this.workshops.delete(id);
        this.roomsOf.delete(id);
      }
      for (const r of rows) {
        this.workshops.set(String(r.id), { id: String(r.id), title: String(r.title), tokenHash: String(r.token_hash), createdAt: Number(r.created_at), paused: r.paused === true, levels: (r.levels as string[] | null) ?? null });
        this.roomsOf.set(String(r.id), []);
      }
      for (const r of codes) this.roomsOf.get(String(r.workshop))?.push(String(r.code));
    }
    if (need.attempts?.length) for (const [id, log] of await this.readLogs(need.attempts)) this.logs.set(id, log);
    for (const w of new Set(need.results ?? [])) {
      const rows = await q(
        `SELECT a.*, r.code AS r_code, r.level AS r_level, r.policy AS r_policy, r.versus AS r_versus,
           r.workshop AS r_workshop, r.team AS r_team, r.created_at AS r_created_at
         FROM attempts a JOIN rooms r ON a.room = r.code
         WHERE r.workshop = $1 AND a.ended_at IS NOT NULL ORDER BY a.ended_at, a.id`,
        [w],
      );
      this.resultRows.set(
        w,
        rows.map((r) => {
          const room = roomOf({ code: r.r_code, level: r.r_level, policy: r.r_policy, versus: r.r_versus, workshop: r.r_workshop, team: r.r_team, created_at: r.r_created_at });
          const players = ((r.players as { name: string }[] | null) ?? []).map((p) => p.name);
          return resultRow(room, attemptOf(r), r.knobs as Record<string, string>, resultSchema.parse(r.result), Number(r.ended_at), players);
        }),
      );
    }
  }

  private async readLogs(ids: string[]): Promise<Map<string, LogEntry[]>> {
    const out = new Map<string, LogEntry[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const rows = (await this.readers.query("SELECT attempt, seq, at, by, cmd FROM actions WHERE attempt = ANY($1) ORDER BY attempt, seq", [ids])).rows as Row[];
    for (const r of rows) out.get(String(r.attempt))?.push({ seq: Number(r.seq), at: Number(r.at), by: String(r.by), cmd: commandSchema.parse(r.cmd) });
    return out;
  }

  forget(room: string): void {
    const r = this.rooms.get(room);
    this.rooms.delete(room);
    for (const a of this.attemptsOf.get(room) ?? []) this.logs.delete(a.id);
    this.attemptsOf.delete(room);
    this.seqs.delete(room);
    this.chats.delete(room);
    // A workshop's row stays (small, and its rooms list is refreshed by load()).
    void r;
  }

  /** Wait for every write to commit, then close the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flushed();
    } catch {
      // Broken: nothing more can be written; close anyway.
    }
    this.closed = true;
    await Promise.all([this.writer.end().catch(() => {}), this.readers.end().catch(() => {})]);
  }

  /** Drop this store's schema and everything in it (tests' clean-up), then close. */
  async dropSchema(): Promise<void> {
    await this.flushed().catch(() => {});
    await this.writer.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    await this.close();
  }
}

async function migrate(c: pg.Client, schema: string): Promise<void> {
  await c.query("BEGIN");
  try {
    // Nodes that start together: one migrates, the others wait here and find it done.
    await c.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`faultline-migrate:${schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await c.query(`SET LOCAL search_path = ${schema}`);
    await c.query("CREATE TABLE IF NOT EXISTS faultline_schema (version INTEGER NOT NULL)");
    const r = await c.query("SELECT version FROM faultline_schema");
    const have = r.rows.length ? Number((r.rows[0] as Row).version) : 0;
    if (have > PG_SCHEMA_VERSION) throw new Error(`PostgreSQL schema ${schema} is at version ${have}, newer than this faultline (${PG_SCHEMA_VERSION})`);
    for (let v = have + 1; v <= PG_SCHEMA_VERSION; v++) await c.query(MIGRATIONS[v]);
    if (r.rows.length === 0) await c.query("INSERT INTO faultline_schema (version) VALUES ($1)", [PG_SCHEMA_VERSION]);
    else await c.query("UPDATE faultline_schema SET version = $1", [PG_SCHEMA_VERSION]);
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => {});
    throw e;
  }
}

function roomOf(r: Row): RoomRecord {
  return {
    code: String(r.code),
    level: String(r.level),
    policy: String(r.policy) as RoomRecord["policy"],
    versus: r.versus === true,
    workshop: r.workshop === null ? null : String(r.workshop),
    team: r.team === null ? null : String(r.team),
    createdAt: Number(r.created_at),
  };
}

function attemptOf(r: Row): AttemptRecord {
  return { id: String(r.id), room: String(r.room), n: Number(r.n), level: String(r.level), startSeq: Number(r.start_seq), startedAt: Number(r.started_at) };
}
