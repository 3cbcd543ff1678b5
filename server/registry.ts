// The registry: every room and workshop this server holds in memory, the resume
// tokens of their members, and the levels it offers. Rooms reach the server only
// through it (it is their RoomHost). It knows nothing of sockets: the hub (the
// connections' door) asks it for rooms and workshops and tells it who watches.

import { GameError } from "../src/game/session.js";
import { factsOf, replayLog } from "../src/game/replay.js";
import type { Level } from "../src/level/load.js";
import type { ServerMessage } from "../src/protocol/server.js";
import { hashToken, roomCode, secretToken, tokenMatches } from "./ids.js";
import type { ServerLog } from "./log.js";
import type { Limits, Timing } from "./options.js";
import type { Peer } from "./peer.js";
import { Room, type Member, type Player, type RoomHost, type Side } from "./room.js";
import type { SolverPool } from "./solver/pool.js";
import type { RoomRecord, Storage } from "./storage/port.js";
import { Workshop } from "./workshop.js";

export interface RegistryConfig {
  storage: Storage;
  levels: Level[];
  timing: Timing;
  limits: Limits;
  now: () => number;
  slog: ServerLog;
  solver: SolverPool;
  /** A member is gone for good: the door forgets which connection held it. */
  onGone: (member: Member) => void;
  /** One node of several (server/cluster): told of rooms, tokens and rosters; it brings rooms in itself. */
  cluster?: RegistryCluster;
}

/** What a node of several hears from the registry. */
export interface RegistryCluster {
  /** The room left this node's memory (its lease goes back). */
  roomGone(code: string): void;
  tokenIssued(m: Member, hash: string, old: string | null): void;
  tokenDropped(hash: string): void;
  /** Members, seats or the game changed (rosters and dashboard rows). */
  roomChanged(room: Room): void;
}

/** Where a cached replay's rid goes. */
const REPLAY_RID = '"rid":"\u0000",';

export class Registry implements RoomHost {
  readonly storage: Storage;
  readonly timing: Timing;
  readonly solver: SolverPool;
  readonly levels: Level[];
  readonly rooms = new Map<string, Room>();
  readonly workshops = new Map<string, Workshop>();
  /** sha256(resume token) -> member. A token is private to its member and replaced on every join and resume. */
  private readonly tokens = new Map<string, Member>();
  private readonly tokenOf = new Map<Member, string>();
  private readonly levelsById: Map<string, Level>;
  /** Rooms in memory by the limit key of the address that created them. */
  private readonly roomKey = new Map<string, string>();
  private readonly roomsByKey = new Map<string, number>();
  /** Finished attempts' replay messages (attempt id -> JSON with a rid placeholder), least recently used first. */
  private readonly replays = new Map<string, string>();
  private replayBytes = 0;

  constructor(private readonly cfg: RegistryConfig) {
    this.storage = cfg.storage;
    this.timing = cfg.timing;
    this.solver = cfg.solver;
    this.levels = cfg.levels;
    this.levelsById = new Map(cfg.levels.map((l) => [l.id, l]));
  }

  // ------------------------------------------------------------------ RoomHost

  now(): number {
    return this.cfg.now();
  }
  log(line: string): void {
    // Rooms' own lines (a bot move refused, a room that does not restore): one per kind a minute.
    this.cfg.slog.limited("warn", "room", line, {}, `room|${line.replace(/\b[A-Z0-9]{6}\b/g, "").slice(0, 60)}`);
  }
  level(id: string): Level | null {
    return this.levelsById.get(id) ?? null;
  }
  nextLevel(id: string): string | null {
    const i = this.levels.findIndex((l) => l.id === id);
    if (i < 0) return null;
    // The campaign leads on to the campaign; a custom level to the next custom level.
    const custom = this.levels[i].source !== undefined;
    return this.levels.slice(i + 1).find((l) => (l.source !== undefined) === custom)?.id ?? null;
  }
  changed(room: Room): void {
    if (room.workshop) this.workshops.get(room.workshop)?.changed();
    this.cfg.cluster?.roomChanged(room);
  }
  gone(member: Member): void {
    const h = this.tokenOf.get(member);
    if (h) {
      this.tokens.delete(h);
      this.cfg.cluster?.tokenDropped(h);
    }
    this.tokenOf.delete(member);
    this.cfg.onGone(member);
  }
  idle(room: Room): void {
    if (this.rooms.get(room.code) !== room || !room.empty) return;
    const w = room.workshop ? this.workshops.get(room.workshop) : undefined;
    // A workshop room stays while its dashboard is watched (watching one rebuilds them all).
    if (w && w.watchers.size > 0) return;
    this.evict(room);
    this.cfg.cluster?.roomGone(room.code);
  }

