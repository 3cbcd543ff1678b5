// Storage faults, named. The database can stop taking writes under a running
// server: the disk goes read-only, fills up, or fails. Then every write is
// refused with a typed `unavailable` error (the request changed nothing, as
// with every refusal), reads and watching go on, /health reports the fault,
// and the log gets one line per fault per interval instead of a stack trace per
// request. While the fault lasts, a probe write runs every probeMs; the first
// write that succeeds (a probe or a request) ends it, and the log says so.

import { GameError } from "../../src/game/session.js";
import type { LogEntry } from "../../src/game/replay.js";
import type { ServerLog } from "../log.js";
import type { Outbox } from "../outbox.js";
import type { AttemptRecord, ChatRecord, FinishedAttempt, Need, PlayerRecord, ResultRow, RoomRecord, Storage, WorkshopRecord } from "./port.js";

export interface StorageFault {
  /** The SQLite or system error code (SQLITE_READONLY, SQLITE_FULL, SQLITE_IOERR_WRITE, EROFS...). */
  code: string;
  /** What the database said. */
  reason: string;
  /** When it began (ms since the epoch). */
  since: number;
}

const FAULT_CODES = /^(SQLITE_(READONLY|IOERR|FULL|CANTOPEN|CORRUPT|NOTADB|PERM|NOLFS|BUSY|LOCKED|PROTOCOL)|EROFS|ENOSPC|EIO|EDQUOT|EACCES|EPERM)/;

/** The fault an error names, if it is one of the database's own (not a bug in the caller). */
export function faultOf(e: unknown, now: number): StorageFault | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !FAULT_CODES.test(code)) return null;
  return { code, reason: e instanceof Error ? e.message : String(e), since: now };
}

/** A readable sentence for a fault (for clients, /health and the log). */
export function describeFault(f: { code: string; reason: string }): string {
  const what = f.code.startsWith("SQLITE_FULL") || f.code === "ENOSPC" || f.code === "EDQUOT"
    ? "the disk is full"
    : f.code.startsWith("SQLITE_READONLY") || f.code === "EROFS" || f.code === "EACCES" || f.code === "EPERM"
      ? "the database is read-only"
      : f.code.startsWith("SQLITE_BUSY") || f.code.startsWith("SQLITE_LOCKED")
        ? "the database is locked by another process"
        : f.code.startsWith("SQLITE_CORRUPT") || f.code === "SQLITE_NOTADB"
          ? "the database file is damaged"
          : f.code.startsWith("SQLITE_CANTOPEN")
            ? "the database file cannot be opened"
            : "the disk failed";
  return `${what} (${f.code}: ${f.reason})`;
}

export interface ProbedStorage extends Storage {
  /** One small real write (it must fail while writes fail). */
  probe?(): void;
}

export class GuardedStorage implements Storage {
  /** The fault in force, or null while the database takes writes. */
  fault: StorageFault | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private depth = 0;

  constructor(
    readonly inner: ProbedStorage,
    private readonly log: ServerLog,
    private readonly now: () => number,
    private readonly probeMs: number,
    /** An asynchronous store's pending commits hold back what the server says next (outbox.ts). */
    private readonly outbox: Outbox | null = null,
  ) {
    if (inner.load) this.load = (need) => this.inner.load!(need);
    if (inner.forget) this.forget = (room) => this.inner.forget!(room);
    if (inner.written) this.written = () => this.inner.written!();
  }

  load?: (need: Need) => Promise<void>;
  forget?: (room: string) => void;
  written?: () => Promise<void> | null;

  private write<T>(fn: () => T): T {
    // Inside a transaction, the outermost call decides (a nested refusal is already converted).
    if (this.depth > 0) return fn();
    this.depth++;
    try {
      const r = fn();
      if (this.fault) this.recovered();
      const pending = this.inner.written?.();
      if (pending && this.outbox) this.outbox.hold(pending);
      return r;
    } catch (e) {
      throw this.failed(e);
    } finally {
      this.depth--;
    }
  }

