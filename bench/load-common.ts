// Shared by the load benchmark's processes (bench/load.ts, bench/soak.ts and
// their children bench/load-server.ts and bench/load-client.ts): the messages
// they exchange over the Node IPC channel, percentiles, and /proc readings.

import { readFileSync } from "node:fs";

/** What the server child runs: the Faultline server, or the bare `ws` fan-out floor. */
export type ServerKind = "game" | "floor";

/** The level every load room plays (3 CPUs and a DMA device; see bench/load-client.ts). */
export const LOAD_LEVEL = "r5-six-steps";
export const ROOM_SIZE = 4;
/** Actions per member per second (the "each stepping twice a second"). */
export const STEPS_PER_MEMBER_PER_SECOND = 2;

// ---------------------------------------------------------------- orchestrator <-> server child

export type ToServer = { type: "mem" } | { type: "lag"; reset: boolean } | { type: "stop" };
export type FromServer =
  | { type: "listening"; url: string; note: string }
  /** The server's event-loop delay (ms beyond the monitor's resolution) since the last reset. */
  | { type: "lag"; p50: number; p99: number; max: number }
  | { type: "mem"; rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; cpuUserUs: number; cpuSystemUs: number };

// ---------------------------------------------------------------- orchestrator <-> load client

export interface PlayConfig {
  warmupS: number;
  measureS: number;
  /** Report a window summary every this many seconds (the soak), or 0 for one window. */
  intervalS: number;
}

export type ToClient =
  | { type: "connect"; url: string; clients: number }
  | { type: "rooms" }
  | ({ type: "play" } & PlayConfig)
  | { type: "quit" };

export interface Summary {
  /** Actions whose every room member had the new state in the window. */
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** monitorEventLoopDelay records the whole interval between its timer's runs: the delay is what exceeds the resolution. */
export const LOOP_RESOLUTION_MS = 2;

export interface Window {
  /** Seconds since the measurement started, at the end of this window. */
  t: number;
  seconds: number;
  actionsPerSecond: number;
  /** Step sent -> every member has the update (from its tick when it was held back behind the room's previous action). */
  all: Summary;
  /** Sender's step -> its ack. */
  ack: Summary;
  errors: Record<string, number>;
  /** Actions sent late because the room's previous action had not completed by its tick. */
  late: number;
  /** `state` snapshots received instead of updates (the server skipped a slow reader). */
  resyncs: number;
  /** The generator's own event-loop delay (ms): it adds to every latency it measures. */
  loopDelayP99: number;
  loopDelayMax: number;
  retries: number;
  meanUpdateBytes: number;
}

export type FromClient =
  | { type: "connected"; clients: number; ms: number }
  | { type: "seated"; rooms: number; ms: number }
  | { type: "measure-start" }
  | { type: "measure-end" }
  | { type: "window"; window: Window }
  | { type: "result"; window: Window; unfinished: number }
  | { type: "fatal"; message: string };

// ---------------------------------------------------------------- numbers

export function summarize(xs: Float64Array | number[], n = xs.length): Summary {
  if (n === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = Float64Array.from(xs.slice(0, n)).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  const at = (p: number) => s[Math.min(n - 1, Math.floor(p * n))];
  return { count: n, p50: at(0.5), p99: at(0.99), max: s[n - 1], mean: sum / n };
}

/** A growable array of doubles (latency samples) without boxing. */
export class Samples {
  private buf = new Float64Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = x;
  }
  summary(): Summary {
    return summarize(this.buf, this.length);
  }
  clear(): void {
    this.length = 0;
  }
  /** Append every sample of `other`. */
  addAll(other: Samples): void {
    for (let i = 0; i < other.length; i++) this.push(other.buf[i]);
  }
}

// ---------------------------------------------------------------- /proc

const CLK_TCK = 100; // getconf CLK_TCK on Linux (x86-64 and arm64)

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Resident set size and its peak (bytes), from /proc/PID/status. */
export function procRss(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

export const mib = (b: number) => b / (1024 * 1024);
export const kib = (b: number) => b / 1024;

// ---------------------------------------------------------------- the generators' shared wire code

/** The waiter key of the welcome (hello carries no rid). */
export const WELCOME = -1;
/** Updates are recognised by their first bytes, before any parse. */
export const UPDATE_PREFIX = Buffer.from('{"type":"update","seq":');

/** The decimal integer at b[at...] (an update's seq, read without parsing the frame). */
export function readInt(b: Buffer, at: number): number {
  let n = 0;
  for (let i = at; i < b.length; i++) {
    const c = b[i];
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

/** A connection of a load generator that matches replies to requests by rid. */
export interface Requester<M> {
  ws: { send(data: string): void };
  rid: number;
  waiters: Map<number, (m: M) => void>;
}

/** Send `body` with a fresh rid (or as the hello, key WELCOME) and resolve with the reply, rejecting on an error. */
export function request<M extends { type: string; code?: string; message?: string }>(m: Requester<M>, body: Record<string, unknown>, key?: number): Promise<M> {
  return new Promise((resolve, reject) => {
    const rid = key ?? m.rid++;
    const timer = setTimeout(() => reject(new Error(`no answer to ${String(body.type)} in 30 s`)), 30_000);
    m.waiters.set(rid, (msg) => {
      clearTimeout(timer);
      if (msg.type === "error") reject(new Error(`${String(body.type)}: ${msg.code} ${msg.message}`));
      else resolve(msg);
    });
    m.ws.send(JSON.stringify(key === WELCOME ? body : { ...body, rid }));
  });
}