  /** The room leaves this server's memory now (idle, or another node runs it now). */
  evict(room: Room): void {
    if (this.rooms.get(room.code) !== room) return;
    // Members still here (the room moved to another node): their connections hold them no more,
    // and their tokens are forgotten here (not in Redis: the node that runs the room resumes them).
    for (const m of [...room.members.values(), ...room.watchers.values()]) {
      const h = this.tokenOf.get(m);
      if (h) this.tokens.delete(h);
      this.tokenOf.delete(m);
      this.cfg.onGone(m);
    }
    room.dispose();
    this.rooms.delete(room.code);
    this.storage.forget?.(room.code);
    const key = this.roomKey.get(room.code);
    if (key !== undefined) {
      this.roomKey.delete(room.code);
      const n = (this.roomsByKey.get(key) ?? 1) - 1;
      if (n <= 0) this.roomsByKey.delete(key);
      else this.roomsByKey.set(key, n);
    }
    const w = room.workshop ? this.workshops.get(room.workshop) : undefined;
    if (w) {
      w.rooms.delete(room.code);
      if (w.rooms.size === 0 && w.watchers.size === 0) this.dropWorkshop(w);
    }
  }

  // ------------------------------------------------------------------ rooms

  /** Rooms in memory that the address behind this limit key created. */
  roomsFrom(key: string): number {
    return this.roomsByKey.get(key) ?? 0;
  }

  /** A room by code: in memory, or rebuilt from storage. */
  room(code: string): Room | null {
    const live = this.rooms.get(code);
    if (live) return live;
    const rec = this.storage.getRoom(code);
    if (!rec) return null;
    this.makeRoom();
    const room = Room.restore(this, rec);
    if (!room) return null;
    this.rooms.set(code, room);
    if (rec.workshop) {
      const w = this.workshop(rec.workshop);
      if (w) {
        room.paused = w.paused;
        w.rooms.set(code, room);
      }
    }
    return room;
  }

  /**
   * Refused (server-full) when the address behind `key`, or the server, holds as many rooms as
   * it may; empty rooms leave memory first to make space. Returns the address's rooms.
   */
  roomSpace(key: string): number {
    const mine = this.roomsFrom(key);
    if (mine >= this.cfg.limits.maxRoomsPerAddress) throw new GameError("server-full", `your address has ${mine} rooms open, the most one address may: join one of them, or wait until some empty`);
    this.makeRoom();
    if (this.rooms.size >= this.cfg.limits.maxRooms) throw new GameError("server-full", "this server has as many rooms as it will hold");
    return mine;
  }

  /** A new room, created from the address behind `key` (roomSpace's limits apply). */
  createRoom(key: string, rec: Omit<RoomRecord, "code" | "createdAt">, level: Level, w: Workshop | null, free?: string): Room {
    const mine = this.roomSpace(key);
    // `free`: a code an asynchronous store checked (its rooms are not all in memory).
    let code = free ?? roomCode();
    for (let i = 0; i < 20 && (this.rooms.has(code) || this.storage.getRoom(code)); i++) code = roomCode();
    const room = Room.create(this, { ...rec, code, createdAt: this.now() }, level);
    this.rooms.set(code, room);
    this.roomKey.set(code, key);
    this.roomsByKey.set(key, mine + 1);
    if (w) {
      room.setPaused(w.paused);
      w.rooms.set(code, room);
      w.changed();
    }
    return room;
  }

  /** At the room cap: empty rooms leave memory at once, oldest first (they are rebuilt from storage on demand). */
  private makeRoom(): void {
    if (this.rooms.size < this.cfg.limits.maxRooms) return;
    for (const r of this.rooms.values()) {
      if (r.empty) this.idle(r);
      if (this.rooms.size < this.cfg.limits.maxRooms) return;
    }
  }

  // ------------------------------------------------------------------ resume tokens

  /** A fresh resume token for the member; its previous one stops working. */
  issueToken(m: Member): string {
    const old = this.tokenOf.get(m);
    if (old) this.tokens.delete(old);
    const token = secretToken();
    const h = hashToken(token);
    this.tokens.set(h, m);
    this.tokenOf.set(m, h);
    this.cfg.cluster?.tokenIssued(m, h, old ?? null);
    return token;
  }

  /** Whether this node knows the token (by its hash). */
  hasToken(hash: string): boolean {
    return this.tokens.has(hash);
  }

  /** A token issued on another node, for a member of a room rebuilt here (server/cluster). */
  adoptToken(hash: string, m: Member): void {
    const old = this.tokenOf.get(m);
    if (old) this.tokens.delete(old);
    this.tokens.set(hash, m);
    this.tokenOf.set(m, hash);
  }

  /**
   * A room rebuilt here from its log gets its members and seats back from its roster (kept in
   * Redis by the node that ran it): each waits, disconnected, for the grace period to resume.
   */
  adoptRoster(room: Room, roster: { members: Player[]; watchers?: Player[]; seats: (string | null)[]; sides: (Side | null)[] }): void {
    const add = (p: Player, watch: boolean) => {
      if (room.members.has(p.id) || room.watchers.has(p.id)) return;
      const m: Member = { player: { id: p.id, name: p.name }, watch, peer: null, room, grace: null };
      (watch ? room.watchers : room.members).set(p.id, m);
      room.disconnect(m);
    };
    for (const p of roster.members) add(p, false);
    for (const p of roster.watchers ?? []) add(p, true);
    room.seats = room.seats.map((h, i) => (h === null && roster.seats[i] && room.members.has(roster.seats[i]!) ? roster.seats[i] : h));
    room.sides = room.sides.map((s, i) => (room.seats[i] !== null ? (roster.sides[i] ?? s) : s));
  }

