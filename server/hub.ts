// The hub: every connection's front door. It rate-limits and validates each
// frame before anything else sees it, keeps the room and workshop registries
// and the resume tokens, and turns refusals into typed errors. It knows sockets
// only as SocketLike (the transport wraps ws).

import { createHash } from "node:crypto";
import type { z } from "zod";
import { GameError, type Command } from "../src/game/session.js";
import { replayLog } from "../src/game/replay.js";
import { levelInfo } from "../src/game/view.js";
import type { Level } from "../src/level/load.js";
import { CLIENT_TYPES, clientMessage, GAME_ACTIONS, type ClientMessage, type ClientMessageOf } from "../src/protocol/client.js";
import { CloseCode, type ErrorCode } from "../src/protocol/codes.js";
import type { ServerMessage } from "../src/protocol/server.js";
import { negotiate, SERVER_VERSION, SUPPORTED_PROTOCOLS } from "../src/protocol/version.js";
import { hashToken, publicId, roomCode, secretToken, tokenMatches, workshopId } from "./ids.js";
import type { Limits, Timing } from "./options.js";
import { Peer, type SocketLike } from "./peer.js";
import { limitKey } from "./address.js";
import { KeyedLimiter, TokenBucket } from "./ratelimit.js";
import { Room, type Member, type Player, type RoomCommand, type RoomHost } from "./room.js";
import type { SolverPool } from "./solver/pool.js";
import type { Storage } from "./storage/port.js";
import { Workshop } from "./workshop.js";
import type { ServerLog } from "./log.js";

export interface Conn {
  readonly peer: Peer;
  /** The client's address (the TCP peer's, or a trusted proxy's X-Forwarded-For). */
  readonly ip: string;
  /** What the per-address limits count under (the address; an IPv6 address's /64). */
  readonly key: string;
  readonly bucket: TokenBucket;
  /** Failed code lookups this connection may still make. */
  lookupFailures: number;
  strikes: number;
  player: Player | null;
  member: Member | null;
  watching: Workshop | null;
  helloTimer: NodeJS.Timeout | null;
  /** Replays this connection may ask for (created at its first). */
  replays?: TokenBucket;
  /** After hello: closes the connection (4012) once it has sent nothing for idleMs while in no room and watching nothing. */
  idleTimer: NodeJS.Timeout | null;
}

export interface HubConfig {
  storage: Storage;
  levels: Level[];
  timing: Timing;
  limits: Limits;
  now: () => number;
  log: (line: string) => void;
  /** Structured, rate-limited lines (the same sink as `log`). */
  slog: ServerLog;
  /** Where level settings are solved (worker threads); one per server. */
  solver: SolverPool;
}

const GAME_COMMAND_TYPES = new Set<string>(GAME_ACTIONS);

export class Hub implements RoomHost {
  readonly storage: Storage;
  readonly timing: Timing;
  readonly limits: Limits;
  readonly solver: SolverPool;
  readonly rooms = new Map<string, Room>();
  readonly workshops = new Map<string, Workshop>();
  readonly conns = new Set<Conn>();
  /** sha256(resume token) -> member. A token is private to its member and replaced on every join and resume. */
  private readonly tokens = new Map<string, Member>();
  private readonly tokenOf = new Map<Member, string>();
  private readonly admissions: KeyedLimiter;
  private readonly lookupFailures: KeyedLimiter;
  private readonly creations: KeyedLimiter;
  private readonly levelsById: Map<string, Level>;
  private closing = false;
  /** Per limit key: connections open, and how many of them have not said hello. */
  private readonly byKey = new Map<string, { conns: number; pending: number }>();
  /** Finished attempts' replay messages (attempt id -> JSON with a rid placeholder), least recently used first. */
  private readonly replays = new Map<string, string>();
  /** Rooms in memory by the limit key of the address that created them. */
  private readonly roomKey = new Map<string, string>();
  private readonly roomsByKey = new Map<string, number>();
  private replayBytes = 0;
  readonly slog: ServerLog;

