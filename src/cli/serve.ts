// `faultline serve`: the multiplayer server until SIGINT or SIGTERM.
//
// The server runs on a worker thread so that it can have its own V8 heap
// settings without a second process (a kill -9 of this process still kills the
// server, and supervisors see one PID). Why the settings: at a workshop's rate
// (1,000 clients stepping twice a second, bench/load.ts) each step leaves
// medium-lived objects (the machine, its trace entry, the update), and with
// V8's default young generation the scavenges that copy them came often enough
// to set the 99th-percentile latency. A larger semi-space makes them rarer; the
// measured cost and gain are in README ("Performance"). A user who sets the heap
// flags themselves (NODE_OPTIONS or node's own arguments) gets the server on the
// main thread with their settings.

import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { parseTrustProxy } from "../../server/address.js";
import { startServer, StorageOpenError } from "../../server/index.js";
import { loadLevelsDir } from "../level/custom.js";
import { LevelError, loadCampaign, type Level } from "../level/load.js";
import { redactUrl } from "../../server/url.js";
import { defaultDbPath, postgresUrl } from "./db.js";
import { parse, UsageError } from "./usage.js";

export const DEFAULT_PORT = 7373;
/** V8's semi-space for the server's heap, in MiB (its young generation is three of them). */
export const SERVER_SEMI_SPACE_MIB = 32;
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

interface ServeOptions {
  port: number;
  host: string;
  db: string;
  /** Reverse proxies whose X-Forwarded-For is believed (--trust-proxy, else $FAULTLINE_TRUST_PROXY). */
  trustProxy: string[];
  /** A folder of custom level files offered after the campaign (--levels). */
  levels?: string;
  /** PostgreSQL instead of SQLite (--postgres URL, else $FAULTLINE_POSTGRES). */
  postgres?: string;
  /** The PostgreSQL schema (--schema; default faultline). */
  schema?: string;
  /** --synchronous-commit on|off (default on). */
  synchronousCommit?: boolean;
  /** One node of several (--redis URL, else $FAULTLINE_REDIS), with its prefix, lease and id. */
  redis?: string;
  cluster?: { prefix?: string; leaseMs?: number; nodeId?: string };
}

type FromWorker = { kind: "usage"; message: string } | { kind: "fatal"; message: string };

