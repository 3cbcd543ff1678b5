// The hub: every connection's front door. It rate-limits and validates each
// frame before anything else sees it, answers hello and resumes, admits players
// to rooms, and turns refusals into typed errors. Rooms, workshops and resume
// tokens live in the registry (registry.ts); the instructor's commands in
// workshop-commands.ts. It knows sockets only as SocketLike (the transport wraps ws).

import { createHash } from "node:crypto";
import { GameError } from "../src/game/session.js";
import { levelInfo } from "../src/game/view.js";
import type { Level } from "../src/level/load.js";
import { TALK_TYPES, type ClientMessage, type ClientMessageOf } from "../src/protocol/client.js";
import { CloseCode, type ErrorCode } from "../src/protocol/codes.js";
import type { LevelInfo, ServerMessage } from "../src/protocol/server.js";
import { negotiate, SERVER_VERSION, SUPPORTED_PROTOCOLS } from "../src/protocol/version.js";
import { limitKey } from "./address.js";
import { commandOf, isGameMessage, parseFrame, ridOf, type GameMessage } from "./frame.js";
import { publicId, roomCode } from "./ids.js";
import type { ServerLog } from "./log.js";
import type { Limits, Timing } from "./options.js";
import { Peer, type SocketLike } from "./peer.js";
import { KeyedLimiter, TokenBucket } from "./ratelimit.js";
import { Registry } from "./registry.js";
import type { Member, Player, Room } from "./room.js";
import type { SolverPool } from "./solver/pool.js";
import type { Cluster } from "./cluster/cluster.js";
import type { Outbox } from "./outbox.js";
import type { Need, Storage } from "./storage/port.js";
import type { Workshop } from "./workshop.js";
import { isWorkshopMessage, workshopCommand } from "./workshop-commands.js";
import { catalogueMessage, checkSaveId, isSandboxMessage, scenarioLevel, type SandboxMessage } from "./sandbox-commands.js";

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
  /** Chat, marks and plans this connection may send (created at its first). */
  talk?: TokenBucket;
  /** Sandbox requests this connection may make (created at its first). */
  sandbox?: TokenBucket;
  /** After hello: closes the connection (4012) once it has sent nothing for idleMs while in no room and watching nothing. */
  idleTimer: NodeJS.Timeout | null;
  /**
   * Frames that arrived while this connection waits on a load from an asynchronous store (or
   * another node): handled in order once it is done. Null while nothing waits.
   */
  backlog: (string | null)[] | null;
  /** A room code checked free in the store before a create (asynchronous stores). */
  freeCode?: string;
  /** A node of several: this client's room runs on another node, and its frames go there (cluster/cluster.ts). */
  relay?: import("./cluster/cluster.js").Relay | null;
  /** A node of several: this connection is a client of another node, relayed here (its door and relay id). */
  proxy?: { door: string; c: number };
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
  /** Where messages wait for an asynchronous store's commits (outbox.ts); none with a synchronous store. */
  outbox?: Outbox;
  /** One node of several (server/cluster): routes rooms that run elsewhere. */
  cluster?: Cluster;
}

export class Hub {
  readonly storage: Storage;
  readonly timing: Timing;
  readonly limits: Limits;
  readonly slog: ServerLog;
  readonly registry: Registry;
  readonly conns = new Set<Conn>();
  private readonly admissions: KeyedLimiter;
  private readonly lookupFailures: KeyedLimiter;
  private readonly creations: KeyedLimiter;
  private closing = false;
  private readonly cluster: Cluster | null;
  /** Per limit key: connections open, and how many of them have not said hello. */
  private readonly byKey = new Map<string, { conns: number; pending: number }>();

  constructor(private readonly cfg: HubConfig) {
    this.storage = cfg.storage;
    this.timing = cfg.timing;
    this.limits = cfg.limits;
    this.slog = cfg.slog;
    this.admissions = new KeyedLimiter(cfg.limits.admissionsPerMinute / 60, cfg.limits.admissionBurst);
    this.lookupFailures = new KeyedLimiter(cfg.limits.lookupFailuresPerMinute / 60, cfg.limits.lookupFailureBurst);
    this.creations = new KeyedLimiter(cfg.limits.roomsPerMinute / 60, cfg.limits.roomBurst);
    this.cluster = cfg.cluster ?? null;
    const cluster = this.cluster;
    this.registry = new Registry({
      ...(cluster ? { cluster } : {}),
      storage: cfg.storage,
      levels: cfg.levels,
      timing: cfg.timing,
      limits: cfg.limits,
      now: cfg.now,
      slog: cfg.slog,
      solver: cfg.solver,
      // A member gone for good: no connection holds it any more.
      onGone: (member) => {
        for (const c of this.conns) if (c.member === member) c.member = null;
      },
    });
  }