  constructor(private readonly cfg: HubConfig) {
    this.storage = cfg.storage;
    this.timing = cfg.timing;
    this.limits = cfg.limits;
    this.solver = cfg.solver;
    this.slog = cfg.slog;
    this.admissions = new KeyedLimiter(cfg.limits.admissionsPerMinute / 60, cfg.limits.admissionBurst);
    this.lookupFailures = new KeyedLimiter(cfg.limits.lookupFailuresPerMinute / 60, cfg.limits.lookupFailureBurst);
    this.creations = new KeyedLimiter(cfg.limits.roomsPerMinute / 60, cfg.limits.roomBurst);
    this.levelsById = new Map(cfg.levels.map((l) => [l.id, l]));
  }

  private identityCache: { version: string; levels: string } | null = null;

  /** What this server is: its version and a digest of the levels it offers (welcome.server). */
  private identity(): { version: string; levels: string } {
    return (this.identityCache ??= {
      version: SERVER_VERSION,
      levels: createHash("sha256").update(JSON.stringify(this.cfg.levels.map(levelInfo))).digest("hex").slice(0, 16),
    });
  }

  // ------------------------------------------------------------------ RoomHost

  now(): number {
    return this.cfg.now();
  }
  log(line: string): void {
    // Rooms' own lines (a bot move refused, a room that does not restore): one per kind a minute.
    this.slog.limited("warn", "room", line, {}, `room|${line.replace(/\b[A-Z0-9]{6}\b/g, "").slice(0, 60)}`);
  }

  /** Connections open from this limit key. */
  connectionsFrom(key: string): number {
    return this.byKey.get(key)?.conns ?? 0;
  }

  /** Connections from this limit key that have not said hello. */
  pendingFrom(key: string): number {
    return this.byKey.get(key)?.pending ?? 0;
  }

  private count(key: string, conns: number, pending: number): void {
    const c = this.byKey.get(key) ?? { conns: 0, pending: 0 };
    c.conns += conns;
    c.pending += pending;
    if (c.conns <= 0) this.byKey.delete(key);
    else this.byKey.set(key, c);
  }
  level(id: string): Level | null {
    return this.levelsById.get(id) ?? null;
  }
  nextLevel(id: string): string | null {
    const i = this.cfg.levels.findIndex((l) => l.id === id);
    if (i < 0) return null;
    // The campaign leads on to the campaign; a custom level to the next custom level.
    const custom = this.cfg.levels[i].source !== undefined;
    return this.cfg.levels.slice(i + 1).find((l) => (l.source !== undefined) === custom)?.id ?? null;
  }
  changed(room: Room): void {
    if (room.workshop) this.workshops.get(room.workshop)?.changed();
  }
  gone(member: Member): void {
    const h = this.tokenOf.get(member);
    if (h) this.tokens.delete(h);
    this.tokenOf.delete(member);
    for (const c of this.conns) if (c.member === member) c.member = null;
  }
  idle(room: Room): void {
    if (this.rooms.get(room.code) !== room || room.members.size > 0) return;
    const w = room.workshop ? this.workshops.get(room.workshop) : undefined;
    // A workshop room stays while its dashboard is watched (watching one rebuilds them all).
    if (w && w.watchers.size > 0) return;
    room.dispose();
    this.rooms.delete(room.code);
    const key = this.roomKey.get(room.code);
    if (key !== undefined) {
      this.roomKey.delete(room.code);
      const n = (this.roomsByKey.get(key) ?? 1) - 1;
      if (n <= 0) this.roomsByKey.delete(key);
      else this.roomsByKey.set(key, n);
    }
    if (w) {
      w.rooms.delete(room.code);
      if (w.rooms.size === 0 && w.watchers.size === 0) {
        w.dispose();
        this.workshops.delete(w.id);
      }
    }
  }