  /** The member a resume token belongs to, while that member is still in its room. */
  memberByToken(token: string): Member | null {
    const m = this.tokens.get(hashToken(token));
    return m && m.room.has(m) ? m : null;
  }

  // ------------------------------------------------------------------ workshops

  workshop(id: string): Workshop | null {
    const live = this.workshops.get(id);
    if (live) return live;
    const rec = this.storage.getWorkshop(id);
    if (!rec) return null;
    const w = new Workshop(rec, this.timing);
    this.workshops.set(id, w);
    return w;
  }

  /** The workshop, if the token is its instructor's. */
  instructor(id: string, token: string): Workshop {
    const w = this.workshop(id);
    if (!w) throw new GameError("no-such-workshop", `no workshop ${id}`);
    if (!tokenMatches(token, w.rec.tokenHash)) throw new GameError("forbidden", "that is not this workshop's instructor token");
    return w;
  }

  /** Every room of the workshop in memory (a dashboard or an instructor's command reaches them all). */
  loadWorkshopRooms(w: Workshop): void {
    // A node of several runs only the rooms whose lease it took (the cluster brings those in).
    if (this.cfg.cluster) return;
    for (const code of this.storage.workshopRooms(w.id)) if (!w.rooms.has(code)) this.room(code);
  }

  watch(w: Workshop, peer: Peer): void {
    this.loadWorkshopRooms(w);
    w.watchers.add(peer);
  }

  /** The peer stops watching; a workshop nobody watches, with no room in memory, leaves memory. */
  unwatch(w: Workshop, peer: Peer): void {
    w.watchers.delete(peer);
    if (w.watchers.size > 0) return;
    // Its empty rooms may leave now too (they stayed for the dashboard).
    for (const r of [...w.rooms.values()]) if (r.empty) this.idle(r);
    if (w.rooms.size === 0 && this.workshops.get(w.id) === w) this.dropWorkshop(w);
  }

  private dropWorkshop(w: Workshop): void {
    w.dispose();
    this.workshops.delete(w.id);
  }

  // ------------------------------------------------------------------ replays

  /**
   * A finished attempt's replay message, with `rid`. A finished attempt is immutable, so its log
   * is run through the simulator once and then served from a bounded cache.
   */
  replayOf(room: Room, wanted: string | undefined, rid: number | undefined): string {
    const ridText = rid !== undefined ? `"rid":${rid},` : "";
    const cached = wanted !== undefined ? this.replays.get(wanted) : undefined;
    if (cached) {
      // Most recently used last.
      this.replays.delete(wanted!);
      this.replays.set(wanted!, cached);
      return cached.replace(REPLAY_RID, ridText);
    }
    const attempts = this.storage.attempts(room.code);
    const a = wanted !== undefined ? attempts.find((x) => x.id === wanted) : [...attempts].reverse().find((x) => x.result !== null);
    if (!a) throw new GameError("no-such-attempt", wanted !== undefined ? `room ${room.code} has no attempt ${wanted}` : "no attempt in this room has finished yet");
    if (a.result === null) throw new GameError("no-such-attempt", `attempt ${a.id} did not finish: only finished attempts (and the one in play) are replayed`);
    // A sandbox room's scenario is in no list of levels: its attempts play the room's own.
    const level = a.level === room.level.id ? room.level : this.level(a.level);
    if (!level) throw new GameError("no-such-level", `level ${a.level} is no longer in the campaign`);
    // The log is the record: run it through the simulator again, once.
    const r = replayLog(level, this.storage.actions(a.id), { versus: room.versusOn(level), facts: factsOf(a.result) });
    // What the room said during it comes along (an earlier attempt's chat no longer changes).
    const chat = room.chatOf(a.id);
    const text = JSON.stringify({ type: "replay", rid: 0, attempt: a.id, level: level.id, knobs: r.s.knobs, trace: r.s.trace, result: r.s.result, chat } satisfies ServerMessage).replace('"rid":0,', REPLAY_RID);
    this.replays.set(a.id, text);
    this.replayBytes += text.length;
    for (const [k, v] of this.replays) {
      if (this.replayBytes <= this.cfg.limits.replayCacheBytes || this.replays.size <= 1) break;
      this.replays.delete(k);
      this.replayBytes -= v.length;
    }
    return text.replace(REPLAY_RID, ridText);
  }

  dispose(): void {
    for (const r of this.rooms.values()) r.dispose();
    for (const w of this.workshops.values()) w.dispose();
  }
}
