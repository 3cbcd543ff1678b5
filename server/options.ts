// Server options and their defaults. Every timing is configurable so tests run
// in milliseconds; the defaults suit a classroom on one LAN.

import type { SolverOptions } from "./solver/pool.js";
import type { Level } from "../src/level/load.js";
import type { Storage } from "./storage/port.js";

export interface Timing {
  /** How long a dropped player's seat waits for them to resume. */
  graceMs: number;
  /** Ping interval; a socket that has not answered the previous ping is cut. */
  heartbeatMs: number;
  /** A connection must say hello within this. */
  helloTimeoutMs: number;
  /** A bot's thinking time before each of its moves. */
  botDelayMs: number;
  /** Dashboard updates are coalesced over this window. */
  dashboardMs: number;
  /** An empty room (outside workshops) leaves memory after this; it can be rejoined from storage. */
  roomIdleMs: number;
  /** During shutdown, how long clients get to complete the close handshake. */
  closeMs: number;
  /**
   * A TCP connection must finish its WebSocket handshake within this (a slowloris socket that
   * trickles its headers, or sends nothing, is cut).
   */
  handshakeMs: number;
  /**
   * A connection that has said hello but is in no room and watches no workshop is closed
   * (4012 IDLE) after sending nothing for this long.
   */
  idleMs: number;
  /** While the database refuses writes, a probe write is tried this often (recovery is noticed without traffic). */
  storageProbeMs: number;
}

export interface Limits {
  /** Largest incoming frame (bytes); bigger ones close the socket with 1009. */
  maxPayload: number;
  /** Per-connection message rate (token bucket). */
  messagesPerSecond: number;
  messageBurst: number;
  /** Messages refused in a row for rate before the connection is closed (4008). */
  rateStrikes: number;
  /**
   * Arrivals per client address (token bucket): every hello (with or without a resume token),
   * create, join and createWorkshop takes one. Sized for a class behind one NAT or proxy.
   */
  admissionsPerMinute: number;
  admissionBurst: number;
  /**
   * Rooms and workshops created per client address (token bucket): each student of a class
   * of 300 may create a room at the same moment, but one address cannot fill the server.
   */
  roomsPerMinute: number;
  roomBurst: number;
  /**
   * Failed code lookups (a join of a room code that does not exist, a create in a workshop
   * that does not exist), the brute force of room codes: a token bucket per client address,
   * and a number per connection. While either is spent, every join (and create in a workshop)
   * is refused with rate-limited, whether the code exists or not. Successful joins cost nothing here.
   */
  lookupFailuresPerMinute: number;
  lookupFailureBurst: number;
  connectionLookupFailures: number;
  /**
   * Over soft bytes sent that the client has not read (pongs to the pings sent every soft/4
   * bytes say how much it has), room updates and dashboards are skipped, then replaced by one
   * snapshot; over hard bytes in Node's own send buffer (the server's memory), the client is dropped (4010).
   */
  softBufferBytes: number;
  hardBufferBytes: number;
  /** WebSocket connections at once, server-wide (also capped by the open-file limit: see fdlimit.ts). */
  maxConnections: number;
  /**
   * WebSocket connections per client address at once (never more than half of maxConnections:
   * one address cannot take the whole server). Over it: HTTP 429 on the upgrade. Sized for two
   * classes of 300 behind one NAT.
   */
  maxConnectionsPerAddress: number;
  /**
   * The pre-hello budget: connections from one address that have not said hello (HTTP 429 past it),
   * and, separately, sockets from one address still in their handshake (cut past it).
   */
  maxPendingPerAddress: number;
  /**
   * Rooms in memory created from one client address (a room leaves memory when it empties:
   * see Timing.roomIdleMs). Over it, that address gets `server-full` on create.
   */
  maxRoomsPerAddress: number;
  maxRooms: number;
  maxMembersPerRoom: number;
  /** Watchers per room (join with watch), beside its members: a class may watch one team's room. */
  maxWatchersPerRoom: number;
  /** Replays per connection (token bucket): a spectator cannot make the server re-run logs in a loop. */
  replaysPerMinute: number;
  replayBurst: number;
  /** Finished attempts' replays kept in memory (bytes of JSON). */
  replayCacheBytes: number;
  /**
   * Talk per connection (token bucket): chat, marks and plans (and the instructor's chat). Over it
   * the message is refused (rate-limited) and nothing else happens: no strike towards a 4008 close,
   * and the sender's game actions go on.
   */
  talkPerMinute: number;
  talkBurst: number;
  /**
   * Sandbox requests per connection (token bucket): the catalogue, createSandbox, explore (whose
   * answer goes to everyone in the room) and saveSandbox.
   */
  sandboxPerMinute: number;
  sandboxBurst: number;
}

