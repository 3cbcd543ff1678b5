// startServer: the Faultline game server as a library. `faultline serve` runs
// it from the command line; the client's solo mode runs it in-process on a
// free loopback port:
//
//   const server = await startServer({ port: 0 });   // 127.0.0.1, in-memory storage
//   ... connect to server.url ...
//   await server.close();
//
// Transport hardening follows ws's own advice: noServer + handleUpgrade (the
// HTTP server decides who may upgrade), a small maxPayload, no
// permessage-deflate, a per-socket error handler, and a ping heartbeat that
// cuts sockets that stop answering.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { loadCampaign } from "../src/level/load.js";
import { SUPPORTED_PROTOCOLS, subprotocol } from "../src/protocol/version.js";
import { clientAddress, limitKey, normalize, TrustedProxies } from "./address.js";
import { raiseOpenFiles, socketBudget } from "./fdlimit.js";
import { ServerLog } from "./log.js";
import { Hub, type Conn } from "./hub.js";
import { SolverPool } from "./solver/pool.js";
import { DEFAULT_LIMITS, DEFAULT_TIMING, type Limits, type ServerOptions, type Timing } from "./options.js";
import { MemoryStorage } from "./storage/memory.js";
import { SqliteStorage } from "./storage/sqlite.js";
import type { Storage } from "./storage/port.js";
import { describeFault, faultOf, GuardedStorage } from "./storage/guard.js";
import { Outbox } from "./outbox.js";

export type { ServerOptions, Timing, Limits } from "./options.js";
export type { ResultRow, Storage } from "./storage/port.js";
export { MemoryStorage } from "./storage/memory.js";
export { SqliteStorage } from "./storage/sqlite.js";

/** The database could not be opened at start: its path and what was wrong (`serve` exits 2 with it). */
export class StorageOpenError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot open the database ${path}: ${reason}`);
  }
}

function openSqlite(path: string): SqliteStorage {
  try {
    return new SqliteStorage(path);
  } catch (e) {
    const f = faultOf(e, 0);
    const msg = e instanceof Error ? e.message : String(e);
    throw new StorageOpenError(path, f ? describeFault(f) : msg);
  }
}

/** Open the PostgreSQL store; pg is imported only here, so a server without --postgres never loads it. */
async function openPostgres(url: string, opts: ServerOptions, onFatal: (e: Error) => void): Promise<Storage> {
  const { PgStorage, redactUrl } = await import("./storage/postgres.js");
  try {
    return await PgStorage.open(url, { ...(opts.postgresSchema !== undefined ? { schema: opts.postgresSchema } : {}), ...(opts.postgresSynchronousCommit !== undefined ? { synchronousCommit: opts.postgresSynchronousCommit } : {}), onFatal });
  } catch (e) {
    throw new StorageOpenError(redactUrl(url), e instanceof Error ? e.message : String(e));
  }
}

/** One node of several: ioredis is imported only here, with --redis. */
async function openCluster(opts: ServerOptions, slog: ServerLog): Promise<import("./cluster/cluster.js").Cluster> {
  const { Cluster } = await import("./cluster/cluster.js");
  const { redactUrl } = await import("./url.js");
  try {
    return await Cluster.open({ redis: opts.redis!, ...opts.cluster }, (level, event, msg) => slog.limited(level, event, msg, {}, `${event}|${msg.slice(0, 40)}`));
  } catch (e) {
    throw new StorageOpenError(redactUrl(opts.redis!), `Redis: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export interface RunningServer {
  /** ws://host:port/ */
  url: string;
  host: string;
  port: number;
  storage: Storage;
  /** The rooms, workshops and connections (for embedding and tests; treat as read-only). */
  hub: Hub;
  /** This node's id, when it is one of several (--redis). */
  node: string | null;
  /** Close every connection (4001 SERVER_SHUTDOWN), stop listening, close the database we opened. */
  close(): Promise<void>;
  /**
   * Settles if the server had to stop on its own: an asynchronous store (PostgreSQL) could not
   * commit a write. Every connection is then cut (1006, resumable) and nothing written after
   * the failed write is acknowledged. Never settles otherwise.
   */
  failed: Promise<Error>;
}

