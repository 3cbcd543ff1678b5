// Footprints: which steps touch only their own CPU.
//
// A step declared `local` (path.ts) reads and writes nothing but its CPU's own
// frame and locals. Two steps of different CPUs commute when one of them is
// local: neither can see what the other did. So a CPU's run of local steps
// may happen at once, right after its previous step, without changing what any
// other CPU, any oracle or any later step can observe. That is the one fact the
// explorer's reduction, the solved game's lookups and the player's "run to the
// next decision" key all rest on, and it lives here.
//
// settle() runs a CPU's pending local steps; normalize() settles every CPU. A
// normalized machine is what the explorer stores: every runnable CPU sits at a
// shared line, a menu, or a blocked line. Any machine a room can reach
// normalizes to a machine of the explored graph (the local steps it skips
// commute with everything), which is how a room finds its state in a solved game.

import type { Config } from "./config.js";
import { advance, currentItem, enabledActions, nextStep, opEntry, watchedAdvance } from "./engine.js";
import { lineOf, resolvePath } from "./path.js";
import { StateSet } from "./stateset.js";
import { waitHolds } from "./machine.js";
import type { Action, Cpu, Machine } from "./types.js";

/** More local steps in a row than any kernel path has: a loop that touches nothing shared never ends. */
export const MAX_LOCAL_RUN = 10_000;

export class LocalLoopError extends Error {}

/** Whether `cpu` can run its next step now and that step is declared local. */
export function nextIsLocal(cfg: Config, m: Machine, cpu: number): boolean {
  const c = m.cpus[cpu];
  if (c.wait && waitHolds(m, cpu, c.wait)) return false;
  return nextStep(cfg, m, cpu)?.local === true;
}

/** The machine after `cpu` has run every local step it can run now, and how many it ran. */
export function settle(cfg: Config, m: Machine, cpu: number): { m: Machine; n: number } {
  let n = 0;
  while (nextIsLocal(cfg, m, cpu)) {
    if (++n > MAX_LOCAL_RUN) throw new LocalLoopError(`CPU${cpu} ran ${MAX_LOCAL_RUN} local steps in a row without reaching a shared one: a local step must not loop`);
    m = advance(cfg, m, { cpu });
  }
  return { m, n };
}

/**
 * Every CPU settled: the machine as the explorer stores it. `runs[i]` is how
 * many local steps CPU i ran (a schedule from the unsettled machine plays
 * them before CPU i's first move).
 */
export function normalize(cfg: Config, m: Machine): { m: Machine; runs: number[] } {
  const runs = m.cpus.map(() => 0);
  for (let i = 0; i < m.cpus.length; i++) {
    const r = settle(cfg, m, i);
    m = r.m;
    runs[i] = r.n;
  }
  return { m, runs };
}

/**
 * One move of the reduced game: `a`, then (for a CPU) every local step that CPU
 * can run next. `n` counts the steps taken, `a` included.
 */
export function macroStep(cfg: Config, m: Machine, a: Action): { m: Machine; n: number } {
  const after = advance(cfg, m, a);
  if ("dma" in a) return { m: after, n: 1 };
  const r = settle(cfg, after, a.cpu);
  return { m: r.m, n: r.n + 1 };
}

/**
 * Expand a schedule of macro moves found from normalize(m0) into the steps it
 * stands for from m0 itself: each CPU's initial local run is played just before
 * its first move (where it cost no extra context switch), and each macro move
 * of a CPU is followed by its fused local steps (`counts[i]` steps in all).
 */
export function expandSchedule(runs: readonly number[], moves: readonly Action[], counts: readonly number[]): Action[] {
  const out: Action[] = [];
  const started = runs.map((n) => n === 0);
  moves.forEach((a, i) => {
    if (!("dma" in a) && !started[a.cpu]) {
      started[a.cpu] = true;
      for (let k = 0; k < runs[a.cpu]; k++) out.push({ cpu: a.cpu });
    }
    out.push(a);
    const plain: Action = "dma" in a ? a : { cpu: a.cpu };
    for (let k = 1; k < counts[i]; k++) out.push(plain);
  });
  return out;
}

// ---------------------------------------------------------------- the recorder

/** The path a CPU between operations enters with its next step. */
function entryPath(cfg: Config, m: Machine, cpu: number): string {
  const item = currentItem(cfg, m, cpu);
  return item && !("choose" in item) ? resolvePath(opEntry(item.op).name, cfg) : "(none)";
}

