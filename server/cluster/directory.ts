// What the nodes of one service share in Redis (docs/cluster.md):
//
//   PREFIX node:ID        this node is alive (its URL and start time), expires after leaseMs
//   PREFIX room:CODE      the node that runs the room: its lease, expires after leaseMs
//   PREFIX tok:SHA256     a resume token's room and member (the token itself is never stored)
//   PREFIX roster:CODE    a room's members and seats, for rebuilding it on another node
//   PREFIX n:ID           (channel) this node's inbox: frames relayed to it and from it
//   PREFIX all            (channel) every node: workshop pause, announcements, hints, dashboards
//
// Every node renews its own key and its rooms' leases every leaseMs/3. A lease
// is taken with SET NX and renewed or released only by its holder (a script
// compares the holder first), so a room runs on exactly one node at a time; a
// node that finds a lease gone (it stalled for longer than leaseMs) stops the
// room at once.

import { Redis } from "ioredis";

/** Renew KEYS[1] for ARGV[2] ms if ARGV[1] holds it; 1 if renewed. */
const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;
/** Delete KEYS[1] if ARGV[1] holds it. */
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

export interface TokenRecord {
  room: string;
  member: string;
}

export interface Roster {
  members: { id: string; name: string }[];
  /** Those who joined to watch (older rosters have none). */
  watchers?: { id: string; name: string }[];
  seats: (string | null)[];
  sides: ("red" | "blue" | null)[];
}

/** How long token records and rosters are kept without a write (a member in a room that long without resuming is gone). */
const RECORD_TTL_S = 24 * 3600;

export class Directory {
  readonly cmd: Redis;
  readonly sub: Redis;

  private constructor(
    url: string,
    readonly prefix: string,
    readonly id: string,
    readonly leaseMs: number,
  ) {
    // Commands fail fast while Redis is away (a lease renewal that cannot reach Redis is a lost lease).
    // Auto-pipelining: the frames relayed in one turn of the event loop go to Redis in one write.
    this.cmd = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true, enableAutoPipelining: true });
    this.sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    this.cmd.on("error", () => {});
    this.sub.on("error", () => {});
  }

  static async open(url: string, prefix: string, id: string, leaseMs: number): Promise<Directory> {
    const d = new Directory(url, prefix, id, leaseMs);
    try {
      await Promise.all([d.cmd.connect(), d.sub.connect()]);
    } catch (e) {
      d.cmd.disconnect();
      d.sub.disconnect();
      throw e;
    }
    return d;
  }

  key(kind: "node" | "room" | "tok" | "roster" | "n", id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  get broadcastChannel(): string {
    return `${this.prefix}all`;
  }

  // ------------------------------------------------------------------ nodes

  async announce(info: Record<string, unknown>): Promise<void> {
    await this.cmd.set(this.key("node", this.id), JSON.stringify(info), "PX", this.leaseMs);
  }

  /** Which of these nodes are alive (their key has not expired). */
  async alive(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const vals = await this.cmd.mget(...ids.map((i) => this.key("node", i)));
    return new Set(ids.filter((_, i) => vals[i] !== null));
  }

  /** Every live node: id -> what it announced. */
  async nodes(): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await this.cmd.scan(cursor, "MATCH", `${this.prefix}node:*`, "COUNT", 200);
      cursor = next;
      keys.push(...found);
    } while (cursor !== "0");
    if (keys.length === 0) return out;
    const vals = await this.cmd.mget(...keys);
    keys.forEach((k, i) => {
      if (vals[i] !== null) out.set(k.slice(`${this.prefix}node:`.length), JSON.parse(vals[i]!) as Record<string, unknown>);
    });
    return out;
  }

  // ------------------------------------------------------------------ leases

  /** Take the room's lease if nobody holds it; returns its holder (this node's id if taken). */
  async acquire(code: string): Promise<string> {
    const k = this.key("room", code);
    const ok = await this.cmd.set(k, this.id, "PX", this.leaseMs, "NX");
    if (ok === "OK") return this.id;
    return (await this.cmd.get(k)) ?? (await this.acquire(code));
  }

  async owner(code: string): Promise<string | null> {
    return this.cmd.get(this.key("room", code));
  }

  /** Renew this node's key and its rooms' leases; returns the rooms whose lease it no longer holds. */
  async renew(codes: string[], info: Record<string, unknown>): Promise<string[]> {
    const p = this.cmd.pipeline();
    p.set(this.key("node", this.id), JSON.stringify(info), "PX", this.leaseMs);
    for (const c of codes) p.eval(RENEW, 1, this.key("room", c), this.id, this.leaseMs);
    const res = (await p.exec()) ?? [];
    const lost: string[] = [];
    codes.forEach((c, i) => {
      const [err, v] = res[i + 1] ?? [new Error("no reply"), 0];
      if (err || v !== 1) lost.push(c);
    });
    if (res[0]?.[0]) throw res[0][0];
    return lost;
  }

  async release(codes: string[]): Promise<void> {
    if (codes.length === 0) return;
    const p = this.cmd.pipeline();
    for (const c of codes) p.eval(RELEASE, 1, this.key("room", c), this.id);
    await p.exec();
  }

  async leave(): Promise<void> {
    await this.cmd.del(this.key("node", this.id));
  }

  // ------------------------------------------------------------------ resume tokens and rosters

  async saveToken(hash: string, rec: TokenRecord, old: string | null): Promise<void> {
    const p = this.cmd.pipeline();
    p.set(this.key("tok", hash), JSON.stringify(rec), "EX", RECORD_TTL_S);
    if (old) p.del(this.key("tok", old));
    await p.exec();
  }

  async dropToken(hash: string): Promise<void> {
    await this.cmd.del(this.key("tok", hash));
  }

  async token(hash: string): Promise<TokenRecord | null> {
    const v = await this.cmd.get(this.key("tok", hash));
    return v === null ? null : (JSON.parse(v) as TokenRecord);
  }

  async saveRoster(code: string, roster: string): Promise<void> {
    await this.cmd.set(this.key("roster", code), roster, "EX", RECORD_TTL_S);
  }

  async roster(code: string): Promise<Roster | null> {
    const v = await this.cmd.get(this.key("roster", code));
    return v === null ? null : (JSON.parse(v) as Roster);
  }

  // ------------------------------------------------------------------ messages

  publish(channel: string, data: string): Promise<number> {
    return this.cmd.publish(channel, data);
  }

  async close(): Promise<void> {
    await Promise.all([this.cmd.quit().catch(() => {}), this.sub.quit().catch(() => {})]);
  }
}