const SUBPROTOCOLS = new Set(SUPPORTED_PROTOCOLS.map(subprotocol));
/** The heartbeat visits the sockets in this many groups per interval (fewer when the interval is under 0.5 s). */
const HEARTBEAT_SLICES = 10;

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const timing: Timing = { ...DEFAULT_TIMING, ...opts.timing };
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const host = opts.host ?? "127.0.0.1";
  const ownStorage = opts.storage === undefined;
  const log = opts.log ?? (() => {});
  const now = opts.now ?? Date.now;
  const slog = new ServerLog(log, now);
  // A write an asynchronous store cannot commit stops the server (fail-stop: see storage/postgres.ts).
  let fail!: (e: Error) => void;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  let stopping: ((e: Error) => void) | null = null;
  const fatal = (e: Error) => {
    slog.line("error", "storage-fatal", `a write could not be committed (${e.message}): stopping; nothing after it was acknowledged`);
    stopping?.(e);
    fail(e);
  };
  const outbox = new Outbox(fatal);
  if (opts.redis !== undefined && opts.postgres === undefined && !opts.storage?.written) throw new StorageOpenError(opts.redis, "several nodes share PostgreSQL: give --postgres URL with --redis");
  const storage: Storage = opts.storage ?? (opts.postgres !== undefined ? await openPostgres(opts.postgres, opts, fatal) : opts.db !== undefined ? openSqlite(opts.db) : new MemoryStorage());
  // The hub writes through the guard: a database that stops taking writes is a named, typed fault.
  const guarded = new GuardedStorage(storage, slog, now, timing.storageProbeMs, storage.written ? outbox : null);
  // Sockets are file descriptors: cap them below the open-file limit (raised where allowed), and say so.
  const openFiles = opts.openFiles !== undefined ? { soft: opts.openFiles, hard: opts.openFiles, raisedFrom: null } : raiseOpenFiles();
  const budget = socketBudget(openFiles.soft, limits.maxConnections);
  limits.maxConnections = budget.maxConnections;
  limits.maxConnectionsPerAddress = Math.max(1, Math.min(limits.maxConnectionsPerAddress, Math.floor(limits.maxConnections / 2)));
  // Validated before anything is opened: a typo here must not leave the server trusting nobody silently.
  const trusted = new TrustedProxies(opts.trustProxy ?? []);
  let cluster: import("./cluster/cluster.js").Cluster | null = null;
  try {
    if (opts.redis !== undefined) cluster = await openCluster(opts, slog);
  } catch (e) {
    if (ownStorage) await storage.close();
    throw e;
  }
  const solver = new SolverPool(opts.solver, log);
  let hub: Hub;
  try {
    hub = new Hub({ storage: guarded, levels: opts.levels ?? loadCampaign(), timing, limits, now, log, slog, solver, ...(storage.written ? { outbox } : {}), ...(cluster ? { cluster } : {}) });
  } catch (e) {
    await cluster?.close();
    if (ownStorage) await storage.close();
    await solver.close();
    throw e;
  }

  const http = createServer({
    // A request (a handshake) must bring its headers within handshakeMs; checked this often.
    headersTimeout: timing.handshakeMs,
    requestTimeout: timing.handshakeMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timing.handshakeMs / 2))),
  }, (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method === "GET" && path === "/health") {
      guarded.probe();
      const f = guarded.fault;
      // 503 while the database refuses writes: a load balancer or monitor sees it.
      res.writeHead(f ? 503 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify({
        ok: f === null,
        protocol: SUPPORTED_PROTOCOLS,
        rooms: hub.registry.rooms.size,
        ...(cluster ? { node: cluster.id, relayed: cluster.status().relayed, proxied: cluster.status().proxied } : {}),
        connections: hub.conns.size,
        storage: f ? { ok: false, code: f.code, error: describeFault(f), since: new Date(f.since).toISOString() } : { ok: true },
      }));
      return;
    }
    res.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" });
    res.end("Faultline speaks WebSocket here: see docs/protocol.md\n");
  });
  http.on("clientError", (_e, socket) => socket.destroy());

  // Every TCP socket, from accept to close: the server-wide cap (file descriptors) and, per client
  // address, the sockets still in their handshake (part of the pre-hello budget). A trusted proxy's
  // sockets count only server-wide here: its clients are counted by X-Forwarded-For at the upgrade.
  let socketCount = 0;
  const handshaking = new Map<string, number>();
  const tcp = new WeakMap<Duplex, { key: string | null; timer: NodeJS.Timeout }>();
  const bump = (key: string, d: number) => {
    const n = (handshaking.get(key) ?? 0) + d;
    if (n <= 0) handshaking.delete(key);
    else handshaking.set(key, n);
  };
  /** The socket's handshake is over (upgraded, or closed): it stops counting as pending. */
  const handshakeDone = (socket: Duplex) => {
    const st = tcp.get(socket);
    if (!st) return;
    tcp.delete(socket);
    clearTimeout(st.timer);
    if (st.key !== null) bump(st.key, -1);
  };
  http.on("connection", (socket: import("node:net").Socket) => {
    socketCount++;
    socket.once("close", () => {
      socketCount--;
      handshakeDone(socket);
    });
    const addr = normalize(socket.remoteAddress) ?? socket.remoteAddress ?? "unknown";
    if (socketCount > budget.maxSockets) {
      slog.limited("error", "socket-cap", `${socketCount - 1} sockets open, the most this server takes (open-file limit ${openFiles.soft ?? "unknown"}): refusing new connections`, {}, "socket-cap");
      socket.destroy();
      return;
    }
    const key = trusted.has(addr) ? null : limitKey(addr);
    // Sockets in their handshake from one address: past the pre-hello budget they are cut at once (a
    // handshake that completes is then refused with 429 while its address's connections are at their caps).
    if (key !== null && (handshaking.get(key) ?? 0) >= limits.maxPendingPerAddress) {
      slog.limited("warn", "address-cap", `${limits.maxPendingPerAddress} sockets from this address are in their handshake: cutting new ones`, { address: key });
      socket.destroy();
      return;
    }
    if (key !== null) bump(key, 1);
    // Whoever has not upgraded (or finished its HTTP request) by then is cut: slowloris, silent sockets.
    const timer = setTimeout(() => {
      if (tcp.has(socket)) socket.destroy();
    }, timing.handshakeMs);
    timer.unref();
    tcp.set(socket, { key, timer });
  });

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: limits.maxPayload,
    perMessageDeflate: false,
    // A client that fragments a 4 KiB message into thousands of frames is not a client (ws 8.21 DoS fix).
    maxFragments: 64,
    maxBufferedChunks: 1024,
    // Pick our subprotocol when offered; a client that offers none still gets in (the hello negotiates).
    handleProtocols: (offered: Set<string>) => [...offered].find((p) => SUBPROTOCOLS.has(p)) ?? false,
  } as ConstructorParameters<typeof WebSocketServer>[0]);

  // Each socket is pinged once per heartbeatMs, in slices (a tenth of the sockets every tenth of the
  // interval), so a thousand pings and their pongs do not land in one burst that stalls every room.
  const slices = Math.max(1, Math.min(HEARTBEAT_SLICES, Math.floor(timing.heartbeatMs / 50)));
  let nextSlice = 0;
  const sockets = new Map<WebSocket, { alive: boolean; slice: number; conn: Conn }>();
  const allowed = new Set(opts.allowOrigins ?? []);

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (new URL(req.url ?? "/", "http://x").pathname !== "/") return refuse(404, "Not Found");
    // Browsers always send Origin; terminal clients do not. A web page must not drive a local server.
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(origin)) return refuse(403, "Forbidden");
    if (hub.conns.size >= limits.maxConnections) {
      slog.limited("warn", "connection-cap", `${hub.conns.size} connections, the most this server takes: refusing new ones (503)`, {}, "connection-cap");
      return refuse(503, "Service Unavailable");
    }
    const address = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trusted);
    const key = limitKey(address);
    const pendingHere = Math.max(0, (handshaking.get(key) ?? 0) - (tcp.get(socket)?.key === key ? 1 : 0));
    if (hub.connectionsFrom(key) >= limits.maxConnectionsPerAddress || hub.pendingFrom(key) + pendingHere >= limits.maxPendingPerAddress) {
      slog.limited("warn", "address-cap", `connections from this address at the cap (${limits.maxConnectionsPerAddress}, ${limits.maxPendingPerAddress} before hello): refusing new ones (429)`, { address: key });
      return refuse(429, "Too Many Requests");
    }
    // A client that names Faultline versions, none of them ours, learns which we speak before upgrading.
    const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    const ours = offered.filter((p) => p.startsWith("faultline."));
    if (ours.length > 0 && !ours.some((p) => SUBPROTOCOLS.has(p))) {
      socket.end(`HTTP/1.1 426 Upgrade Required\r\nX-Faultline-Protocols: ${SUPPORTED_PROTOCOLS.join(", ")}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    handshakeDone(socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = hub.connect(ws, address);
      const state = { alive: true, slice: nextSlice++ % slices, conn };
      sockets.set(ws, state);
      // Any pong (a heartbeat's, or a backpressure marker's) shows the client is reading.
      ws.on("pong", (data) => {
        state.alive = true;
        conn.peer.pong(data);
      });
      ws.on("message", (data, isBinary) => hub.message(conn, isBinary ? null : (data as Buffer).toString("utf8")));
      // Without this, one client's socket error would be an uncaught exception.
      // Rate-limited per address: a client sending a thousand bad frames costs one line a minute.
      ws.on("error", (e) => slog.limited("warn", "socket-error", e.message, { address: key }));
      ws.on("close", (code) => {
        sockets.delete(ws);
        hub.closed(conn, code);
      });
    });
  });

  let slice = 0;
  const heartbeat = setInterval(() => {
    const now = slice;
    slice = (slice + 1) % slices;
    for (const [ws, state] of sockets) {
      if (state.slice !== now) continue;
      if (!state.alive) {
        ws.terminate();
        continue;
      }
      state.alive = false;
      state.conn.peer.ping();
    }
  }, timing.heartbeatMs / slices);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.port ?? 0, host, () => {
      http.off("error", reject);
      resolve();
    });
  }).catch(async (e: unknown) => {
    clearInterval(heartbeat);
    await cluster?.close();
    if (ownStorage) await storage.close();
    await solver.close();
    throw e;
  });
  // After listen, an error here is accept() failing (EMFILE, ENFILE): say so rather than crash or stay silent.
  http.on("error", (e: NodeJS.ErrnoException) => slog.limited("error", "accept", `cannot accept connections: ${e.code ?? ""} ${e.message}`, {}, `accept|${e.code}`));
  const addr = http.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const url = `ws://${host.includes(":") ? `[${host}]` : host}:${port}/`;
  log(`faultline: serving on ${url}`);
  if (cluster) {
    await cluster.start(hub, storage.written ? outbox : null, url);
    slog.line("info", "node", `node ${cluster.id} of the service under Redis prefix ${cluster.dir.prefix}: rooms lease for ${cluster.leaseMs} ms; owns no rooms yet`, { node: cluster.id });
  }
  slog.line(
    "info",
    "limits",
    `open files ${openFiles.soft ?? "unknown"}${openFiles.raisedFrom !== null ? ` (raised from ${openFiles.raisedFrom})` : ""}${openFiles.hard !== null && openFiles.hard !== openFiles.soft ? `, hard limit ${openFiles.hard}` : ""}: ` +
      `at most ${budget.maxSockets} sockets, ${limits.maxConnections} connections, ${limits.maxConnectionsPerAddress} per address (${limits.maxPendingPerAddress} before hello), ` +
      `${limits.maxRooms} rooms (${limits.maxRoomsPerAddress} per address)`,
  );

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(heartbeat);
      hub.shutdown();
      // Give clients the close handshake, then cut whoever is still there.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...sockets.keys()].map((ws) => new Promise((r) => ws.once("close", r)))),
        new Promise((r) => (timer = setTimeout(r, timing.closeMs))),
      ]);
      clearTimeout(timer);
      for (const ws of sockets.keys()) ws.terminate();
      await new Promise<void>((r) => {
        http.close(() => r());
        http.closeAllConnections();
      });
      await solver.close();
      // An asynchronous store commits what it holds before it closes.
      if (ownStorage) await guarded.close();
      else guarded.stop();
      // The log is committed: the rooms' leases go back (other nodes take them at once).
      if (cluster) {
        const owned = cluster.status().rooms.length;
        await cluster.close();
        slog.line("info", "node", `node ${cluster.id} stopped; released ${owned} room lease${owned === 1 ? "" : "s"}`, { node: cluster.id });
      }
    })());
  stopping = (e) => {
    // The outbox has stopped (nothing after the failed write goes out): cut the sockets. Clients
    // resume (1006 is resumable) once this server, or another node, is back.
    for (const c of hub.conns) c.peer.terminate();
    void close().catch(() => {});
    void e;
  };

  return { url, host, port, storage, hub, node: cluster?.id ?? null, close, failed };
}