export async function cmdServe(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: "string" }, db: { type: "string" }, host: { type: "string" }, "trust-proxy": { type: "string" }, levels: { type: "string" }, postgres: { type: "string" }, schema: { type: "string" }, redis: { type: "string" }, "synchronous-commit": { type: "string" }, "redis-prefix": { type: "string" }, "lease-ms": { type: "string" }, node: { type: "string" } }, false);
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`bad --port "${values.port}": expected 0-65535 (0 picks a free port)`);
  const flag = values["trust-proxy"];
  const [source, list] = flag !== undefined ? ["--trust-proxy", flag] : ["FAULTLINE_TRUST_PROXY", process.env.FAULTLINE_TRUST_PROXY ?? ""];
  let trustProxy: string[];
  try {
    trustProxy = parseTrustProxy(list);
  } catch (e) {
    throw new UsageError(`bad ${source}: ${(e as Error).message} (expected proxy addresses, e.g. 127.0.0.1,10.0.0.0/8)`);
  }
  const postgres = postgresUrl(values.postgres, values.db);
  const opts: ServeOptions = { port, host: values.host ?? "127.0.0.1", db: values.db ?? defaultDbPath(), trustProxy, ...(values.levels !== undefined ? { levels: values.levels } : {}), ...(postgres ? { postgres } : {}), ...(values.schema !== undefined ? { schema: values.schema } : {}) };
  if (values.schema !== undefined && !postgres) throw new UsageError("--schema names a PostgreSQL schema: it goes with --postgres URL");
  const sc = values["synchronous-commit"];
  if (sc !== undefined) {
    if (!postgres) throw new UsageError("--synchronous-commit is PostgreSQL's: it goes with --postgres URL");
    if (sc !== "on" && sc !== "off") throw new UsageError(`bad --synchronous-commit "${sc}": on or off`);
    opts.synchronousCommit = sc === "on";
  }
  const redis = values.redis ?? (process.env.FAULTLINE_REDIS || undefined);
  if (redis !== undefined) {
    if (!/^rediss?:\/\//.test(redis)) throw new UsageError(`bad ${values.redis !== undefined ? "--redis" : "FAULTLINE_REDIS"} "${redis}": expected a URL like redis://HOST:6379`);
    if (!postgres) throw new UsageError("a node of several keeps everything in PostgreSQL: give --postgres URL (or FAULTLINE_POSTGRES) with --redis");
    const leaseMs = values["lease-ms"] === undefined ? undefined : Number(values["lease-ms"]);
    if (leaseMs !== undefined && (!Number.isInteger(leaseMs) || leaseMs < 100)) throw new UsageError(`bad --lease-ms "${values["lease-ms"]}": expected a whole number of milliseconds, at least 100`);
    if (values.node !== undefined && !/^[A-Za-z0-9_-]{1,40}$/.test(values.node)) throw new UsageError(`bad --node "${values.node}": letters, digits, - and _ (at most 40)`);
    opts.redis = redis;
    opts.cluster = { ...(values["redis-prefix"] !== undefined ? { prefix: values["redis-prefix"] } : {}), ...(leaseMs !== undefined ? { leaseMs } : {}), ...(values.node !== undefined ? { nodeId: values.node } : {}) };
  } else if (values["redis-prefix"] !== undefined || values["lease-ms"] !== undefined || values.node !== undefined) {
    throw new UsageError("--redis-prefix, --lease-ms and --node go with --redis URL");
  }
  if (heapSetByUser()) return serve(opts, signalled());
  return serveOnWorker(opts);
}

function heapSetByUser(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  return flags.some((f) => /^--max-(semi-space|young-generation)-size/.test(f));
}

/** Resolves at the first SIGINT or SIGTERM (a second one then ends the process as usual). */
function signalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

function serveOnWorker(opts: ServeOptions): Promise<number> {
  const w = new Worker(new URL(import.meta.url), {
    workerData: { faultlineServe: opts },
    resourceLimits: { maxYoungGenerationSizeMb: 3 * SERVER_SEMI_SPACE_MIB },
  });
  void signalled().then(() => w.postMessage("stop"));
  return new Promise<number>((resolve, reject) => {
    let usage: string | null = null;
    let fatal: string | null = null;
    w.on("message", (m: FromWorker) => {
      if (m.kind === "usage") usage = m.message;
      else fatal = m.message;
    });
    // An error crossing the thread boundary may arrive as a plain object: keep its message and stack.
    w.on("error", (e: unknown) => reject(e instanceof Error ? e : new Error(fatal ?? describe(e))));
    w.on("exit", (code) => (usage !== null ? reject(new UsageError(usage)) : fatal !== null ? reject(new Error(fatal)) : resolve(code)));
  });
}