  private identityCache: { version: string; levels: string; infos: LevelInfo[] } | null = null;

  /** What this server is: its version and a digest of the levels it offers (welcome.server). */
  private identity(): { version: string; levels: string } {
    const { version, levels } = this.described();
    return { version, levels };
  }

  private levelInfos(): LevelInfo[] {
    return this.described().infos;
  }

  private described(): { version: string; levels: string; infos: LevelInfo[] } {
    if (this.identityCache) return this.identityCache;
    const infos = this.cfg.levels.map(levelInfo);
    return (this.identityCache = {
      version: SERVER_VERSION,
      levels: createHash("sha256").update(JSON.stringify(infos)).digest("hex").slice(0, 16),
      infos,
    });
  }

  now(): number {
    return this.cfg.now();
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

  /** The connection stops watching its workshop's dashboard. */
  private unwatch(conn: Conn): void {
    const w = conn.watching;
    conn.watching = null;
    if (w) this.registry.unwatch(w, conn.peer);
  }

  // ------------------------------------------------------------------ connections

  connect(ws: SocketLike, ip: string): Conn {
    const conn: Conn = {
      peer: new Peer(ws, { softBytes: this.limits.softBufferBytes, hardBytes: this.limits.hardBufferBytes, dropAfterMs: this.timing.closeMs }, (stream) =>
        conn.relay ? this.cluster!.resync(conn, stream) : stream === "room" ? (conn.member?.room.stateMessage() ?? null) : (conn.watching?.dashboardMessage() ?? null),
      this.cfg.outbox ?? null),
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
      backlog: null,
    };
    conn.helloTimer = setTimeout(() => conn.peer.close(CloseCode.WITH_ERROR, "no hello"), this.timing.helloTimeoutMs);
    conn.helloTimer.unref();
    this.conns.add(conn);
    this.count(conn.key, 1, 1);
    return conn;
  }

  /**
   * A client of another node whose room runs here (server/cluster): its door has rate-limited
   * and counted the connection, and says who the player is once it said hello.
   */
  connectProxy(peer: Peer, ip: string, player: Player | null): Conn {
    const conn: Conn = {
      peer,
      ip,
      key: limitKey(ip),
      bucket: new TokenBucket(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, this.now()),
      lookupFailures: this.limits.connectionLookupFailures,
      strikes: 0,
      player,
      member: null,
      watching: null,
      helloTimer: null,
      idleTimer: null,
      backlog: null,
      proxy: { door: "", c: 0 },
    };
    this.conns.add(conn);
    return conn;
  }

  /** The door learns who its relayed client is (it said hello to the room's node). */
  adoptPlayer(conn: Conn, player: Player): void {
    conn.player = player;
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    conn.helloTimer = null;
    if (!conn.idleTimer) this.armIdle(conn);
  }

  /** A frame handled on this node (a relayed client's, once it left the room elsewhere). */
  local(conn: Conn, data: string | null): void {
    if (conn.backlog) return void conn.backlog.push(data);
    this.handle(conn, data);
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
    // In arrival order: behind a frame that waits on the store, every later one waits too.
    if (conn.backlog) return void conn.backlog.push(data);
    // Its room runs on another node: the frame goes there.
    if (conn.relay) return this.cluster!.relayFrame(conn, data);
    this.handle(conn, data);
  }

  /** Parse and dispatch one frame, first loading what it reads if the store is asynchronous. */
  private handle(conn: Conn, data: string | null): void {
    const parsed = parseFrame(data);
    if (!parsed.ok) return this.error(conn, parsed.rid, parsed.code, parsed.message);
    const msg = parsed.msg;
    let waiting: Promise<boolean> | null = null;
    this.guarded(conn, msg, () => (waiting = this.prepare(conn, msg, data!)));
    if (!waiting) return this.finish(conn, msg);
    conn.backlog = [];
    (waiting as Promise<boolean>).then(
      (relayed) => {
        if (!this.conns.has(conn)) return;
        if (!relayed) this.finish(conn, msg);
        this.drain(conn);
      },
      (e: unknown) => {
        this.guarded(conn, msg, () => {
          throw e;
        });
        this.cluster?.frameDone(conn, msg.type);
        this.drain(conn);
      },
    );
  }

  private finish(conn: Conn, msg: ClientMessage): void {
    this.guarded(conn, msg, () => this.dispatch(conn, msg));
    this.cluster?.frameDone(conn, msg.type);
  }

  /** The frames that waited, in order, until one has to wait again (or they go to another node). */
  private drain(conn: Conn): void {
    const queued = conn.backlog ?? [];
    conn.backlog = null;
    while (queued.length > 0 && this.conns.has(conn)) {
      const next = queued.shift()!;
      if (conn.relay) this.cluster!.relayFrame(conn, next);
      else this.handle(conn, next);
      if (conn.backlog) {
        (conn.backlog as (string | null)[]).push(...queued);
        return;
      }
    }
  }

  /**
   * What an asynchronous store must load before this message reads it: a room not in memory,
   * a workshop and its rooms, an earlier attempt's log, a free room code. Null: nothing (and
   * always null with a synchronous store: SQLite and memory answer at once).
   */
  private prepare(conn: Conn, msg: ClientMessage, data: string): Promise<boolean> | null {
    const routed = this.cluster?.prepare(conn, msg, data) ?? null;
    if (routed) return routed.then(async (relayed) => relayed || ((await this.load(conn, msg)) ?? false));
    return this.load(conn, msg)?.then(() => false) ?? null;
  }

  private load(conn: Conn, msg: ClientMessage): Promise<void> | null {
    const load = this.storage.load;
    if (!load || !conn.player) return null;
    const reg = this.registry;
    const st = this.storage;
    const withRooms = async (id: string) => {
      // A node of several: the workshop's rooms run on whichever node holds each (free ones come here).
      if (this.cluster) return this.cluster.workshopRooms(id);
      if (!reg.workshops.has(id)) await load({ workshops: [id] });
      const missing = st.workshopRooms(id).filter((c) => !reg.rooms.has(c));
      if (missing.length) await load({ rooms: missing });
    };
    switch (msg.type) {
      case "join":
        return reg.rooms.has(msg.room) ? null : load({ rooms: [msg.room] });
      case "create": {
        if (this.cluster) {
          // The code (and its lease) was chosen in routing; the workshop may still need loading.
          return msg.workshop !== undefined && !reg.workshops.has(msg.workshop) ? load({ workshops: [msg.workshop] }) : null;
        }
        const codes = Array.from({ length: 4 }, roomCode).filter((c) => !reg.rooms.has(c));
        const need: Need = { rooms: codes, ...(msg.workshop !== undefined && !reg.workshops.has(msg.workshop) ? { workshops: [msg.workshop] } : {}) };
        return load(need).then(() => {
          conn.freeCode = codes.find((c) => st.getRoom(c) === null);
        });
      }
      case "watchWorkshop":
      case "pauseWorkshop":
      case "resumeWorkshop":
      case "releaseHint":
      case "announce":
      case "workshopChat":
      case "mute":
        return withRooms(msg.workshop);
      case "replay": {
        const room = conn.member?.room;
        if (!room) return null;
        const wanted = msg.attempt ?? [...st.attempts(room.code)].reverse().find((a) => a.result !== null)?.id;
        return wanted === undefined || wanted === room.attempt.id ? null : load({ attempts: [wanted] });
      }
      default:
        return null;
    }
  }

  /** Run `fn` for `msg`: a refusal becomes its typed error, anything else `internal`. */
  private guarded(conn: Conn, msg: ClientMessage, fn: () => void): void {
    const rid = "rid" in msg ? msg.rid : undefined;
    const type = msg.type;
    try {
      fn();
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
    if (conn.relay) this.cluster!.closed(conn, code);
    // A proxy was never counted here (its door counts its client).
    if (!conn.proxy) this.count(conn.key, -1, conn.idleTimer ? 0 : -1);
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

  /**
   * Close every connection and stop every timer: 4001 (rejoin once the server is back), or, for a
   * node of several, 1012 (service restart: resume now, another node takes the room).
   */
  shutdown(): void {
    this.closing = true;
    for (const c of this.conns) {
      if (c.helloTimer) clearTimeout(c.helloTimer);
      if (c.idleTimer) clearTimeout(c.idleTimer);
      if (this.cluster) c.peer.close(1012, "this node is stopping: resume on another");
      else c.peer.close(CloseCode.SERVER_SHUTDOWN, "server shutting down");
    }
    this.registry.dispose();
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
    if ((TALK_TYPES as readonly string[]).includes(msg.type)) this.talk(conn);
    if (isGameMessage(msg)) return this.game(conn, msg);
    if (isWorkshopMessage(msg)) {
      if (msg.type === "createWorkshop") {
        this.admit(conn);
        this.creation(conn);
      }
      return workshopCommand(this.registry, msg, {
        send: (m) => conn.peer.send(typeof m === "string" ? m : JSON.stringify(m)),
        ack: () => this.ack(conn, rid),
        watch: (w) => this.watch(conn, w),
      }, this.cluster ?? undefined);
    }
    if (isSandboxMessage(msg)) return this.sandbox(conn, player, msg);
    switch (msg.type) {
      case "create":
        return this.create(conn, player, msg);
      case "join": {
        this.notInRoom(conn);
        this.admit(conn);
        this.lookupAllowed(conn);
        const room = this.registry.room(msg.room);
        if (!room) throw this.lookupFailed(conn, new GameError("no-such-room", `no room ${msg.room}`));
        return this.enter(conn, player, room, rid, msg.watch === true);
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
      case "planStep": {
        const m = this.memberOf(conn);
        return void m.room.planStep(m, msg.seq, (seq) => this.ack(conn, rid, seq));
      }
      case "chat": {
        const m = this.memberOf(conn);
        return void m.room.chat(m, msg.text, () => this.ack(conn, rid));
      }
      case "mark": {
        const m = this.memberOf(conn);
        return m.room.mark(m, msg.cpu, { path: msg.path, pc: msg.pc }, msg.kind === "none" ? null : msg.kind, () => this.ack(conn, rid));
      }
      case "plan": {
        const m = this.memberOf(conn);
        const what = msg.schedule !== undefined ? { schedule: msg.schedule } : msg.record ? { record: true as const } : { drop: true as const };
        return m.room.propose(m, what, () => this.ack(conn, rid));
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
      levels: this.levelInfos(),
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
    const m = this.registry.memberByToken(msg.resume);
    if (!m) {
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
    const token = this.registry.issueToken(m);
    m.room.reconnect(m, conn.peer);
    this.send(conn, { type: "joined", you: { member: m.player.id, token, ...(m.watch ? { watch: true as const } : {}) }, state: m.room.snapshot() });
  }

  private create(conn: Conn, player: Player, msg: ClientMessageOf<"create">): void {
    this.notInRoom(conn);
    this.admit(conn);
    const level = this.registry.level(msg.level);
    if (!level) throw new GameError("no-such-level", `no level ${msg.level} (see the welcome message's levels)`);
    let w: Workshop | null = null;
    if (msg.workshop !== undefined) {
      this.lookupAllowed(conn);
      w = this.registry.workshop(msg.workshop);
      if (!w) throw this.lookupFailed(conn, new GameError("no-such-workshop", `no workshop ${msg.workshop}`));
      const only = w.rec.levels;
      if (only && !only.includes(level.id)) throw new GameError("no-such-level", `workshop ${w.id} plays only ${only.join(", ")}`);
    }
    // Checked before the creation is charged: a full server does not spend the address's budget.
    this.registry.roomSpace(conn.key);
    this.creation(conn);
    const code = conn.freeCode;
    conn.freeCode = undefined;
    const room = this.registry.createRoom(conn.key, {
      level: level.id,
      // No choice: every level the room plays gets its own default bots (Room.policy).
      policy: msg.policy ?? "level",
      // A versus level makes a versus room whatever the request says (its CPUs play for fixed sides).
      versus: msg.versus === true || level.mode === "versus",
      workshop: w?.id ?? null,
      team: msg.team ?? (w ? player.name : null),
    }, level, w, code);
    this.enter(conn, player, room, msg.rid);
  }

  /** Into the room as a member, or (`watch`) as a watcher: a seatless audience with its own cap. */
  private enter(conn: Conn, player: Player, room: Room, rid: number | undefined, watch = false): void {
    if (watch && room.watchers.size >= this.limits.maxWatchersPerRoom) throw new GameError("room-full", `room ${room.code} has as many watchers as it takes`);
    if (!watch && room.members.size >= this.limits.maxMembersPerRoom) throw new GameError("room-full", `room ${room.code} is full`);
    const m = room.join(player, conn.peer, watch);
    conn.member = m;
    const token = this.registry.issueToken(m);
    this.send(conn, { type: "joined", ...(rid !== undefined ? { rid } : {}), you: { member: player.id, token, ...(watch ? { watch: true as const } : {}) }, state: room.snapshot() });
  }

  private game(conn: Conn, msg: GameMessage): void {
    const m = this.memberOf(conn);
    m.room.play(m, commandOf(msg), msg.seq, (seq) => this.ack(conn, msg.rid, seq));
  }

  /**
   * A replay costs what a step costs: the room's current attempt is served from memory (as the
   * room already shows it); an earlier one from the registry's cache. Each connection has its own budget.
   */
  private replay(conn: Conn, msg: ClientMessageOf<"replay">): void {
    const m = this.memberOf(conn);
    const room = m.room;
    conn.replays ??= new TokenBucket(this.limits.replaysPerMinute / 60, this.limits.replayBurst, this.now());
    if (!conn.replays.take(this.now())) throw new GameError("rate-limited", `over ${this.limits.replaysPerMinute} replays a minute: wait a little`);
    const current = room.attempt;
    const wanted = msg.attempt ?? (current.session.result ? current.id : undefined);
    if (wanted === current.id) {
      const s = current.session;
      return this.send(conn, { type: "replay", ...(msg.rid !== undefined ? { rid: msg.rid } : {}), attempt: current.id, level: room.level.id, knobs: s.knobs, trace: s.trace, result: s.result, chat: room.chatOf(current.id) });
    }
    conn.peer.send(this.registry.replayOf(room, wanted, msg.rid));
  }

  /**
   * The sandbox's requests, each charged to the connection's sandbox budget: an explorer answer
   * goes to the whole room, and a scenario is parsed and checked before a room is made for it.
   */
  private sandbox(conn: Conn, player: Player, msg: SandboxMessage): void {
    const rid = msg.rid;
    const inRoom = msg.type === "explore" || msg.type === "saveSandbox" ? this.memberOf(conn) : null;
    if (msg.type === "createSandbox") {
      this.notInRoom(conn);
      this.admit(conn);
    }
    conn.sandbox ??= new TokenBucket(this.limits.sandboxPerMinute / 60, this.limits.sandboxBurst, this.now());
    if (!conn.sandbox.take(this.now())) throw new GameError("rate-limited", `over ${this.limits.sandboxPerMinute} sandbox requests a minute: wait a little`);
    switch (msg.type) {
      case "sandbox":
        return conn.peer.send(catalogueMessage(rid));
      case "createSandbox": {
        const level = scenarioLevel(msg.scenario);
        // Checked before the creation is charged: a full server does not spend the address's budget.
        this.registry.roomSpace(conn.key);
        this.creation(conn);
        const room = this.registry.createRoom(
          conn.key,
          { level: level.id, policy: msg.policy ?? "level", versus: false, workshop: null, team: null, scenario: JSON.stringify(msg.scenario) },
          level,
          null,
        );
        return this.enter(conn, player, room, rid);
      }
      case "explore":
        return inRoom!.room.tellExplorer(inRoom!, rid);
      case "saveSandbox": {
        checkSaveId(msg.id, (id) => this.registry.level(id) !== null);
        return this.send(conn, { ...inRoom!.room.sandboxFile(msg.id), ...(rid !== undefined ? { rid } : {}) });
      }
    }
  }

  /** The connection watches this workshop's dashboard (and no other). */
  private watch(conn: Conn, w: Workshop): void {
    if (conn.watching !== w) this.unwatch(conn);
    conn.watching = w;
    this.registry.watch(w, conn.peer);
  }

  // ------------------------------------------------------------------ helpers

  /** Said hello (or resumed): from now on the connection leaves the pre-hello budget, and idles out outside rooms. */
  private armIdle(conn: Conn): void {
    if (conn.proxy) return;
    this.count(conn.key, 0, -1);
    const t = setTimeout(() => {
      if (!this.conns.has(conn)) return;
      // In a room (playing or watching) or at a dashboard is doing something, even in silence.
      if (conn.member || conn.watching || conn.relay) return void t.refresh();
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

  /**
   * One chat message, mark or plan: its own budget, apart from the message rate. A refusal is
   * only that (no strike): a talker over it keeps playing, and nobody else is touched.
   */
  private talk(conn: Conn): void {
    conn.talk ??= new TokenBucket(this.limits.talkPerMinute / 60, this.limits.talkBurst, this.now());
    if (!conn.talk.take(this.now())) throw new GameError("rate-limited", `over ${this.limits.talkPerMinute} chat messages, marks and plans a minute: wait a little`);
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
}
