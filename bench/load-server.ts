// The server child of the load benchmark (forked by bench/load.ts and
// bench/soak.ts, never run by hand): either the Faultline server, configured so
// the benchmark's own load is allowed, or the bare ws floor (bench/floor.ts).
// It talks to its parent over the IPC channel: "listening" once up, "mem" on
// request (after a full GC when node runs with --expose-gc), and exits on
// "stop" (so --cpu-prof writes its profile).
//
//   node dist/bench/load-server.js --kind game|floor [--storage sqlite|memory] [--update-bytes N]
//   node dist/bench/load-server.js --kind game --storage cluster --postgres URL --schema S --redis URL --prefix P
//     (one node of several, for bench/cluster.ts)

import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Limits } from "../server/index.js";
import { LOOP_RESOLUTION_MS, type FromServer, type ToServer } from "./load-common.js";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/**
 * The limits the load needs. Every client connects from 127.0.0.1, so the
 * per-address join limit (30 a minute, bursts of 10) would refuse all but the
 * first rooms: it is raised. The per-connection message rate (20 a second,
 * bursts of 40) is left at its default: the load sends at most 8 a second on
 * any one connection. maxConnections (2000) and maxRooms (2000) already fit.
 */
export const LOAD_LIMITS: Partial<Limits> = { admissionsPerMinute: 1_000_000, admissionBurst: 1_000_000, roomsPerMinute: 1_000_000, roomBurst: 1_000_000 };

const send = (m: FromServer) => process.send?.(m);

async function main() {
  const kind = arg("kind", "game");
  const storageKind = arg("storage", "sqlite");
  let close: () => Promise<void>;
  let dir: string | null = null;
  if (kind === "floor") {
    // Imported only here (and the server only below), so each child loads only what it runs.
    const { startFloor } = await import("./floor.js");
    const floor = await startFloor({ host: "127.0.0.1", port: 0, updateBytes: Number(arg("update-bytes", "3400")) });
    close = floor.close;
    send({ type: "listening", url: floor.url, note: "bare ws fan-out: JSON.parse each action, ack, one update to every member; no validation, game or storage" });
  } else {
    let db: string | undefined;
    if (storageKind === "sqlite") {
      dir = mkdtempSync(join(tmpdir(), "faultline-load-"));
      db = join(dir, "load.db");
    }
    const { startServer } = await import("../server/index.js");
    const cluster = storageKind === "cluster"
      ? { postgres: arg("postgres", ""), postgresSchema: arg("schema", "faultline"), postgresSynchronousCommit: arg("synchronous-commit", "on") === "on", redis: arg("redis", ""), cluster: { prefix: arg("prefix", "faultline:") } }
      : { db };
    const server = await startServer({ port: 0, host: "127.0.0.1", ...cluster, limits: LOAD_LIMITS });
    close = server.close;
    // Investigation only: FAULTLINE_LOAD_WAL_CHECKPOINT=PAGES sets SQLite's wal_autocheckpoint (default WAL_AUTOCHECKPOINT_PAGES, 4000).
    const walPages = process.env.FAULTLINE_LOAD_WAL_CHECKPOINT;
    if (walPages && "db" in server.storage) (server.storage as import("../server/index.js").SqliteStorage).db.pragma(`wal_autocheckpoint = ${Number(walPages)}`);
    if (process.env.FAULTLINE_LOAD_STALLS) timeHandlers(server.hub, `${process.env.FAULTLINE_LOAD_STALLS}-handlers.txt`);
    send({
      type: "listening",
      url: server.url,
      note: `faultline server, ${storageKind === "sqlite" ? "SQLite (WAL, synchronous=NORMAL, checkpoints on a worker thread) in a temp file" : storageKind === "cluster" ? `node ${server.node} of several on PostgreSQL (synchronous_commit ${arg("synchronous-commit", "on")}) and Redis` : "in-memory storage"}; limits: admissionsPerMinute, admissionBurst, roomsPerMinute and roomBurst raised to 1,000,000 (every client is 127.0.0.1), message rate left at the default 20/s, bursts of 40; V8 semi-space ${semiSpaceMib()} MiB (as faultline serve)`,
    });
  }
  if (process.env.FAULTLINE_LOAD_STALLS) logStalls(`${process.env.FAULTLINE_LOAD_STALLS}-${kind}.txt`);
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  process.on("message", (m: ToServer) => {
    if (m.type === "lag") {
      send({ type: "lag", p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) });
      if (m.reset) loop.reset();
    } else if (m.type === "mem") {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) {
        gc();
        gc();
      }
      const u = process.memoryUsage();
      const c = process.cpuUsage();
      send({ type: "mem", rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, cpuUserUs: c.user, cpuSystemUs: c.system });
    } else if (m.type === "stop") {
      void close().finally(() => {
        if (dir) rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  // The parent went away: do not linger.
  process.on("disconnect", () => process.exit(0));
}

/** Investigation: how long each incoming frame and each storage transaction takes on the server's thread. */
function timeHandlers(hub: import("../server/hub.js").Hub, file: string): void {
  const times = { message: [] as number[], transaction: [] as number[] };
  const message = hub.message.bind(hub);
  hub.message = (conn, data) => {
    const t = performance.now();
    message(conn, data);
    times.message.push(performance.now() - t);
  };
  const storage = hub.storage;
  const transaction = storage.transaction.bind(storage);
  storage.transaction = <T>(f: () => T): T => {
    const t = performance.now();
    try {
      return transaction(f);
    } finally {
      times.transaction.push(performance.now() - t);
    }
  };
  process.on("exit", () => {
    const out = Object.entries(times).map(([k, xs]) => {
      const s = Float64Array.from(xs).sort();
      const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]?.toFixed(3);
      const sum = xs.reduce((a, b) => a + b, 0);
      return `${k}: n ${xs.length} sum ${sum.toFixed(0)} ms mean ${(sum / xs.length).toFixed(3)} p50 ${at(0.5)} p99 ${at(0.99)} p999 ${at(0.999)} max ${s[s.length - 1]?.toFixed(1)} over5ms ${xs.filter((x) => x > 5).length}`;
    });
    writeFileSync(file, out.join("\n") + "\n");
  });
}

/**
 * FAULTLINE_LOAD_STALLS=FILE (investigation): every event-loop stall over 4 ms and
 * every GC pause, with times since the server started, written when it stops.
 */
function logStalls(file: string): void {
  const lines: string[] = [];
  const t0 = performance.now();
  let last = t0;
  setInterval(() => {
    const now = performance.now();
    if (now - last > 5) lines.push(`${(last - t0).toFixed(1)} stall ${(now - last - 1).toFixed(1)}`);
    last = now;
  }, 1).unref();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      lines.push(`${(e.startTime - t0).toFixed(1)} gc${kind} ${e.duration.toFixed(1)}`);
    }
  }).observe({ entryTypes: ["gc"] });
  process.on("exit", () => writeFileSync(file, lines.join("\n") + "\n"));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

/** The semi-space this process runs with (from its flags), as faultline serve sets it for its server. */
function semiSpaceMib(): string {
  const f = process.execArgv.filter((a) => a.startsWith("--max-semi-space-size=")).pop();
  return f ? f.split("=")[1] : "default";
}