async function serve(opts: ServeOptions, stopped: Promise<void>): Promise<number> {
  const { port, host, db, trustProxy, postgres, schema, redis, synchronousCommit } = opts;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const levels = opts.levels === undefined ? undefined : customLevels(opts.levels, log);
  let server;
  try {
    server = await startServer({ port, host, ...(postgres ? { postgres, ...(schema !== undefined ? { postgresSchema: schema } : {}), ...(synchronousCommit !== undefined ? { postgresSynchronousCommit: synchronousCommit } : {}) } : { db }), ...(redis ? { redis, cluster: opts.cluster ?? {} } : {}), trustProxy, ...(levels ? { levels } : {}), log: (line) => (line.startsWith("faultline: serving") ? undefined : log(`faultline: ${line}`)) });
  } catch (e) {
    // The database: its path and what is wrong with it (read-only, damaged, not a database, a newer schema).
    if (e instanceof StorageOpenError) throw new UsageError(e.message);
    const { code, syscall } = e as { code?: string; syscall?: string };
    // The database's directory or file (mkdir, open): say which file, not a stack.
    if (syscall === "mkdir" || code === "SQLITE_CANTOPEN") throw new UsageError(`cannot open the database ${db}: ${(e as Error).message}`);
    if (code === "EADDRINUSE") throw new UsageError(`port ${port} is in use on ${host} (try --port 0 for a free one)`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`cannot listen on --host ${host}: no such local address`);
    if (code === "EACCES") throw new UsageError(`not allowed to listen on ${host}:${port}`);
    throw e;
  }
  const where = postgres ? `PostgreSQL ${redactUrl(postgres)}, schema ${schema ?? "faultline"}` : db;
  process.stdout.write(`faultline: serving on ${server.url} (database ${where}${server.node ? `; node ${server.node} of the service on Redis ${redactUrl(redis!)}` : ""})\n`);
  if (trustProxy.length > 0) {
    log(`faultline: clients are counted by the X-Forwarded-For of connections from ${trustProxy.join(", ")} (trusted proxies)`);
  }
  if (!LOOPBACK.has(host)) {
    log(`faultline: listening on ${host}, reachable from other machines; traffic is not encrypted (put a TLS proxy in front for wss://)`);
  }
  const failed = await Promise.race([stopped.then(() => null), server.failed]);
  if (failed) {
    // The database refused a write: stop (nothing after it was acknowledged); a supervisor restarts us.
    log(`faultline: stopped: the database could not commit a write (${failed.message})`);
    return 70;
  }
  await server.close();
  log("faultline: server stopped; rooms and results are saved");
  return 0;
}

/** The campaign and the level files of --levels DIR that load and verify; the others are named on stderr and skipped. */
export function customLevels(dir: string, log: (line: string) => void): Level[] {
  const campaign = loadCampaign();
  let found;
  try {
    found = loadLevelsDir(dir, campaign.map((l) => l.id));
  } catch (e) {
    if (e instanceof LevelError) throw new UsageError(e.message);
    throw e;
  }
  for (const s of found.skipped) log(`faultline: skipped ${s.file}: ${s.problems.join("; ")}`);
  log(`faultline: ${found.levels.length} custom level${found.levels.length === 1 ? "" : "s"} from ${dir}${found.levels.length ? `: ${found.levels.map((l) => l.id).join(", ")}` : ""}${found.skipped.length ? ` (${found.skipped.length} skipped)` : ""}`);
  return [...campaign, ...found.levels];
}

// The worker: serve until the main thread says stop, then end with serve()'s exit code.
const job = isMainThread ? undefined : (workerData as { faultlineServe?: ServeOptions } | null)?.faultlineServe;
if (job && parentPort) {
  const port = parentPort;
  const stopped = new Promise<void>((resolve) => port.once("message", () => resolve()));
  serve(job, stopped).then(
    (code) => {
      process.exitCode = code;
      port.close();
    },
    (e: unknown) => {
      if (!(e instanceof UsageError)) {
        port.postMessage({ kind: "fatal", message: e instanceof Error ? (e.stack ?? e.message) : describe(e) } satisfies FromWorker);
        process.exitCode = 70;
        port.close();
        return;
      }
      port.postMessage({ kind: "usage", message: e.message } satisfies FromWorker);
      process.exitCode = 2;
      port.close();
    },
  );
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.stack ?? e.message;
  if (typeof e === "object" && e !== null) {
    const o = e as { message?: unknown; stack?: unknown };
    if (typeof o.stack === "string") return o.stack;
    if (typeof o.message === "string") return o.message;
    try {
      return JSON.stringify(e);
    } catch {
      // fall through
    }
  }
  return String(e);
}
