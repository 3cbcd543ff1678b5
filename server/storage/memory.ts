// In-memory Storage for tests and throwaway servers. Values are copied in and
// out, so callers cannot alias what is "on disk".

import type { LogEntry } from "../../src/game/replay.js";
import type { Result } from "../../src/protocol/server.js";
import type { AttemptRecord, ChatRecord, FinishedAttempt, PlayerRecord, ResultRow, RoomRecord, Storage, WorkshopRecord } from "./port.js";
import { resultRow } from "./rows.js";

const copy = <T>(v: T): T => structuredClone(v);

export class MemoryStorage implements Storage {
  private players = new Map<string, PlayerRecord>();
  private workshops = new Map<string, WorkshopRecord>();
  private rooms = new Map<string, RoomRecord>();
  private attemptsByRoom = new Map<string, AttemptRecord[]>();
  private finished = new Map<string, FinishedAttempt>();
  private logs = new Map<string, LogEntry[]>();
  private seqs = new Map<string, number>();
  private chats = new Map<string, ChatRecord[]>();
  private closed = false;

  private open(): void {
    if (this.closed) throw new Error("storage is closed");
  }
  savePlayer(p: PlayerRecord): void {
    this.open();
    this.players.set(p.id, copy(p));
  }
  createWorkshop(w: WorkshopRecord): void {
    this.open();
    if (this.workshops.has(w.id)) throw new Error(`workshop ${w.id} exists`);
    this.workshops.set(w.id, copy(w));
  }
  getWorkshop(id: string): WorkshopRecord | null {
    const w = this.workshops.get(id);
    return w ? copy(w) : null;
  }
  setWorkshopPaused(id: string, paused: boolean): void {
    this.open();
    const w = this.workshops.get(id);
    if (w) w.paused = paused;
  }
  createRoom(r: RoomRecord): void {
    this.open();
    if (this.rooms.has(r.code)) throw new Error(`room ${r.code} exists`);
    this.rooms.set(r.code, copy(r));
  }
  getRoom(code: string): RoomRecord | null {
    const r = this.rooms.get(code);
    return r ? copy(r) : null;
  }
  workshopRooms(workshop: string): string[] {
    return [...this.rooms.values()].filter((r) => r.workshop === workshop).map((r) => r.code);
  }
  startAttempt(a: AttemptRecord): void {
    this.open();
    const list = this.attemptsByRoom.get(a.room) ?? [];
    list.push(copy(a));
    this.attemptsByRoom.set(a.room, list);
    this.seqs.set(a.room, Math.max(this.seqs.get(a.room) ?? 0, a.startSeq));
  }
  appendAction(attempt: string, room: string, e: LogEntry): void {
    this.open();
    const log = this.logs.get(attempt) ?? [];
    if (log.some((x) => x.seq === e.seq)) throw new Error(`attempt ${attempt} already has seq ${e.seq}`);
    log.push(copy(e));
    this.logs.set(attempt, log);
    this.seqs.set(room, Math.max(this.seqs.get(room) ?? 0, e.seq));
  }
  finishAttempt(f: FinishedAttempt): void {
    this.open();
    this.finished.set(f.attempt, copy(f));
  }
  attempts(room: string): (AttemptRecord & { result: Result | null; knobs: Record<string, string> | null })[] {
    return (this.attemptsByRoom.get(room) ?? []).map((a) => {
      const f = this.finished.get(a.id);
      return { ...copy(a), result: f ? copy(f.result) : null, knobs: f ? copy(f.knobs) : null };
    });
  }
  actions(attempt: string): LogEntry[] {
    return copy(this.logs.get(attempt) ?? []);
  }
  lastSeq(room: string): number {
    return this.seqs.get(room) ?? 0;
  }
  results(workshop: string): ResultRow[] {
    const out: ResultRow[] = [];
    for (const room of this.rooms.values()) {
      if (room.workshop !== workshop) continue;
      for (const a of this.attemptsByRoom.get(room.code) ?? []) {
        const f = this.finished.get(a.id);
        if (f) out.push(resultRow(room, a, f.knobs, f.result, f.endedAt, f.players.map((p) => p.name)));
      }
    }
    return out.sort((x, y) => x.endedAt.localeCompare(y.endedAt) || x.attempt.localeCompare(y.attempt));
  }
  appendChat(c: ChatRecord): void {
    this.open();
    const list = this.chats.get(c.room) ?? [];
    if (list.some((x) => x.n === c.n)) throw new Error(`room ${c.room} already has chat ${c.n}`);
    list.push(copy(c));
    this.chats.set(c.room, list);
  }
  chat(room: string, opts: { attempt: string } | { limit: number }): ChatRecord[] {
    const list = this.chats.get(room) ?? [];
    return copy("attempt" in opts ? list.filter((c) => c.attempt === opts.attempt) : list.slice(Math.max(0, list.length - opts.limit)));
  }
  transaction<T>(fn: () => T): T {
    // Single-threaded and synchronous: nothing can interleave; undo is not needed
    // because every method validates before it writes.
    return fn();
  }
  close(): void {
    this.closed = true;
  }
}
