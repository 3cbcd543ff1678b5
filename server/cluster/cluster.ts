// One node of a service of several (docs/cluster.md): `faultline serve --redis
// URL --postgres URL`. The hub stays the connections' door and the registry the
// rooms' host; this is what they consult when a room may be elsewhere:
//
// - Routing. A join, create or resume decides where the room runs: here if
//   this node holds it or takes its lease (rebuilding it from PostgreSQL), else
//   on the node that holds the lease, and then the door relays the client's
//   frames there (relay.ts) and the replies back. The client sees one server.
// - Leases. Every leaseMs/3 the node renews its key and its rooms' leases; a
//   room whose lease it lost stops here (its members resume elsewhere). Rooms
//   leaving memory give their lease back.
// - Failover. A node that finds another dead (its key expired) closes what it
//   relayed there with 4010 (resume); the resume token's record in Redis names
//   the room and member, the room is rebuilt from its log on whichever node
//   takes the lease, with its roster (members, seats) from Redis.
// - Workshops. Pause, announcements, released hints, the instructor's chat and mutes go to every node on
//   one channel; each node applies them to the workshop's rooms it runs. Team
//   rows for dashboards go the same way while someone watches.

import { randomBytes } from "node:crypto";
import { GameError } from "../../src/game/session.js";
import type { ClientMessage } from "../../src/protocol/client.js";
import { CloseCode } from "../../src/protocol/codes.js";
import type { DashboardTeam } from "../../src/protocol/server.js";
import type { Conn, Hub } from "../hub.js";
import { hashToken, roomCode } from "../ids.js";
import type { Outbox } from "../outbox.js";
import type { Stream } from "../peer.js";
import type { Registry } from "../registry.js";
import type { Member, Room } from "../room.js";
import type { Storage } from "../storage/port.js";
import { applyAnnounce, applyChat, applyHint, applyMute, applyPause } from "../workshop-commands.js";
import type { Workshop } from "../workshop.js";
import { Directory, type Roster } from "./directory.js";
import { decode, encode, RelayPeer, RelaySocket, type Header } from "./relay.js";

export interface ClusterOptions {
  /** redis://HOST:PORT */
  redis: string;
  /** Prefix of every Redis key and channel (default "faultline:"); one service per prefix. */
  prefix?: string;
  /** A room's lease and a node's liveness last this long without renewal (default 10 s). */
  leaseMs?: number;
  /** This node's id (default: random). */
  nodeId?: string;
}

export const DEFAULT_LEASE_MS = 10_000;

/** The door's side of a relayed client. */
export interface Relay {
  id: number;
  owner: string;
  /** A join, create, leave or hello is on its way: later frames wait for the owner's status. */
  waiting: boolean;
  queue: (string | null)[];
  /** Streams whose snapshot was asked for: their next values are skipped until it comes. */
  awaiting: Set<Stream>;
}

/** Frames after which the door waits for the owner to say whether the client is in a room. */
const ATTACHING = new Set(["join", "create", "leave", "hello"]);

type Bus =
  | { k: "pause"; w: string; paused: boolean }
  | { k: "announce"; w: string; text: string }
  | { k: "hint"; w: string; room?: string }
  | { k: "chat"; w: string; text: string; room?: string }
  | { k: "mute"; w: string; room: string; member: string; muted: boolean }
  | { k: "watch"; w: string }
  | { k: "team"; w: string; team: DashboardTeam; n: string };

export class Cluster {
  readonly id: string;
  private hub!: Hub;
  private reg!: Registry;
  private storage!: Storage;
  private outbox: Outbox | null = null;
  private readonly relays = new Map<number, Conn>();
  private nextRelay = 1;
  /** Owner side: proxy connections by door/relay id. */
  private readonly proxies = new Map<string, { conn: Conn; door: string; c: number; peer: RelayPeer }>();
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  /** Workshops someone watches somewhere, until when (their rooms' team rows are published). */
  private readonly watched = new Map<string, number>();
  private readonly teamTimers = new Map<string, NodeJS.Immediate | NodeJS.Timeout>();
  /** Rosters last written, by room (only changes are written). */
  private readonly rosters = new Map<string, string>();
  private readonly rosterDirty = new Set<Room>();
  private rosterTimer: NodeJS.Immediate | null = null;
  private readonly log: (level: "info" | "warn" | "error", event: string, msg: string) => void;
  private info: Record<string, unknown> = {};
  /** The rooms the log last said this node owns, and when. */
  private owned = { text: "", at: 0 };