export const DEFAULT_TIMING: Timing = {
  graceMs: 30_000,
  heartbeatMs: 5_000,
  helloTimeoutMs: 10_000,
  botDelayMs: 600,
  dashboardMs: 250,
  roomIdleMs: 10 * 60_000,
  closeMs: 1_000,
  handshakeMs: 10_000,
  idleMs: 10 * 60_000,
  storageProbeMs: 5_000,
};

export const DEFAULT_LIMITS: Limits = {
  maxPayload: 4096,
  messagesPerSecond: 20,
  messageBurst: 40,
  rateStrikes: 50,
  admissionsPerMinute: 1200,
  admissionBurst: 600,
  roomsPerMinute: 60,
  roomBurst: 300,
  lookupFailuresPerMinute: 30,
  lookupFailureBurst: 60,
  connectionLookupFailures: 10,
  softBufferBytes: 256 * 1024,
  hardBufferBytes: 4 * 1024 * 1024,
  maxConnections: 2000,
  maxConnectionsPerAddress: 1000,
  maxPendingPerAddress: 400,
  maxRoomsPerAddress: 320,
  maxRooms: 2000,
  maxMembersPerRoom: 32,
  maxWatchersPerRoom: 100,
  replaysPerMinute: 30,
  replayBurst: 5,
  replayCacheBytes: 16 * 1024 * 1024,
  talkPerMinute: 30,
  talkBurst: 8,
  sandboxPerMinute: 30,
  sandboxBurst: 10,
};

export interface ServerOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Listen address (default 127.0.0.1: only this machine). */
  host?: string;
  /** SQLite file; omitted (and no `storage`): an in-memory store that ends with the server. */
  db?: string;
  /** An injected Storage (tests); wins over `db` and `postgres`. */
  storage?: Storage;
  /**
   * A PostgreSQL connection string (postgres://USER@HOST:PORT/DB): store everything there
   * instead of SQLite (server/storage/postgres.ts). Wins over `db`. pg is loaded only then.
   */
  postgres?: string;
  /** The PostgreSQL schema for the tables (default "faultline"; tests use one each). */
  postgresSchema?: string;
  /** PostgreSQL's synchronous_commit for the server's writes (default true: see storage/postgres.ts). */
  postgresSynchronousCommit?: boolean;
  /**
   * One node of several (docs/cluster.md): Redis (redis://HOST:PORT) holds the room directory
   * and carries frames between nodes. Needs `postgres`. ioredis is loaded only then.
   */
  redis?: string;
  /** The node's Redis key prefix (default "faultline:"), its id (default random), its lease (ms). */
  cluster?: { prefix?: string; nodeId?: string; leaseMs?: number };
  /** The campaign (default: levels/campaign.yaml). */
  levels?: Level[];
  timing?: Partial<Timing>;
  limits?: Partial<Limits>;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (addresses, or ADDR/PREFIX subnets). A
   * connection from one of them counts under the rightmost forwarded address that is not a
   * trusted proxy; every other connection under its own address, its X-Forwarded-For ignored.
   * Default: none.
   */
  trustProxy?: string[];
  /** Browser origins allowed to connect; requests carrying any other Origin header are refused (403). */
  allowOrigins?: string[];
  /** Clock (ms since the epoch). */
  now?: () => number;
  /** One line per notable event (default: silent). */
  log?: (line: string) => void;
  /**
   * Pretend the open-file soft limit is this (tests); default: raise the soft limit to the hard
   * one where allowed and read it (Linux). The socket caps are derived from it (fdlimit.ts).
   */
  openFiles?: number;
  /** The solver pool's threads, state budget and deadline (server/solver/pool.ts). */
  solver?: SolverOptions;
}