  /** The connection stops watching its workshop; a workshop nobody watches, with no room in memory, leaves memory. */
  private unwatch(conn: Conn): void {
    const w = conn.watching;
    conn.watching = null;
    if (!w) return;
    w.watchers.delete(conn.peer);
    if (w.watchers.size > 0) return;
    // Its empty rooms may leave now too (they stayed for the dashboard).
    for (const r of [...w.rooms.values()]) if (r.members.size === 0) this.idle(r);
    if (w.rooms.size === 0 && this.workshops.get(w.id) === w) {
      w.dispose();
      this.workshops.delete(w.id);
    }
  }

  /** At the room cap: empty rooms leave memory at once, oldest first (they are rebuilt from storage on demand). */
  private makeRoom(): void {
    if (this.rooms.size < this.limits.maxRooms) return;
    for (const r of this.rooms.values()) {
      if (r.members.size === 0) this.idle(r);
      if (this.rooms.size < this.limits.maxRooms) return;
    }
  }

  // ------------------------------------------------------------------ connections

  connect(ws: SocketLike, ip: string): Conn {
    const conn: Conn = {
      peer: new Peer(ws, { softBytes: this.limits.softBufferBytes, hardBytes: this.limits.hardBufferBytes, dropAfterMs: this.timing.closeMs }, (stream) =>
        stream === "room" ? (conn.member?.room.stateMessage() ?? null) : (conn.watching?.dashboardMessage() ?? null),
      ),
      ip,
      key: limitKey(ip),
      bucket: new TokenBucket(this.limits.messagesPerSecond, this.limits.messageBurst, this.now()),
      lookupFailures: this.limits.connectionLookupFailures,
      strikes: 0,
      player: null,
      member: null,
      watching: null,
      helloTimer: null,
      idleTimer: null,
    };
    conn.helloTimer = setTimeout(() => conn.peer.close(CloseCode.WITH_ERROR, "no hello"), this.timing.helloTimeoutMs);
    conn.helloTimer.unref();
    this.conns.add(conn);
    this.count(conn.key, 1, 1);
    return conn;
  }

  /** One incoming frame. Never throws: anything unexpected becomes an `internal` error reply. */
  message(conn: Conn, data: string | null): void {
    if (!conn.bucket.take(this.now())) {
      conn.strikes++;
      if (conn.strikes >= this.limits.rateStrikes) conn.peer.close(CloseCode.RATE_LIMITED, "too many messages");
      // The refusal still echoes the frame's rid, so a client matching replies by rid is answered.
      else this.error(conn, ridOf(data), "rate-limited", `over ${this.limits.messagesPerSecond} messages a second: slow down`);
      return;
    }
    conn.strikes = 0;
    conn.idleTimer?.refresh();
    let rid: number | undefined;
    let type = "(unparsed)";
    try {
      const parsed = parseFrame(data);
      if (!parsed.ok) return this.error(conn, parsed.rid, parsed.code, parsed.message);
      const msg = parsed.msg;
      rid = "rid" in msg ? msg.rid : undefined;
      type = msg.type;
      this.dispatch(conn, msg);
    } catch (e) {
      if (e instanceof GameError) {
        const room = conn.member?.room;
        return this.error(conn, rid, e.code, e.message, e.code === "stale-seq" && room ? room.seq : undefined);
      }
      // Rooms change state only after every check and the durable write, so nothing half-happened.
      // One line per kind of failure a minute, with where it came from, not a stack per frame.
      const message = e instanceof Error ? e.message : String(e);
      const where = e instanceof Error ? (e.stack ?? "").split("\n").slice(1, 3).map((l) => l.trim()).join(" < ") : "";
      this.slog.limited("error", "internal", `${type}: ${message}${where ? ` at ${where}` : ""}`, { room: conn.member?.room.code }, `internal|${type}|${message.slice(0, 80)}`);
      this.error(conn, rid, "internal", "the server failed to handle this message; nothing changed");
    }
  }