/** Fields of its own Cpu a local step may read and write (everything else there other CPUs see). */
const OWN_CPU_FIELDS = new Set(["name", "mm", "prog", "frames", "segv", "needResched", "done"]);

/**
 * What one step of `cpu` touched outside its own CPU, as property paths
 * ("mms.0.pmd.0", "cpus.1.irqsOff", "folios.3.refcount"): empty for a step whose
 * footprint is local. Reads and writes are both recorded; the step's result is
 * the same as an unwatched step's (the recorder only observes).
 */
export function recordFootprint(cfg: Config, m: Machine, cpu: number): { touched: string[]; m: Machine } {
  const touched = new Set<string>();
  const proxies = new WeakMap<object, object>();
  const own = `cpus.${cpu}`;
  const allowed = (path: string): boolean => {
    if (!path.startsWith(own + ".")) return false;
    const field = path.slice(own.length + 1).split(".")[0];
    return OWN_CPU_FIELDS.has(field);
  };
  const wrap = <T extends object>(obj: T, path: string): T => {
    const known = proxies.get(obj);
    if (known) return known as T;
    const p = new Proxy(obj, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (typeof key === "symbol") return v;
        const at = path ? `${path}.${key}` : key;
        if (v !== null && typeof v === "object") return allowed(at) ? v : wrap(v as object, at);
        if (typeof v !== "function" && !allowed(at)) touched.add(at);
        return v;
      },
      set(target, key, value, receiver) {
        const at = path ? `${path}.${String(key)}` : String(key);
        if (!allowed(at)) touched.add(at);
        return Reflect.set(target, key, value, receiver);
      },
      deleteProperty(target, key) {
        const at = path ? `${path}.${String(key)}` : String(key);
        if (!allowed(at)) touched.add(at);
        return Reflect.deleteProperty(target, key);
      },
      has(target, key) {
        const at = path ? `${path}.${String(key)}` : String(key);
        if (!allowed(at)) touched.add(at);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        if (!allowed(path + ".*")) touched.add(path + ".*");
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(obj, p);
    return p as T;
  };
  const after = watchedAdvance(cfg, m, cpu, (draft, c: Cpu) => {
    const pm = wrap(draft, "");
    // The CPU's own object, reached the way the step would reach it through the machine.
    return { m: pm, c: (pm.cpus as Cpu[])[cpu] };
  });
  return { touched: [...touched].sort(), m: after };
}

export interface FootprintViolation {
  /** Path id and index of the step declared local. */
  path: string;
  pc: number;
  line: string;
  /** What it touched outside its CPU. */
  touched: string[];
}

/**
 * The check behind every `local` declaration: every step of every reachable
 * state (no reduction, up to `maxStates`) that is declared local is run under
 * the recorder, and each that touched shared state is reported once.
 */
export function checkFootprints(cfg: Config, m0: Machine, maxStates = 200_000): { states: number; checked: number; violations: FootprintViolation[] } {
  const seen = new StateSet();
  seen.add(m0);
  const found = new Map<string, FootprintViolation>();
  let checked = 0;
  let frontier = [m0];
  while (frontier.length > 0 && seen.size < maxStates) {
    const next: Machine[] = [];
    for (const m of frontier) {
      for (const a of enabledActions(cfg, m)) {
        if (!("dma" in a) && a.choice === undefined && nextIsLocal(cfg, m, a.cpu)) {
          checked++;
          const r = recordFootprint(cfg, m, a.cpu);
          if (r.touched.length > 0) {
            const c = m.cpus[a.cpu];
            const f = c.frames[c.frames.length - 1];
            const at = f ? { path: f.path, pc: f.pc } : { path: entryPath(cfg, m, a.cpu), pc: 0 };
            const key = `${at.path}#${at.pc}`;
            if (!found.has(key)) found.set(key, { ...at, line: nextStep(cfg, m, a.cpu) ? lineOf(nextStep(cfg, m, a.cpu)!, cfg) : "", touched: r.touched });
          }
        }
        const m2 = advance(cfg, m, a);
        if (seen.add(m2).fresh) next.push(m2);
      }
    }
    frontier = next;
  }
  return { states: seen.size, checked, violations: [...found.values()] };
}
