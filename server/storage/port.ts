// The storage port: everything the server persists, behind a small synchronous
// interface (like tldraw's SyncSqliteDatabase). SQLite is the product's
// implementation, memory the tests'; PostgreSQL (postgres.ts) is the shared
// database of several server processes.
//
// Durability contract: when a write method returns, its write is committed,
// or, for a store whose commits are asynchronous (PostgreSQL), `written()`
// returns a promise that settles once it is. The server acknowledges an action
// only after appendAction (and finishAttempt, for a step that ends the attempt)
// is committed: its outputs wait behind that promise (server/outbox.ts).
//
// Reads are synchronous too. An asynchronous store answers them from what it
// has in memory: what it wrote, and what `load()` last brought in. The server
// calls load() before reading anything it may not hold (a room rebuilt from
// the log, a workshop another node created, an old attempt's log).

import type { LogEntry } from "../../src/game/replay.js";
import type { Result } from "../../src/protocol/server.js";

export interface PlayerRecord {
  id: string;
  name: string;
  createdAt: number;
}

export interface WorkshopRecord {
  id: string;
  title: string;
  /** SHA-256 of the instructor token (hex); the token itself is never stored. */
  tokenHash: string;
  createdAt: number;
  paused: boolean;
  /** The instructor's own list of level ids (its rooms play only these), or null/absent: every level. */
  levels?: string[] | null;
}

export interface RoomRecord {
  code: string;
  level: string;
  /** The bots the creator chose for every level, or "level": each level's own (server/room.ts levelPolicy). */
  policy: "manual" | "eager" | "adversary" | "level";
  versus: boolean;
  workshop: string | null;
  team: string | null;
  createdAt: number;
  /** A sandbox room: the scenario it plays (JSON of the createSandbox scenario); absent for a room on a level. */
  scenario?: string | null;
}

export interface AttemptRecord {
  /** ROOMCODE-N */
  id: string;
  room: string;
  /** 1, 2, ... within the room. */
  n: number;
  level: string;
  /** The room sequence number at which the attempt began. */
  startSeq: number;
  startedAt: number;
}

export interface FinishedAttempt {
  attempt: string;
  knobs: Record<string, string>;
  result: Result;
  endedAt: number;
  /** Everyone who held a CPU or acted during the attempt. */
  players: { id: string; name: string }[];
}

/** One chat message of a room (src/protocol/server.ts ChatEntry, with its room). */
export interface ChatRecord {
  room: string;
  /** 1, 2, ... within the room. */
  n: number;
  attempt: string;
  /** Steps in the attempt's trace when it was said. */
  step: number;
  at: number;
  /** A member id, or "instructor". */
  from: string;
  name: string;
  /** Normalised at the boundary (src/protocol/text.ts). */
  text: string;
}

/** One finished attempt, as `faultline results` exports it. */
export interface ResultRow {
  workshop: string;
  room: string;
  team: string | null;
  attempt: string;
  level: string;
  knobs: string;
  outcome: string;
  reason: string;
  steps: number;
  par: number | null;
  hints: number;
  /** Hints the instructor released to the team (free). */
  hintsReleased: number;
  rewinds: number;
  resets: number;
  durationMs: number;
  score: number;
  players: string;
  startedAt: string;
  endedAt: string;
}

/** What a `load()` brings into an asynchronous store's memory, fresh from the database. */
export interface Need {
  /** Rooms by code: the row, its attempts (with results), its last attempt's log, its workshop's row. */
  rooms?: string[];
  /** Workshops by id: the row, and the codes of its rooms. */
  workshops?: string[];
  /** Attempts by id: their logs (replays of earlier attempts). */
  attempts?: string[];
  /** Workshops' result rows (faultline results). */
  results?: string[];
}

export interface Storage {
  savePlayer(p: PlayerRecord): void;
  createWorkshop(w: WorkshopRecord): void;
  getWorkshop(id: string): WorkshopRecord | null;
  setWorkshopPaused(id: string, paused: boolean): void;
  createRoom(r: RoomRecord): void;
  getRoom(code: string): RoomRecord | null;
  workshopRooms(workshop: string): string[];
  startAttempt(a: AttemptRecord): void;
  /** Append one applied command to the attempt's log. */
  appendAction(attempt: string, room: string, e: LogEntry): void;
  finishAttempt(f: FinishedAttempt): void;
  /** The room's attempts, oldest first, with their results when finished. */
  attempts(room: string): (AttemptRecord & { result: Result | null; knobs: Record<string, string> | null })[];
  actions(attempt: string): LogEntry[];
  /** The room's highest sequence number (its last logged action or attempt start). */
  lastSeq(room: string): number;
  results(workshop: string): ResultRow[];
  /** Keep one chat message (the room's log of what was said). */
  appendChat(c: ChatRecord): void;
  /** A room's chat, oldest first: one attempt's whole chat, or the room's latest `limit` messages. */
  chat(room: string, opts: { attempt: string } | { limit: number }): ChatRecord[];
  /** Run `fn` as one atomic write (all of its writes commit, or none). */
  transaction<T>(fn: () => T): T;
  /**
   * Asynchronous stores only: a promise that settles when every write made so far is
   * committed (rejects if it cannot be), or null when all are. Synchronous stores leave it out.
   */
  written?(): Promise<void> | null;
  /** Asynchronous stores only: bring `need` into memory from the database (after this store's own writes commit). */
  load?(need: Need): Promise<void>;
  /** Asynchronous stores only: the room left this server's memory; its cached rows may go too. */
  forget?(room: string): void;
  close(): void | Promise<void>;
}
