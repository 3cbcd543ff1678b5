// The solver pool: every room on the same level and knob setting plays on the
// same state graph, so each setting is solved once, in worker threads, and
// shared. A setting is keyed by the level's whole content and the simulator's
// version, so an edited level is never served a stale graph.
//
// A room asks get(); the first ask queues the solve. While it runs the room
// waits (its bot does not move; its status says the adversary is thinking), and
// nothing runs on the server's thread. A setting over the state budget, or past
// the deadline, is marked too big: its rooms' bots play eagerly and say so.
//
// No disk cache: solving the whole campaign takes about 1.5 s of one core
// (bench/solver.json), less than reading it back would save on a start.

import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { KnobSetting } from "../../src/level/compile.js";
import type { Level } from "../../src/level/load.js";
import type { OracleTable } from "../../src/game/solved.js";
import { SIM_VERSION, type Solved } from "../../src/sim/solve.js";

export interface SolveJob {
  id: number;
  level: Level;
  knobs: KnobSetting;
  maxStates: number;
  /** Also label the goal states and build each oracle's preemption table (the sandbox's explorer). */
  explain: boolean;
}

export type SolverReply = { id: number; progress: number } | { id: number; solved: Solved; par: number | null; reach: OracleTable[] | null } | { id: number; error: string };

export type SolveState =
  | { state: "solving"; states: number }
  /** `reach`: with `explain`, the preemption table of every goal oracle some road reaches (else null). */
  | { state: "ready"; solved: Solved; par: number | null; reach: OracleTable[] | null; ms: number }
  | { state: "too-big"; reason: string };

/** What a setting is solved for: `explain` (the sandbox's per-oracle answers) and a tighter state budget. */
export interface SolveWants {
  explain?: boolean;
  maxStates?: number;
}

export interface SolverOptions {
  /** Worker threads (default: the cores less one, at least one). */
  threads?: number;
  /** States a setting may have before it is too big (default 1,000,000). */
  maxStates?: number;
  /** How long one setting may take (default 60 s). */
  deadlineMs?: number;
  /** Settings kept (default 256; the least recently used go first). */
  maxEntries?: number;
  /**
   * Bytes of solved games kept (default 512 MiB; the least recently used go first). Sandbox
   * scenarios are each their own setting, so this, not the count, bounds their memory.
   */
  maxBytes?: number;
}

export class SolveEntry {
  status: SolveState = { state: "solving", states: 0 };
  /** The solved game's arrays, once ready (what maxBytes counts). */
  bytes = 0;
  private waiting: (() => void)[] = [];
  constructor(
    readonly key: string,
    readonly level: Level,
    readonly knobs: KnobSetting,
  ) {}

  /** Call `f` once the setting is solved or given up on (at once if it already is). */
  whenDone(f: () => void): void {
    if (this.status.state === "solving") this.waiting.push(f);
    else f();
  }

  settle(status: SolveState): void {
    this.status = status;
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }
}

// A loaded level is not changed in place (an edited file is a new Level), so its digest is taken once.
const digests = new WeakMap<Level, string>();
const keys = new WeakMap<Level, WeakMap<KnobSetting, string>>();
function contentOf(level: Level): string {
  let d = digests.get(level);
  if (d === undefined) digests.set(level, (d = createHash("sha256").update(JSON.stringify(level)).digest("base64url").slice(0, 22)));
  return d;
}

/** The compiled worker: beside this file when running from dist/, else the build's copy (tests run the TypeScript). */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return join(dirname(here), "worker.js");
  return join(dirname(here), "..", "..", "dist", "server", "solver", "worker.js");
}

interface Slot {
  worker: Worker;
  job: { job: SolveJob; entry: SolveEntry; started: number; timer: NodeJS.Timeout } | null;
}

export class SolverPool {
  private readonly entries = new Map<string, SolveEntry>();
  private readonly queue: { job: SolveJob; entry: SolveEntry }[] = [];
  private readonly slots: Slot[] = [];
  private readonly threads: number;
  private readonly maxStates: number;
  private readonly deadlineMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private bytes = 0;
  private nextId = 1;
  private closed = false;

  constructor(opts: SolverOptions = {}, private readonly log: (line: string) => void = () => {}) {
    this.threads = Math.max(1, opts.threads ?? availableParallelism() - 1);
    this.maxStates = opts.maxStates ?? 1_000_000;
    this.deadlineMs = opts.deadlineMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 256;
    this.maxBytes = opts.maxBytes ?? 512 * 1024 * 1024;
  }

  static key(level: Level, knobs: KnobSetting, wants: SolveWants = {}): string {
    // A room asks on every bot move and update: the key is built once per level and knob setting object.
    let byKnobs = keys.get(level);
    if (!byKnobs) keys.set(level, (byKnobs = new WeakMap()));
    let k = byKnobs.get(knobs);
    if (k === undefined) byKnobs.set(knobs, (k = `${SIM_VERSION}:${level.id}:${contentOf(level)}:${JSON.stringify(Object.entries(knobs).sort())}`));
    return wants.explain || wants.maxStates !== undefined ? `${k}:${wants.explain ? "explain" : ""}:${wants.maxStates ?? ""}` : k;
  }