  closed(conn: Conn, code: number): void {
    if (!this.conns.delete(conn)) return;
    this.count(conn.key, -1, conn.idleTimer ? 0 : -1);
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    this.unwatch(conn);
    const m = conn.member;
    conn.member = null;
    if (this.closing || !m || m.peer !== conn.peer) return;
    // 4000 means the player chose to go; anything else may be a network blip.
    if (code === CloseCode.CONSENTED) m.room.leave(m);
    else m.room.disconnect(m);
  }

  /** Close every connection (4001) and stop every timer. */
  shutdown(): void {
    this.closing = true;
    for (const c of this.conns) {
      if (c.helloTimer) clearTimeout(c.helloTimer);
      if (c.idleTimer) clearTimeout(c.idleTimer);
      c.peer.close(CloseCode.SERVER_SHUTDOWN, "server shutting down");
    }
    for (const r of this.rooms.values()) r.dispose();
    for (const w of this.workshops.values()) w.dispose();
  }

  private send(conn: Conn, msg: ServerMessage): void {
    conn.peer.send(JSON.stringify(msg));
  }

  private error(conn: Conn, rid: number | undefined, code: ErrorCode, message: string, seq?: number): void {
    this.send(conn, { type: "error", ...(rid !== undefined ? { rid } : {}), code, message, ...(seq !== undefined ? { seq } : {}) });
  }

  private ack(conn: Conn, rid: number | undefined, seq?: number): void {
    this.send(conn, { type: "ack", ...(rid !== undefined ? { rid } : {}), ...(seq !== undefined ? { seq } : {}) });
  }

  // ------------------------------------------------------------------ dispatch

  private dispatch(conn: Conn, msg: ClientMessage): void {
    if (msg.type === "ping") return this.send(conn, { type: "pong", ...(msg.t !== undefined ? { t: msg.t } : {}), now: this.now() });
    if (msg.type === "hello") return this.hello(conn, msg);
    const player = conn.player;
    if (!player) throw new GameError("hello-first", "say hello first: {type: hello, protocol: [1], name}");
    const rid = msg.rid;
    if (GAME_COMMAND_TYPES.has(msg.type)) return this.game(conn, msg as GameMessage);
    switch (msg.type) {
      case "create":
        return this.create(conn, player, msg);
      case "join": {
        this.notInRoom(conn);
        this.admit(conn);
        this.lookupAllowed(conn);
        const room = this.room(msg.room);
        if (!room) throw this.lookupFailed(conn, new GameError("no-such-room", `no room ${msg.room}`));
        return this.enter(conn, player, room, rid);
      }
      case "leave": {
        const m = this.memberOf(conn);
        conn.member = null;
        m.room.leave(m);
        return this.ack(conn, rid);
      }
      case "claim": {
        const m = this.memberOf(conn);
        return m.room.claim(m, msg.cpu, msg.side, () => this.ack(conn, rid));
      }
      case "release": {
        const m = this.memberOf(conn);
        return m.room.release(m, msg.cpu, () => this.ack(conn, rid));
      }
      case "replay":
        return this.replay(conn, msg);
      case "createWorkshop": {
        this.admit(conn);
        this.creation(conn);
        let id = workshopId();
        for (let i = 0; i < 10 && this.workshop(id); i++) id = workshopId();
        // An instructor's own list of levels (campaign or custom): the workshop's rooms play only these.
        const unknown = msg.levels?.find((l) => !this.level(l));
        if (unknown !== undefined) throw new GameError("no-such-level", `no level ${unknown} (see the welcome message's levels)`);
        const levels = msg.levels ? [...new Set(msg.levels)] : null;
        const token = secretToken();
        const rec = { id, title: msg.title, tokenHash: hashToken(token), createdAt: this.now(), paused: false, levels };
        this.storage.createWorkshop(rec);
        // Not kept in memory until someone watches it or creates a room in it (workshop() loads it):
        // a flood of createWorkshop costs rows, bounded by the creation rate, not memory.
        return this.send(conn, { type: "workshop", ...(rid !== undefined ? { rid } : {}), workshop: { id, title: msg.title, ...(levels ? { levels } : {}) }, token });
      }
      case "watchWorkshop": {
        const w = this.instructor(msg.workshop, msg.token);
        this.loadWorkshopRooms(w);
        if (conn.watching !== w) this.unwatch(conn);
        conn.watching = w;
        w.watchers.add(conn.peer);
        this.ack(conn, rid);
        return conn.peer.send(w.dashboardMessage());
      }
      case "pauseWorkshop":
      case "resumeWorkshop": {
        const w = this.instructor(msg.workshop, msg.token);
        const paused = msg.type === "pauseWorkshop";
        this.storage.setWorkshopPaused(w.id, paused);
        w.paused = paused;
        this.loadWorkshopRooms(w);
        for (const r of w.rooms.values()) r.setPaused(paused);
        w.changed();
        return this.ack(conn, rid);
      }
      case "announce": {
        const w = this.instructor(msg.workshop, msg.token);
        for (const r of w.rooms.values()) r.sendAll({ type: "notice", from: "instructor", text: msg.text });
        return this.ack(conn, rid);
      }
      case "releaseHint": {
        const w = this.instructor(msg.workshop, msg.token);
        this.loadWorkshopRooms(w);
        let targets = [...w.rooms.values()];
        if (msg.room !== undefined) {
          const r = w.rooms.get(msg.room);
          if (!r) throw new GameError("no-such-room", `workshop ${w.id} has no room ${msg.room}`);
          targets = [r];
        }
        for (const r of targets) {
          try {
            r.perform("instructor", { kind: "hint", free: true }, null);
          } catch (e) {
            // A room that is over or out of hints simply gets none.
            if (!(e instanceof GameError)) throw e;
          }
        }
        return this.ack(conn, rid);
      }
    }
  }