  private read<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    try {
      return fn();
    } catch (e) {
      throw this.failed(e);
    }
  }

  /** A storage error becomes `unavailable` (and the fault is recorded); anything else passes through. */
  private failed(e: unknown): unknown {
    if (e instanceof GameError) return e;
    const f = faultOf(e, this.now());
    if (!f) return e;
    // One line per kind of fault per interval (a flapping disk included); the next says how many were held back.
    this.log.limited("error", "storage-fault", `${describeFault(f)}: refusing changes (unavailable) until it takes writes again; reads and watching go on`, { code: f.code }, `storage-fault|${f.code}`);
    if (!this.fault || this.fault.code !== f.code) this.fault = { ...f, since: this.fault?.since ?? f.since };
    this.armProbe();
    return new GameError("unavailable", `the server cannot save right now: ${describeFault(f)}. Nothing changed; try again later`);
  }

  private recovered(): void {
    const f = this.fault!;
    this.fault = null;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    this.log.limited("info", "storage-recovered", `the database takes writes again (after ${Math.round((this.now() - f.since) / 1000)} s of ${f.code})`, {}, "storage-recovered");
  }

  private armProbe(): void {
    if (this.probeTimer || !this.inner.probe) return;
    this.probeTimer = setInterval(() => this.probe(), this.probeMs);
    this.probeTimer.unref();
  }

  /** Try one write now (the timer's job; /health calls it too). */
  probe(): void {
    if (!this.fault || !this.inner.probe) return;
    try {
      this.write(() => this.inner.probe!());
    } catch {
      // Still failing: counted and logged by failed().
    }
  }

  savePlayer(p: PlayerRecord): void {
    this.write(() => this.inner.savePlayer(p));
  }
  createWorkshop(w: WorkshopRecord): void {
    this.write(() => this.inner.createWorkshop(w));
  }
  getWorkshop(id: string): WorkshopRecord | null {
    return this.read(() => this.inner.getWorkshop(id));
  }
  setWorkshopPaused(id: string, paused: boolean): void {
    this.write(() => this.inner.setWorkshopPaused(id, paused));
  }
  createRoom(r: RoomRecord): void {
    this.write(() => this.inner.createRoom(r));
  }
  getRoom(code: string): RoomRecord | null {
    return this.read(() => this.inner.getRoom(code));
  }
  workshopRooms(workshop: string): string[] {
    return this.read(() => this.inner.workshopRooms(workshop));
  }
  startAttempt(a: AttemptRecord): void {
    this.write(() => this.inner.startAttempt(a));
  }
  appendAction(attempt: string, room: string, e: LogEntry): void {
    this.write(() => this.inner.appendAction(attempt, room, e));
  }
  finishAttempt(f: FinishedAttempt): void {
    this.write(() => this.inner.finishAttempt(f));
  }
  attempts(room: string): ReturnType<Storage["attempts"]> {
    return this.read(() => this.inner.attempts(room));
  }
  actions(attempt: string): LogEntry[] {
    return this.read(() => this.inner.actions(attempt));
  }
  lastSeq(room: string): number {
    return this.read(() => this.inner.lastSeq(room));
  }
  results(workshop: string): ResultRow[] {
    return this.read(() => this.inner.results(workshop));
  }
  appendChat(c: ChatRecord): void {
    this.write(() => this.inner.appendChat(c));
  }
  chat(room: string, opts: { attempt: string } | { limit: number }): ChatRecord[] {
    return this.read(() => this.inner.chat(room, opts));
  }
  transaction<T>(fn: () => T): T {
    return this.write(() => this.inner.transaction(fn));
  }
  /** Stop probing (the server is closing; the storage is someone else's to close). */
  stop(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
  }
  close(): void | Promise<void> {
    this.stop();
    return this.inner.close();
  }
}
