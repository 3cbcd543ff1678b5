// Runs one load measurement: a server child (the Faultline server or the bare
// ws floor) and a load-generator child, both forked from here so this process
// only coordinates and reads /proc. Used by bench/load.ts and bench/soak.ts.

import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { procCpuSeconds, procRss, type FromClient, type FromServer, type ServerKind, type ToClient, type ToServer, type Window } from "./load-common.js";
import { SERVER_SEMI_SPACE_MIB } from "../src/cli/serve.js";

const here = dirname(fileURLToPath(import.meta.url));

type Any = { type: string };

/** A forked child and the messages it sent that nobody has taken yet. */
export class Child<In extends Any, Out extends Any> {
  private queue: Out[] = [];
  private waiters: { type: string; resolve: (m: Out) => void; reject: (e: Error) => void }[] = [];
  readonly exited: Promise<number | null>;
  /** Every message of this type is also given here as it comes (windows of the soak). */
  onMessage: ((m: Out) => void) | null = null;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on("message", (m: Out) => {
      this.onMessage?.(m);
      if (m.type === "fatal") return this.failAll(new Error(`${name}: ${(m as unknown as { message: string }).message}`));
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
      else this.queue.push(m);
    });
    this.exited = new Promise((resolve) =>
      proc.on("exit", (code) => {
        this.failAll(new Error(`${name} exited (${code})`));
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  send(m: In): void {
    this.proc.send(m);
  }

  next<T extends Out["type"]>(type: T, timeoutMs = 600_000): Promise<Extract<Out, { type: T }>> {
    const i = this.queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as Extract<Out, { type: T }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${type} within ${timeoutMs / 1000} s`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (m) => (clearTimeout(timer), resolve(m as Extract<Out, { type: T }>)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  private failAll(e: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(e);
  }

  async stop(msg: In | null, timeoutMs = 15_000): Promise<void> {
    if (this.proc.exitCode !== null) return;
    if (msg) this.send(msg);
    const t = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(t);
  }
}

export type ServerChild = Child<ToServer, FromServer>;
export type ClientChild = Child<ToClient, FromClient>;

export function forkServer(kind: ServerKind, opts: { storage: string; updateBytes?: number; profileDir?: string; args?: string[] }): ServerChild {
  // The heap faultline serve gives its server (src/cli/serve.ts runs it on a worker with this
  // semi-space; a flag here does the same for a whole process). The floor gets the same heap.
  const execArgv = ["--expose-gc", `--max-semi-space-size=${SERVER_SEMI_SPACE_MIB}`];
  // Extra node flags for the server child, for investigation (e.g. --trace-gc).
  if (process.env.FAULTLINE_LOAD_SERVER_ARGS) execArgv.push(...process.env.FAULTLINE_LOAD_SERVER_ARGS.split(" ").filter(Boolean));
  if (opts.profileDir) execArgv.push("--cpu-prof", `--cpu-prof-dir=${opts.profileDir}`);
  const args = ["--kind", kind, "--storage", opts.storage, "--update-bytes", String(Math.round(opts.updateBytes ?? 3400)), ...(opts.args ?? [])];
  return new Child(`${kind} server`, fork(join(here, "load-server.js"), args, { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] }));
}

/** `label` names the generator's trace file when FAULTLINE_LOAD_TRACE is set (see bench/load-client.ts). */
export function forkClient(label: string): ClientChild {
  const base = process.env.FAULTLINE_LOAD_TRACE;
  const env = base ? { ...process.env, FAULTLINE_LOAD_TRACE: `${base}-${label}.txt` } : process.env;
  return new Child("load generator", fork(join(here, "load-client.js"), [], { execArgv: [], env, stdio: ["ignore", "inherit", "inherit", "ipc"] }));
}

export interface Mem {
  /** From /proc/PID/status. */
  rss: number;
  /** After a full GC, from process.memoryUsage() in the server. */
  heapUsed: number;
  external: number;
  /** process.memoryUsage().rss right after that GC. */
  rssAfterGc: number;
}

export async function memOf(server: ServerChild): Promise<Mem> {
  server.send({ type: "mem" });
  const m = await server.next("mem");
  return { rss: procRss(server.pid).rss, heapUsed: m.heapUsed, external: m.external, rssAfterGc: m.rss };
}

export interface RssSample {
  t: number;
  server: number;
  generator: number;
}

export interface RunResult {
  kind: ServerKind;
  clients: number;
  rooms: number;
  note: string;
  connectMs: number;
  seatMs: number;
  window: Window;
  unfinished: number;
  /** CPU use over the measured window, as a % of one core. */
  serverCpu: number;
  generatorCpu: number;
  serverRss: number;
  serverRssPeak: number;
  /** RSS of the server and the generator through the window (bytes; t in seconds from its start). */
  rssSamples: RssSample[];
  /** The server's own event-loop delay over the window (ms). */
  serverLag: { p50: number; p99: number; max: number };
  mem: { start: Mem; connected: Mem; seated: Mem; played: Mem };
}

export interface LoadOptions {
  clients: number;
  warmupS: number;
  measureS: number;
  intervalS: number;
  storage: string;
  updateBytes?: number;
  profileDir?: string;
  /** How often to read the RSS of both children during the window (default 1 s). */
  sampleEveryS?: number;
  /** Pin the server to CPU 0 and the generator to CPU 1 (taskset), instead of letting the scheduler share both. */
  pin?: boolean;
  onWindow?: (w: Window, server: ServerChild) => void;
  log: (line: string) => void;
}

/** One server child, one generator child, one measured window. Both children are stopped before it returns. */
export async function runLoad(kind: ServerKind, o: LoadOptions): Promise<RunResult> {
  const server = forkServer(kind, o);
  const client = forkClient(`${kind}-${o.clients}`);
  try {
    if (o.pin) {
      execFileSync("taskset", ["-a", "-p", "-c", "0", String(server.pid)], { stdio: "ignore" });
      execFileSync("taskset", ["-a", "-p", "-c", "1", String(client.pid)], { stdio: "ignore" });
    }
    const { url, note } = await server.next("listening", 30_000);
    const start = await memOf(server);
    client.send({ type: "connect", url, clients: o.clients });
    const c = await client.next("connected", 120_000);
    const connected = await memOf(server);
    client.send({ type: "rooms" });
    const s = await client.next("seated", 120_000);
    const seated = await memOf(server);
    o.log(`  ${kind}: ${c.clients} clients connected in ${(c.ms / 1000).toFixed(1)} s, ${s.rooms} rooms seated in ${(s.ms / 1000).toFixed(1)} s; warming up ${o.warmupS} s, measuring ${o.measureS} s`);
    if (o.onWindow) client.onMessage = (m) => m.type === "window" && o.onWindow?.(m.window, server);
    client.send({ type: "play", warmupS: o.warmupS, measureS: o.measureS, intervalS: o.intervalS });
    await client.next("measure-start", (o.warmupS + 60) * 1000);
    server.send({ type: "lag", reset: true });
    await server.next("lag");
    const t0 = performance.now();
    const s0 = procCpuSeconds(server.pid);
    const g0 = procCpuSeconds(client.pid);
    const rssSamples: RssSample[] = [];
    const sample = () => rssSamples.push({ t: (performance.now() - t0) / 1000, server: procRss(server.pid).rss, generator: procRss(client.pid).rss });
    sample();
    const sampler = setInterval(sample, (o.sampleEveryS ?? 1) * 1000);
    await client.next("measure-end", (o.measureS + 60) * 1000).finally(() => clearInterval(sampler));
    sample();
    const secs = (performance.now() - t0) / 1000;
    const serverCpu = ((procCpuSeconds(server.pid) - s0) / secs) * 100;
    const generatorCpu = ((procCpuSeconds(client.pid) - g0) / secs) * 100;
    const rss = procRss(server.pid);
    server.send({ type: "lag", reset: false });
    const lag = await server.next("lag");
    const r = await client.next("result", 60_000);
    const played = await memOf(server);
    return {
      kind,
      clients: c.clients,
      rooms: s.rooms,
      note,
      connectMs: c.ms,
      seatMs: s.ms,
      window: r.window,
      unfinished: r.unfinished,
      serverCpu,
      generatorCpu,
      serverRss: rss.rss,
      serverRssPeak: rss.hwm,
      rssSamples,
      serverLag: { p50: lag.p50, p99: lag.p99, max: lag.max },
      mem: { start, connected, seated, played },
    };
  } finally {
    await client.stop({ type: "quit" });
    await server.stop({ type: "stop" });
  }
}

/**
 * The investigation switches set in the environment (see bench/load.ts). RESET_EVERY and
 * WAL_CHECKPOINT change the workload or the server, and SERVER_ARGS the server's node flags:
 * results measured with any of them are not the benchmark's figures.
 */
export function investigation(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["FAULTLINE_LOAD_RESET_EVERY", "FAULTLINE_LOAD_WAL_CHECKPOINT", "FAULTLINE_LOAD_SERVER_ARGS", "FAULTLINE_LOAD_STALLS"]) {
    const v = process.env[k];
    if (v) out[k] = v;
  }
  return out;
}

/** Say loudly when the run is not the benchmark as documented. */
export function warnInvestigation(): void {
  const inv = investigation();
  if (Object.keys(inv).length === 0) return;
  const list = Object.entries(inv).map(([k, v]) => `${k}=${v}`).join(" ");
  console.log(`NOT THE BENCHMARK'S FIGURES: investigation settings in effect (${list}); the results file records them.`);
}

export function machine() {
  const c = cpus();
  return { cores: c.length, cpu: c[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` };
}