  private hello(conn: Conn, msg: ClientMessageOf<"hello">): void {
    if (conn.player) throw new GameError("already-hello", "this connection has already said hello");
    const version = negotiate(msg.protocol);
    if (version === null) {
      this.error(conn, undefined, "incompatible-protocol", `this server speaks protocol ${SUPPORTED_PROTOCOLS.join(", ")}; you offered ${msg.protocol.join(", ")}`);
      return conn.peer.close(CloseCode.INCOMPATIBLE_PROTOCOL, "incompatible protocol");
    }
    // Refused: the connection stays open, still before hello (its hello deadline still runs), the token unspent.
    this.admit(conn);
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    conn.helloTimer = null;
    this.armIdle(conn);
    const welcome = (player: Player, resumed: boolean): ServerMessage => ({
      type: "welcome",
      protocol: version,
      player,
      resumed,
      levels: this.cfg.levels.map(levelInfo),
      limits: { maxPayload: this.limits.maxPayload, messagesPerSecond: this.limits.messagesPerSecond, graceMs: this.timing.graceMs },
      server: this.identity(),
    });
    if (msg.resume === undefined) {
      // Nothing is written for a hello: a player is saved with the first attempt they finish
      // (a connection that only says hello leaves no row, and hello works while the disk is down).
      const player: Player = { id: publicId(), name: msg.name };
      conn.player = player;
      return this.send(conn, welcome(player, false));
    }
    const h = hashToken(msg.resume);
    const m = this.tokens.get(h);
    if (!m || !m.room.members.has(m.player.id)) {
      this.error(conn, undefined, "resume-failed", "that resume token is unknown, already used, or expired: join the room again by its code");
      return conn.peer.close(CloseCode.FAILED_TO_RECONNECT, "resume failed");
    }
    // The same player on a new connection (a network switch leaves the old one open): retire the old one.
    for (const c of this.conns) {
      if (c !== conn && c.member === m) {
        c.member = null;
        c.peer.close(CloseCode.SESSION_REPLACED, "resumed on another connection");
      }
    }
    conn.player = m.player;
    conn.member = m;
    this.send(conn, welcome(m.player, true));
    const token = this.issueToken(m);
    m.room.reconnect(m, conn.peer);
    this.send(conn, { type: "joined", you: { member: m.player.id, token }, state: m.room.snapshot() });
  }