  private constructor(
    readonly dir: Directory,
    readonly leaseMs: number,
    log: (level: "info" | "warn" | "error", event: string, msg: string) => void,
  ) {
    this.id = dir.id;
    this.log = log;
  }

  static async open(opts: ClusterOptions, log: (level: "info" | "warn" | "error", event: string, msg: string) => void): Promise<Cluster> {
    const id = opts.nodeId ?? randomBytes(4).toString("hex");
    const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    const dir = await Directory.open(opts.redis, opts.prefix ?? "faultline:", id, leaseMs);
    return new Cluster(dir, leaseMs, log);
  }

  /** Wire to the hub (after it exists) and start: subscribe, announce, renew. */
  async start(hub: Hub, outbox: Outbox | null, url: string): Promise<void> {
    this.hub = hub;
    this.reg = hub.registry;
    this.storage = hub.storage;
    this.outbox = outbox;
    this.info = { url, since: new Date().toISOString() };
    this.dir.sub.on("messageBuffer", (channel: Buffer, message: Buffer) => this.inbound(channel.toString(), message.toString("utf8")));
    await this.dir.sub.subscribe(this.dir.key("n", this.id), this.dir.broadcastChannel);
    await this.dir.announce(this.info);
    this.timer = setInterval(() => void this.tick(), Math.max(20, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  /** What this node runs and relays (for /health and the log). */
  status(): { node: string; rooms: string[]; relayed: number; proxied: number } {
    return { node: this.id, rooms: [...this.reg.rooms.keys()], relayed: this.relays.size, proxied: this.proxies.size };
  }

  async nodes(): Promise<string[]> {
    return [...(await this.dir.nodes()).keys()];
  }

  // ------------------------------------------------------------------ door: routing

  /** True while the connection's frames go to another node. */
  relayed(conn: Conn): boolean {
    return conn.relay !== undefined && conn.relay !== null;
  }

  /**
   * Before a frame that may name a room elsewhere is handled here: decide where. Resolves
   * true when the frame went to another node (the door then only relays), false to handle
   * it here (the room, if any, is now in this node's memory). Null: nothing to decide.
   */
  prepare(conn: Conn, msg: ClientMessage, data: string): Promise<boolean> | null {
    switch (msg.type) {
      case "join":
        return this.reg.rooms.has(msg.room) ? null : this.routeTo(msg.room, conn, data);
      case "hello":
        return msg.resume === undefined ? null : this.resume(conn, msg.resume, data);
      case "create":
        return this.freeCode(conn).then(() => false);
      default:
        return null;
    }
  }

  private async resume(conn: Conn, token: string, data: string): Promise<boolean> {
    const hash = hashToken(token);
    if (this.reg.hasToken(hash)) return false;
    const rec = await this.dir.token(hash);
    if (!rec) return false; // the hub answers resume-failed
    const relayed = await this.routeTo(rec.room, conn, data);
    if (relayed) return true;
    const room = this.reg.rooms.get(rec.room);
    const m = room?.members.get(rec.member) ?? room?.watchers.get(rec.member);
    if (m) this.reg.adoptToken(hash, m);
    return false;
  }

  /** Run the room here (taking its lease and rebuilding it) or relay `data` to the node that runs it. */
  private async routeTo(code: string, conn: Conn, data: string): Promise<boolean> {
    const deadline = Date.now() + 2 * this.leaseMs;
    for (;;) {
      if (this.reg.rooms.has(code)) return false;
      const holder = await this.dir.acquire(code);
      if (holder === this.id) {
        await this.rebuild(code);
        return false;
      }
      if ((await this.dir.alive([holder])).has(holder)) {
        this.attach(conn, holder, data);
        return true;
      }
      // Its node is dead and the lease runs out within leaseMs: then it is ours to take.
      if (Date.now() > deadline) throw new GameError("unavailable", `room ${code} is held by a node that stopped; try again in a moment`);
      await new Promise((r) => setTimeout(r, Math.max(10, this.leaseMs / 10)));
    }
  }

  /** This node holds the room's lease: bring it into memory from PostgreSQL, with its roster. */
  private async rebuild(code: string): Promise<void> {
    const [, roster] = await Promise.all([this.storage.load!({ rooms: [code] }), this.dir.roster(code)]);
    if (this.reg.rooms.has(code)) return;
    if (!this.storage.getRoom(code)) {
      await this.dir.release([code]);
      return;
    }
    const room = this.reg.room(code);
    if (!room) return void (await this.dir.release([code]));
    if (roster) this.reg.adoptRoster(room, roster);
    this.log("info", "room-taken", `room ${code} runs here now (rebuilt from its log at seq ${room.seq}, ${room.members.size + room.watchers.size} members and watchers to resume)`);
  }

  /** A free room code whose lease this node now holds (the create takes it). */
  private async freeCode(conn: Conn): Promise<void> {
    for (let i = 0; i < 8; i++) {
      const code = roomCode();
      if (this.reg.rooms.has(code)) continue;
      if ((await this.dir.acquire(code)) !== this.id) continue;
      await this.storage.load!({ rooms: [code] });
      if (this.storage.getRoom(code)) {
        await this.dir.release([code]);
        continue;
      }
      conn.freeCode = code;
      return;
    }
    throw new GameError("unavailable", "no free room code found: try again");
  }

  /** After a frame here: a create that did not use its code gives the lease back. */
  frameDone(conn: Conn, type: string): void {
    if (conn.freeCode !== undefined && !this.reg.rooms.has(conn.freeCode)) void this.dir.release([conn.freeCode]);
    conn.freeCode = undefined;
    // The door waits for a status after these (relayFrame); after others only a room left matters.
    if (conn.proxy && (ATTACHING.has(type) || (conn.member === null && conn.watching === null))) this.reportStatus(conn);
  }

  private attach(conn: Conn, owner: string, data: string): void {
    const relay: Relay = { id: this.nextRelay++, owner, waiting: false, queue: [], awaiting: new Set() };
    conn.relay = relay;
    this.relays.set(relay.id, conn);
    this.forward(conn, data);
  }

  /** A frame from a relayed client. */
  relayFrame(conn: Conn, data: string | null): void {
    const r = conn.relay!;
    if (r.waiting) return void r.queue.push(data);
    this.forward(conn, data);
  }

  private forward(conn: Conn, data: string | null): void {
    const r = conn.relay!;
    // Binary frames are answered here (bad-frame), as by any node.
    if (data === null) return this.hub.local(conn, null);
    let type = "";
    try {
      type = String((JSON.parse(data) as { type?: unknown }).type);
    } catch {
      // Not JSON: the owner answers bad-frame.
    }
    if (ATTACHING.has(type)) r.waiting = true;
    void this.post(r.owner, { k: "f", c: r.id, ip: conn.ip, p: conn.player }, data);
  }

  /** The door's peer asks for a fresh snapshot of a stream: the owner has it. */
  resync(conn: Conn, stream: Stream): null {
    const r = conn.relay!;
    r.awaiting.add(stream);
    void this.post(r.owner, { k: "rs", c: r.id, s: stream });
    return null;
  }

  /** A relayed client's socket closed. */
  closed(conn: Conn, code: number): void {
    const r = conn.relay;
    if (!r) return;
    this.relays.delete(r.id);
    conn.relay = null;
    void this.post(r.owner, { k: "x", c: r.id, code });
  }

  private detach(conn: Conn): void {
    const r = conn.relay!;
    this.relays.delete(r.id);
    conn.relay = null;
    // What the client sent meanwhile is handled here now, in order.
    for (const d of r.queue.splice(0)) {
      if (conn.relay) this.relayFrame(conn, d);
      else this.hub.local(conn, d);
    }
  }

  // ------------------------------------------------------------------ owner: proxies

  private proxyFor(door: string, c: number, ip: string, player: { id: string; name: string } | null): { conn: Conn; door: string; c: number; peer: RelayPeer } {
    const key = `${door}/${c}`;
    const known = this.proxies.get(key);
    if (known) return known;
    const post = (h: Omit<Header, "n" | "c">, data?: string) => void this.post(door, { ...h, c } as Header, data);
    const socket = new RelaySocket(post);
    let conn: Conn | null = null;
    const peer = new RelayPeer(socket, post, (stream) => (stream === "room" ? (conn?.member?.room.stateMessage() ?? null) : (conn?.watching?.dashboardMessage() ?? null)), this.outbox);
    const made = this.hub.connectProxy(peer, ip, player);
    made.proxy = { door, c };
    conn = made;
    const entry = { conn: made, door, c, peer };
    this.proxies.set(key, entry);
    return entry;
  }

  private reportStatus(conn: Conn): void {
    const px = conn.proxy!;
    const p = this.proxies.get(`${px.door}/${px.c}`);
    if (!p || p.conn !== conn) return;
    const inRoom = conn.member !== null || conn.watching !== null;
    p.peer.postInOrder({ k: "a", m: inRoom ? 1 : 0, p: conn.player });
    if (!inRoom) this.dropProxy(p, 1000);
  }

  private dropProxy(p: { conn: Conn; door: string; c: number }, code: number): void {
    if (this.proxies.get(`${p.door}/${p.c}`)?.conn !== p.conn) return;
    this.proxies.delete(`${p.door}/${p.c}`);
    this.hub.closed(p.conn, code);
  }

  // ------------------------------------------------------------------ messages in

  private inbound(channel: string, raw: string): void {
    if (channel === this.dir.broadcastChannel) return this.bus(raw);
    const env = decode(raw);
    if (!env) return;
    const { h, data } = env;
    switch (h.k) {
      case "f": {
        const p = this.proxyFor(h.n, h.c, h.ip ?? "unknown", h.p ?? null);
        this.hub.message(p.conn, data);
        return;
      }
      case "x": {
        const p = this.proxies.get(`${h.n}/${h.c}`);
        if (p) this.dropProxy(p, h.code ?? 1006);
        return;
      }
      case "rs": {
        const p = this.proxies.get(`${h.n}/${h.c}`);
        if (!p) return;
        const snap = h.s === "dashboard" ? (p.conn.watching?.dashboardMessage() ?? null) : (p.conn.member?.room.stateMessage() ?? null);
        p.peer.postInOrder({ k: "r", s: h.s }, snap ?? "");
        return;
      }
    }
    // To the door.
    const conn = this.relays.get(h.c);
    if (!conn) return;
    switch (h.k) {
      case "s":
        return conn.peer.send(data);
      case "p":
        if (conn.relay?.awaiting.has(h.s!)) return;
        return conn.peer.publish(h.s!, data);
      case "r":
        conn.relay?.awaiting.delete(h.s!);
        if (data) conn.peer.send(data);
        return;
      case "c":
        conn.peer.close(h.code === CloseCode.SERVER_SHUTDOWN ? CloseCode.MAY_TRY_RECONNECT : (h.code ?? 1000), h.reason ?? "");
        return;
      case "a": {
        if (h.p && !conn.player) this.hub.adoptPlayer(conn, h.p);
        const r = conn.relay!;
        if (!h.m) return this.detach(conn);
        r.waiting = false;
        for (const d of r.queue.splice(0)) {
          this.relayFrame(conn, d);
          if (conn.relay?.waiting) {
            conn.relay.queue.push(...r.queue.splice(0));
            break;
          }
        }
        return;
      }
    }
  }

  private post(node: string, h: Omit<Header, "n">, data = ""): Promise<unknown> {
    return this.dir.publish(this.dir.key("n", node), encode({ ...h, n: this.id } as Header, data)).catch((e: unknown) => {
      this.log("error", "relay", `cannot reach Redis to relay to node ${node}: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  // ------------------------------------------------------------------ leases, liveness

  private async tick(): Promise<void> {
    if (this.closing) return;
    try {
      const codes = [...this.reg.rooms.keys()];
      const lost = await this.dir.renew(codes, { ...this.info, rooms: codes.length });
      for (const code of lost) this.lostLease(code);
      // What this node owns, in the log when it changed (at most every 10 s).
      const text = [...this.reg.rooms.keys()].sort().join(" ");
      if (text !== this.owned.text && Date.now() - this.owned.at >= 10_000) {
        const n = this.reg.rooms.size;
        this.owned = { text, at: Date.now() };
        this.log("info", "node", `node ${this.id} owns ${n} room${n === 1 ? "" : "s"}${n ? `: ${text.split(" ").slice(0, 20).join(", ")}${n > 20 ? ` and ${n - 20} more` : ""}` : ""}; relays ${this.relays.size} clients to other nodes, runs rooms for ${this.proxies.size} of theirs`);
      }
      // Who we relay to, and who relays to us: still alive?
      const others = new Set<string>();
      for (const c of this.relays.values()) others.add(c.relay!.owner);
      for (const p of this.proxies.values()) others.add(p.door);
      others.delete(this.id);
      if (others.size > 0) {
        const alive = await this.dir.alive([...others]);
        for (const c of [...this.relays.values()]) {
          if (!alive.has(c.relay!.owner)) {
            const owner = c.relay!.owner;
            this.relays.delete(c.relay!.id);
            c.relay = null;
            c.peer.close(CloseCode.MAY_TRY_RECONNECT, `the node running your room (${owner}) stopped: resume`);
          }
        }
        for (const p of [...this.proxies.values()]) if (!alive.has(p.door)) this.dropProxy(p, 1006);
      }
      for (const w of this.reg.workshops.values()) if (w.watchers.size > 0) void this.broadcast({ k: "watch", w: w.id });
      const now = Date.now();
      for (const [w, until] of this.watched) if (until < now) this.watched.delete(w);
    } catch (e) {
      this.log("error", "lease", `cannot renew leases in Redis: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Another node holds the room now (this one stalled past its lease): stop it here at once. */
  private lostLease(code: string): void {
    const room = this.reg.rooms.get(code);
    if (!room) return;
    this.log("warn", "lease-lost", `room ${code}: lease lost (this node stalled for over ${this.leaseMs} ms); its members resume on the node that holds it`);
    for (const m of [...room.members.values(), ...room.watchers.values()]) m.peer?.close(CloseCode.MAY_TRY_RECONNECT, "the room moved to another node: resume");
    this.reg.evict(room);
  }

  // ------------------------------------------------------------------ registry hooks

  roomGone(code: string): void {
    this.rosters.delete(code);
    if (!this.closing) void this.dir.release([code]);
  }

  tokenIssued(m: Member, hash: string, old: string | null): void {
    const p = this.dir.saveToken(hash, { room: m.room.code, member: m.player.id }, old);
    // The client learns its token in `joined`: only once another node could find it.
    this.outbox?.hold(p);
  }

  tokenDropped(hash: string): void {
    void this.dir.dropToken(hash).catch(() => {});
  }

  /** A room changed: its roster (if it changed) and, while its workshop is watched, its team row. */
  roomChanged(room: Room): void {
    this.rosterDirty.add(room);
    this.rosterTimer ??= setImmediate(() => {
      this.rosterTimer = null;
      for (const r of this.rosterDirty) {
        const who = (ms: Iterable<Member>) => [...ms].map((m) => ({ id: m.player.id, name: m.player.name }));
        const roster: Roster = { members: who(r.members.values()), watchers: who(r.watchers.values()), seats: r.seats, sides: r.sides };
        const text = JSON.stringify(roster);
        if (this.rosters.get(r.code) === text || !this.reg.rooms.has(r.code)) continue;
        this.rosters.set(r.code, text);
        this.outbox?.hold(this.dir.saveRoster(r.code, text));
      }
      this.rosterDirty.clear();
    });
    if (room.workshop && this.watched.has(room.workshop)) this.publishTeam(room);
  }

  private publishTeam(room: Room): void {
    if (this.teamTimers.has(room.code)) return;
    const flush = () => {
      this.teamTimers.delete(room.code);
      const w = room.workshop ? this.reg.workshops.get(room.workshop) : undefined;
      if (!w || this.reg.rooms.get(room.code) !== room) return;
      const team = w.teams().find((t) => t.room === room.code);
      if (team) void this.broadcast({ k: "team", w: w.id, team, n: this.id });
    };
    const ms = this.hub.timing.dashboardMs;
    this.teamTimers.set(room.code, ms <= 0 ? setImmediate(flush) : setTimeout(flush, ms));
  }

  // ------------------------------------------------------------------ workshops

  /**
   * Before an instructor's command: the workshop's rooms all run somewhere (free ones are taken
   * here and rebuilt), and this node knows the workshop.
   */
  async workshopRooms(id: string): Promise<void> {
    await this.storage.load!({ workshops: [id] });
    const codes = this.storage.workshopRooms(id);
    await Promise.all(
      codes.map(async (code) => {
        if (this.reg.rooms.has(code)) return;
        const holder = await this.dir.acquire(code);
        if (holder === this.id) await this.rebuild(code);
      }),
    );
  }

  /** The instructor's command went through here: tell the other nodes (the ack waits for Redis to take it). */
  pause(w: Workshop, paused: boolean): void {
    this.outbox?.hold(this.broadcast({ k: "pause", w: w.id, paused }).then(() => {}));
  }
  announce(w: Workshop, text: string): void {
    this.outbox?.hold(this.broadcast({ k: "announce", w: w.id, text }).then(() => {}));
  }
  hint(w: Workshop, room: string | undefined): void {
    this.outbox?.hold(this.broadcast({ k: "hint", w: w.id, ...(room !== undefined ? { room } : {}) }).then(() => {}));
  }
  chat(w: Workshop, text: string, room: string | undefined): void {
    this.outbox?.hold(this.broadcast({ k: "chat", w: w.id, text, ...(room !== undefined ? { room } : {}) }).then(() => {}));
  }
  mute(w: Workshop, room: string, member: string, muted: boolean): void {
    this.outbox?.hold(this.broadcast({ k: "mute", w: w.id, room, member, muted }).then(() => {}));
  }
  /** Someone here watches the workshop: every node sends its rooms' rows now. */
  watch(w: Workshop): void {
    void this.broadcast({ k: "watch", w: w.id });
  }

  private broadcast(b: Bus): Promise<unknown> {
    return this.dir.publish(this.dir.broadcastChannel, JSON.stringify({ ...b, from: this.id })).catch((e: unknown) => {
      this.log("error", "bus", `cannot reach Redis: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  private bus(raw: string): void {
    let b: Bus & { from?: string };
    try {
      b = JSON.parse(raw) as Bus & { from?: string };
    } catch {
      return;
    }
    if (b.from === this.id && b.k !== "watch") return; // applied here already
    const w = this.reg.workshops.get(b.w);
    switch (b.k) {
      case "watch": {
        const first = !this.watched.has(b.w);
        this.watched.set(b.w, Date.now() + 2 * this.leaseMs);
        if (first && w) for (const r of w.rooms.values()) this.publishTeam(r);
        return;
      }
      case "team": {
        if (!w || b.n === this.id || this.reg.rooms.has(b.team.room)) return;
        w.remote.set(b.team.room, b.team);
        w.changed();
        return;
      }
      case "pause":
        if (w) applyPause(this.reg, w, b.paused);
        return;
      case "announce":
        if (w) applyAnnounce(w, b.text);
        return;
      case "hint":
        if (w) applyHint(w, b.room);
        return;
      case "chat":
        if (w) applyChat(w, b.text, b.room);
        return;
      case "mute":
        if (w) applyMute(w, b.room, b.member, b.muted);
        return;
    }
  }

  // ------------------------------------------------------------------ shutdown

  /** Stop renewing, give back the leases of the rooms here (their log is committed), leave. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.teamTimers.values()) clearTimeout(t as NodeJS.Timeout);
    if (this.rosterTimer) clearImmediate(this.rosterTimer);
    try {
      await this.dir.release([...this.reg.rooms.keys()]);
      await this.dir.leave();
    } catch {
      // Redis is away: the leases expire on their own.
    }
    await this.dir.close();
  }
}
