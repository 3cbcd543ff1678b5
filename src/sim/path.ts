// The step-table framework. A kernel path is a list of steps; each step is the
// line of pseudo-C the player sees plus a pure transition on a draft machine.
// Adding a path is writing a table and registering it.

import type { Config } from "./config.js";
import { mmapSemEra } from "./era.js";
import { downRead, downWrite } from "./machine.js";
import type { Cpu, Frame, Locals, Machine, Val, Wait } from "./types.js";

export interface Ctx {
  /** Draft machine: already cloned by the engine, free to mutate. */
  m: Machine;
  cfg: Config;
  cpu: number;
  c: Cpu;
  f: Frame;
  /** Things worth telling the player that leave no trace in the state (e.g. an IPI acked at once). */
  notes: string[];
}

/**
 * What a step did:
 * - undefined: advance to the next line (returning after the last one);
 * - goto: jump to a labelled line;
 * - call: push a sub-path; the caller resumes after this line, at it again with `retry`,
 *   at the label `then`, or with `branch: [a, b]` at label a if the callee returned true, else b;
 *   with `tail` the callee replaces the caller (C's `return f(...)`);
 * - ret: return to the caller, storing `ret` in its local `rv`;
 * - wait: the line could not run (lock held, acks missing); nothing else may have changed.
 */
export type Outcome =
  | void
  | { goto: string }
  | { call: string; l: Locals; retry?: boolean; tail?: boolean; then?: string; branch?: [string, string] }
  | { ret: Val }
  | { wait: Wait };

export interface Step {
  label?: string;
  /** The line shown to the player: faithful to the function it names. */
  line: string | ((cfg: Config) => string);
  run: (x: Ctx) => Outcome;
  /**
   * The step's footprint is its own CPU: it reads and writes only its frame and
   * locals (and the CPU's own name, mm, segv and need_resched), never memory,
   * PTEs, locks, folios, TLBs, IRQ state or another CPU. Such a step commutes
   * with every other step, so the explorer fuses it into the CPU's previous
   * step and "run to the next decision" runs through it. A step that may wait
   * is never local. test/sim/footprint.test.ts checks every declaration
   * against an access recorder over every campaign level's reachable states.
   */
  local?: boolean;
}

export interface KernelPath {
  /** Kernel function name, shown in the listing header. */
  name: string;
  /** Source file, e.g. "mm/memory.c", or "user space" / "teaching example". */
  source: string;
  /** The kernel generation the lines come from, e.g. "5.9" or "5.19+". */
  generation: string;
  steps: Step[];
}

export interface RegisteredPath extends KernelPath {
  id: string;
  labels: Map<string, number>;
}

const registry = new Map<string, RegisteredPath>();
const resolvers = new Map<string, (cfg: Config) => string>();

/** Register a path under id `name@generation` (or plain `name` if only one exists). */
export function definePath(id: string, p: KernelPath): RegisteredPath {
  if (registry.has(id)) throw new Error(`kernel path ${id} defined twice`);
  const labels = new Map<string, number>();
  p.steps.forEach((s, i) => {
    if (s.label) {
      if (labels.has(s.label)) throw new Error(`${id}: label ${s.label} used twice`);
      labels.set(s.label, i);
    }
  });
  const r: RegisteredPath = { ...p, id, labels };
  registry.set(id, r);
  return r;
}

/** A function name whose body depends on the kernel variant (e.g. do_wp_page by generation). */
export function defineVariant(name: string, pick: (cfg: Config) => string): void {
  resolvers.set(name, pick);
}

/** The path id a call to `name` runs under this configuration. */
export function resolvePath(name: string, cfg: Config): string {
  const pick = resolvers.get(name);
  const id = pick ? pick(cfg) : name;
  if (!registry.has(id)) throw new Error(`unknown kernel path ${id}`);
  return id;
}

export function getPath(id: string): RegisteredPath {
  const p = registry.get(id);
  if (!p) throw new Error(`unknown kernel path ${id}`);
  return p;
}

export function allPaths(): RegisteredPath[] {
  return [...registry.values()];
}

export function lineOf(s: Step, cfg: Config): string {
  // Lines use the 5.8+ mmap lock wrappers; older kernels show mmap_sem (src/sim/era.ts).
  return mmapSemEra(cfg, typeof s.line === "string" ? s.line : s.line(cfg));
}

// ---------------------------------------------------------------- common steps

/** A step that takes the current mm's mmap_lock (sleeping on the fair rwsem until it can). */
export function mmapLockStep(line: string, write: boolean): Step {
  return {
    line,
    run: (x) => {
      const w = write ? downWrite(x.m, x.cpu, x.c.mm) : downRead(x.m, x.cpu, x.c.mm);
      return w ? { wait: w } : undefined;
    },
  };
}

// ---------------------------------------------------------------- outcome helpers

export const goto = (label: string): Outcome => ({ goto: label });
export const ret = (v: Val = null): Outcome => ({ ret: v });
export const call = (name: string, l: Locals = {}, opts: { retry?: boolean; tail?: boolean; then?: string; branch?: [string, string] } = {}): Outcome => ({
  call: name,
  l,
  ...opts,
});

/** Read a numeric local, failing loudly if a path forgot to set it. */
export function num(f: Frame, k: string): number {
  const v = f.l[k];
  if (typeof v !== "number") throw new Error(`${f.path}: local ${k} is ${JSON.stringify(v)}, expected a number`);
  return v;
}

export function bool(f: Frame, k: string): boolean {
  return f.l[k] === true;
}