  private create(conn: Conn, player: Player, msg: ClientMessageOf<"create">): void {
    this.notInRoom(conn);
    this.admit(conn);
    const level = this.level(msg.level);
    if (!level) throw new GameError("no-such-level", `no level ${msg.level} (see the welcome message's levels)`);
    let w: Workshop | null = null;
    if (msg.workshop !== undefined) {
      this.lookupAllowed(conn);
      w = this.workshop(msg.workshop);
      if (!w) throw this.lookupFailed(conn, new GameError("no-such-workshop", `no workshop ${msg.workshop}`));
      const only = w.rec.levels;
      if (only && !only.includes(level.id)) throw new GameError("no-such-level", `workshop ${w.id} plays only ${only.join(", ")}`);
    }
    const mine = this.roomsByKey.get(conn.key) ?? 0;
    if (mine >= this.limits.maxRoomsPerAddress) throw new GameError("server-full", `your address has ${mine} rooms open, the most one address may: join one of them, or wait until some empty`);
    this.makeRoom();
    if (this.rooms.size >= this.limits.maxRooms) throw new GameError("server-full", "this server has as many rooms as it will hold");
    this.creation(conn);
    let code = roomCode();
    for (let i = 0; i < 20 && (this.rooms.has(code) || this.storage.getRoom(code)); i++) code = roomCode();
    const room = Room.create(this, {
      code,
      level: level.id,
      // No choice: every level the room plays gets its own default bots (Room.policy).
      policy: msg.policy ?? "level",
      // A versus level makes a versus room whatever the request says (its CPUs play for fixed sides).
      versus: msg.versus === true || level.mode === "versus",
      workshop: w?.id ?? null,
      team: msg.team ?? (w ? player.name : null),
      createdAt: this.now(),
    }, level);
    this.rooms.set(code, room);
    this.roomKey.set(code, conn.key);
    this.roomsByKey.set(conn.key, mine + 1);
    if (w) {
      room.setPaused(w.paused);
      w.rooms.set(code, room);
      w.changed();
    }
    this.enter(conn, player, room, msg.rid);
  }

  private enter(conn: Conn, player: Player, room: Room, rid: number | undefined): void {
    if (room.members.size >= this.limits.maxMembersPerRoom) throw new GameError("room-full", `room ${room.code} is full`);
    const m = room.join(player, conn.peer);
    conn.member = m;
    const token = this.issueToken(m);
    this.send(conn, { type: "joined", ...(rid !== undefined ? { rid } : {}), you: { member: player.id, token }, state: room.snapshot() });
  }

  private game(conn: Conn, msg: GameMessage): void {
    const m = this.memberOf(conn);
    const cmd = commandOf(msg);
    m.room.authorize(m, cmd);
    m.room.perform(m.player, cmd, msg.seq, (seq) => this.ack(conn, msg.rid, seq));
  }