  /** The setting's entry; the first ask starts solving it. */
  get(level: Level, knobs: KnobSetting, wants: SolveWants = {}): SolveEntry {
    const key = SolverPool.key(level, knobs, wants);
    let e = this.entries.get(key);
    if (e) {
      // Most recently used last: eviction takes the first.
      this.entries.delete(key);
      this.entries.set(key, e);
      return e;
    }
    e = new SolveEntry(key, level, knobs);
    this.entries.set(key, e);
    this.evict();
    if (this.closed) e.settle({ state: "too-big", reason: "the server is shutting down" });
    else {
      const maxStates = Math.min(this.maxStates, wants.maxStates ?? Infinity);
      this.queue.push({ job: { id: this.nextId++, level, knobs, maxStates, explain: wants.explain === true }, entry: e });
      this.pump();
    }
    return e;
  }

  /** Settings solving or queued, and settled; `bytes`: the solved games kept. */
  stats(): { solving: number; ready: number; tooBig: number; bytes: number } {
    let solving = 0;
    let ready = 0;
    let tooBig = 0;
    for (const e of this.entries.values()) {
      if (e.status.state === "solving") solving++;
      else if (e.status.state === "ready") ready++;
      else tooBig++;
    }
    return { solving, ready, tooBig, bytes: this.bytes };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.entry.settle({ state: "too-big", reason: "the server is shutting down" });
    await Promise.all(
      this.slots.splice(0).map((s) => {
        if (s.job) {
          clearTimeout(s.job.timer);
          s.job.entry.settle({ state: "too-big", reason: "the server is shutting down" });
        }
        return s.worker.terminate();
      }),
    );
  }

  /**
   * Past the count or the bytes, the least recently used settled settings go (never `keep`, the
   * one just solved). A dropped setting's arrays are released: a room that asks again (every
   * room asks through get() on each lookup) gets a new entry, solved again.
   */
  private evict(keep?: SolveEntry): void {
    for (const [key, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      if (e.status.state === "solving" || e === keep) continue;
      this.entries.delete(key);
      this.bytes -= e.bytes;
      e.bytes = 0;
      if (e.status.state === "ready") e.status = { state: "too-big", reason: "the server let this solution go to make room; it is solved again when asked" };
    }
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot) {
        if (this.slots.length >= this.threads) return;
        slot = this.spawn();
      }
      const next = this.queue.shift()!;
      const started = Date.now();
      const timer = setTimeout(() => this.giveUp(slot!, `it took longer than ${Math.round(this.deadlineMs / 1000)} s to solve`), this.deadlineMs);
      timer.unref();
      slot.job = { ...next, started, timer };
      slot.worker.ref();
      slot.worker.postMessage(next.job);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(workerFile(), { resourceLimits: { maxOldGenerationSizeMb: 2048 } });
    const slot: Slot = { worker, job: null };
    worker.on("message", (r: SolverReply) => this.reply(slot, r));
    worker.on("error", (e) => {
      this.log(`solver: a worker failed (${e.message})`);
      if (slot.job) this.finish(slot, { state: "too-big", reason: `the solver failed: ${e.message}` });
    });
    worker.on("exit", () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (slot.job) this.finish(slot, { state: "too-big", reason: "the solver stopped" });
      this.pump();
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private reply(slot: Slot, r: SolverReply): void {
    const j = slot.job;
    if (!j || j.job.id !== r.id) return;
    if ("progress" in r) {
      j.entry.status = { state: "solving", states: r.progress };
      return;
    }
    if ("error" in r) {
      this.log(`solver: ${j.job.level.id} ${JSON.stringify(j.job.knobs)}: ${r.error}`);
      this.finish(slot, { state: "too-big", reason: `the level cannot be solved: ${r.error}` });
      return;
    }
    if (r.solved.verdict === "incomplete") {
      this.finish(slot, { state: "too-big", reason: `it has more than ${j.job.maxStates.toLocaleString("en-US")} states` });
      return;
    }
    this.finish(slot, { state: "ready", solved: r.solved, par: r.par, reach: r.reach, ms: Date.now() - j.started });
  }

  private finish(slot: Slot, status: SolveState): void {
    const j = slot.job;
    if (!j) return;
    clearTimeout(j.timer);
    slot.job = null;
    slot.worker.unref();
    j.entry.settle(status);
    if (status.state === "ready" && this.entries.get(j.entry.key) === j.entry) {
      j.entry.bytes = bytesOf(status);
      this.bytes += j.entry.bytes;
      this.evict(j.entry);
    }
    this.pump();
  }

  /** Past the deadline: stop the worker (its heap goes with it) and mark the setting too big. */
  private giveUp(slot: Slot, reason: string): void {
    if (!slot.job) return;
    this.log(`solver: ${slot.job.job.level.id}: ${reason}; its rooms' bots play eagerly`);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
    this.finish(slot, { state: "too-big", reason });
  }
}

/** The bytes of a solved game's arrays and its explorer tables. */
function bytesOf(st: Extract<SolveState, { state: "ready" }>): number {
  const s = st.solved;
  const arrays = [s.first, s.to, s.move, s.took, s.kind, s.dist, s.lap, ...(s.fired ? [s.fired] : []), ...(st.reach ?? []).map((t) => t.table)];
  return arrays.reduce((n, a) => n + a.byteLength, 0);
}