  /**
   * A replay costs what a step costs: the room's current attempt is served from memory (as the
   * room already shows it); an earlier one is finished, and immutable, so it is run through the
   * simulator once and then served from a bounded cache. Each connection has its own budget.
   */
  private replay(conn: Conn, msg: ClientMessageOf<"replay">): void {
    const m = this.memberOf(conn);
    const room = m.room;
    conn.replays ??= new TokenBucket(this.limits.replaysPerMinute / 60, this.limits.replayBurst, this.now());
    if (!conn.replays.take(this.now())) throw new GameError("rate-limited", `over ${this.limits.replaysPerMinute} replays a minute: wait a little`);
    const rid = msg.rid !== undefined ? { rid: msg.rid } : {};
    const current = room.attempt;
    const wanted = msg.attempt ?? (current.session.result ? current.id : undefined);
    if (wanted === current.id) {
      const s = current.session;
      return this.send(conn, { type: "replay", ...rid, attempt: current.id, level: room.level.id, knobs: s.knobs, trace: s.trace, result: s.result });
    }
    const cached = wanted !== undefined ? this.replays.get(wanted) : undefined;
    if (cached) {
      // Most recently used last.
      this.replays.delete(wanted!);
      this.replays.set(wanted!, cached);
      return conn.peer.send(cached.replace(REPLAY_RID, msg.rid !== undefined ? `"rid":${msg.rid},` : ""));
    }
    const attempts = this.storage.attempts(room.code);
    const a = wanted !== undefined ? attempts.find((x) => x.id === wanted) : [...attempts].reverse().find((x) => x.result !== null);
    if (!a) throw new GameError("no-such-attempt", msg.attempt ? `room ${room.code} has no attempt ${msg.attempt}` : "no attempt in this room has finished yet");
    if (a.result === null) throw new GameError("no-such-attempt", `attempt ${a.id} did not finish: only finished attempts (and the one in play) are replayed`);
    const level = this.level(a.level);
    if (!level) throw new GameError("no-such-level", `level ${a.level} is no longer in the campaign`);
    // The log is the record: run it through the simulator again, once.
    const r = replayLog(level, this.storage.actions(a.id), { versus: room.versusOn(level) });
    const text = JSON.stringify({ type: "replay", rid: 0, attempt: a.id, level: level.id, knobs: r.s.knobs, trace: r.s.trace, result: r.s.result } satisfies ServerMessage).replace('"rid":0,', REPLAY_RID);
    this.replays.set(a.id, text);
    this.replayBytes += text.length;
    for (const [k, v] of this.replays) {
      if (this.replayBytes <= this.limits.replayCacheBytes || this.replays.size <= 1) break;
      this.replays.delete(k);
      this.replayBytes -= v.length;
    }
    conn.peer.send(text.replace(REPLAY_RID, msg.rid !== undefined ? `"rid":${msg.rid},` : ""));
  }

  // ------------------------------------------------------------------ helpers

  /** Said hello (or resumed): from now on the connection leaves the pre-hello budget, and idles out outside rooms. */
  private armIdle(conn: Conn): void {
    this.count(conn.key, 0, -1);
    const t = setTimeout(() => {
      if (!this.conns.has(conn)) return;
      // In a room (playing or watching) or at a dashboard is doing something, even in silence.
      if (conn.member || conn.watching) return void t.refresh();
      conn.peer.close(CloseCode.IDLE, "idle: nothing sent for a while");
    }, this.timing.idleMs);
    t.unref();
    conn.idleTimer = t;
  }

  private memberOf(conn: Conn): Member {
    if (!conn.member) throw new GameError("not-in-room", "join or create a room first");
    return conn.member;
  }

  private notInRoom(conn: Conn): void {
    if (conn.member) throw new GameError("already-in-room", `you are in room ${conn.member.room.code}: leave it first`);
  }

  /** One arrival (hello, create, join, createWorkshop) from this client's address. */
  private admit(conn: Conn): void {
    if (!this.admissions.take(conn.key, this.now())) throw new GameError("rate-limited", "too many connections arriving from your address: wait a little");
  }

  /** One room or workshop created from this client's address. */
  private creation(conn: Conn): void {
    if (!this.creations.take(conn.key, this.now())) throw new GameError("rate-limited", "too many rooms created from your address: wait a little, or join a room");
  }

  /**
   * Before looking a code up: refused while this connection or its address has no failed
   * lookups left, whether the code exists or not (the answer must not tell a guesser anything).
   */
  private lookupAllowed(conn: Conn): void {
    if (conn.lookupFailures <= 0) throw new GameError("rate-limited", "too many unknown codes on this connection: check the code, then reconnect");
    if (!this.lookupFailures.ready(conn.key, this.now())) throw new GameError("rate-limited", "too many unknown codes from your address: wait a little");
  }

  /** A code that named nothing: it counts against the connection and the address. */
  private lookupFailed(conn: Conn, e: GameError): GameError {
    conn.lookupFailures--;
    this.lookupFailures.take(conn.key, this.now());
    return e;
  }

  private issueToken(m: Member): string {
    const old = this.tokenOf.get(m);
    if (old) this.tokens.delete(old);
    const token = secretToken();
    const h = hashToken(token);
    this.tokens.set(h, m);
    this.tokenOf.set(m, h);
    return token;
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

  workshop(id: string): Workshop | null {
    const live = this.workshops.get(id);
    if (live) return live;
    const rec = this.storage.getWorkshop(id);
    if (!rec) return null;
    const w = new Workshop(rec, this.timing);
    this.workshops.set(id, w);
    return w;
  }

  private loadWorkshopRooms(w: Workshop): void {
    for (const code of this.storage.workshopRooms(w.id)) if (!w.rooms.has(code)) this.room(code);
  }

  private instructor(id: string, token: string): Workshop {
    const w = this.workshop(id);
    if (!w) throw new GameError("no-such-workshop", `no workshop ${id}`);
    if (!tokenMatches(token, w.rec.tokenHash)) throw new GameError("forbidden", "that is not this workshop's instructor token");
    return w;
  }
}

/** Where a cached replay's rid goes. */
const REPLAY_RID = '"rid":"\u0000",';

type GameMessage = ClientMessageOf<(typeof GAME_ACTIONS)[number]>;

function commandOf(msg: GameMessage): RoomCommand {
  switch (msg.type) {
    case "step":
    case "run":
      return msg.choice === undefined ? { kind: msg.type, actor: msg.cpu } : { kind: msg.type, actor: msg.cpu, choice: msg.choice };
    case "knob":
      return { kind: "knob", knob: msg.knob, value: msg.value };
    case "rewind":
      return { kind: "rewind", steps: msg.steps ?? 1 };
    case "start":
    case "hint":
    case "reset":
    case "retry":
    case "next":
      return { kind: msg.type } as Command | { kind: "retry" } | { kind: "next" };
  }
}

type Parsed = { ok: true; msg: ClientMessage } | { ok: false; code: ErrorCode; message: string; rid: number | undefined };

/** Frame -> validated message, or the typed error to answer with. Pure. */
export function parseFrame(data: string | null): Parsed {
  const fail = (code: ErrorCode, message: string, rid?: number): Parsed => ({ ok: false, code, message, rid });
  if (data === null) return fail("bad-frame", "binary frames are not part of the protocol: send JSON text");
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return fail("bad-frame", "not JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail("bad-frame", "a message is a JSON object with a type");
  const o = raw as Record<string, unknown>;
  // Echo a well-formed rid even on a bad message, so the client can match the error.
  const rid = wellFormedRid(o.rid);
  if (typeof o.type !== "string") return fail("bad-frame", "a message needs a string type", rid);
  if (!(CLIENT_TYPES as string[]).includes(o.type)) return fail("unknown-type", `unknown message type "${o.type.slice(0, 40)}"`, rid);
  const r = clientMessage.safeParse(raw);
  if (!r.success) return fail("bad-frame", describeIssues(r.error), rid);
  return { ok: true, msg: r.data };
}

function wellFormedRid(v: unknown): number | undefined {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 31 ? (v as number) : undefined;
}

/** The well-formed rid of a frame, or undefined: for replies sent without parsing the whole message (rate-limited). */
export function ridOf(data: string | null): number | undefined {
  if (data === null) return undefined;
  try {
    const raw: unknown = JSON.parse(data);
    return typeof raw === "object" && raw !== null && !Array.isArray(raw) ? wellFormedRid((raw as Record<string, unknown>).rid) : undefined;
  } catch {
    return undefined;
  }
}

function describeIssues(e: z.ZodError): string {
  const i = e.issues[0];
  const at = i.path.length ? i.path.map(String).join(".") : "(message)";
  const text = i.code === "unrecognized_keys" ? `unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.slice(0, 3).join(", ")}` : i.message;
  return `${o(at)}: ${text}`.slice(0, 200);
}

const o = (s: string) => s.slice(0, 60);
