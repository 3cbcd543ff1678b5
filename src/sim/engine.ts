// The pure step function: (config, machine, action) -> (machine', event).
// No clocks, no randomness, no I/O: the same inputs always give the same output.

import type { Config, Op, ProgramItem } from "./config.js";
import { lockQueue, waitHolds } from "./machine.js";
import { getPath, lineOf, resolvePath, type Ctx, type Outcome, type Step } from "./path.js";
import { _PAGE_DIRTY } from "./pte.js";
import { cloneMachine } from "./state.js";
import type { Action, Cpu, Locals, Machine, Val, Wait } from "./types.js";
import "./paths/index.js";

/** A request the machine cannot honour (bad CPU, missing choice, finished CPU). */
export class SimError extends Error {
  constructor(
    message: string,
    readonly code: "bad-action" | "not-runnable" | "bad-choice",
  ) {
    super(message);
  }
}

export interface StepEvent {
  /** "CPU1 (A2)" or "DMA". */
  actor: string;
  cpu: number | null;
  /** Kernel function and path id of the line that ran (or tried to). */
  fn: string;
  path: string;
  line: string;
  /** The step could not run: the CPU spins or sleeps (the state may record that it started waiting). */
  blocked: boolean;
  /** Why, in kernel terms, when blocked. */
  wait?: string;
  /** A menu choice made with this step. */
  choice?: string;
  /** What a user load returned. */
  loaded?: string;
  /** Effects that leave no trace in the state, e.g. an IPI acked at once. */
  notes?: string[];
}

export interface StepResult {
  m: Machine;
  ev: StepEvent;
}

/** The kernel path and first locals an operation starts with. */
export function opEntry(op: Op): { name: string; l: Locals } {
  switch (op.kind) {
    case "load":
      return { name: "user_load", l: { va: op.page } };
    case "store":
      return { name: "user_store", l: { va: op.page, value: op.value } };
    case "fork":
      return { name: "kernel_clone", l: {} };
    case "exit":
      return { name: "exit_mmap", l: {} };
    case "wait_child":
      return { name: "kernel_wait4", l: {} };
    case "munmap":
      return { name: "__do_munmap", l: { start: op.page, end: op.page + op.pages } };
    case "madvise":
      return { name: op.advice === "dontneed" ? "madvise_dontneed" : "madvise_dontfork", l: { start: op.page, end: op.page + op.pages } };
    case "pin_user_pages":
      return { name: "__get_user_pages", l: { va: op.page, write: op.write, foll_pin: true } };
    case "get_user_pages":
      return { name: "__get_user_pages", l: { va: op.page, write: op.write, foll_pin: false } };
    case "pin_user_pages_fast":
      return { name: "gup_fast", l: { va: op.page, write: op.write, foll_pin: true } };
    case "vmsplice":
      return { name: "vmsplice_to_pipe", l: { va: op.page } };
    case "uffd_unprotect":
      return { name: "mwriteprotect_range", l: { va: op.page } };
    case "counter_inc":
      return { name: op.lock ? "counter_inc_locked" : "counter_inc_unlocked", l: {} };
    case "mthp_fault":
      return { name: "do_anonymous_page@mthp", l: { va: op.page } };
    case "try_to_unmap":
      return { name: "try_to_unmap_one", l: { va: op.page } };
    case "mremap":
      return { name: "mremap", l: { old: op.page, len: op.pages, new: op.to } };
  }
}

export const cpuLabel = (cfg: Config, cpu: number) => `CPU${cpu} (${cfg.cpus[cpu].name})`;

/** Who an action steps, as a key: "0", "1", ... or "dma". */
export const actorKey = (a: Action): string => ("dma" in a ? "dma" : String(a.cpu));

export function currentItem(cfg: Config, m: Machine, cpu: number): ProgramItem | null {
  return cfg.cpus[cpu].program[m.cpus[cpu].prog] ?? null;
}

export type CpuStatus =
  | { state: "done"; text: string }
  | { state: "unborn"; text: string }
  | { state: "blocked"; wait: Wait; text: string }
  | { state: "menu"; choices: string[]; text: string }
  | { state: "ready"; text: string };

export function describeWait(cfg: Config, m: Machine, cpu: number, w: Wait): string {
  const c = m.cpus[cpu];
  // The waiter's own IRQ state, said next to the verb, so it never reads as the holder's.
  const spinning = c.irqsOff ? "spinning with IRQs off" : "spinning";
  const who = (h: number) => (h >= 0 ? cpuLabel(cfg, h) : "nobody");
  switch (w.kind) {
    case "spin": {
      const name = w.lock.kind === "ptl" ? `the PTL of table ${w.lock.table}` : cfg.lockNames[w.lock.id];
      const h = w.lock.kind === "ptl" ? m.tables[w.lock.table].ptl : m.spinlocks[w.lock.id];
      const q = lockQueue(m, w.lock);
      const ahead = q.indexOf(cpu) > 0 ? `, queued behind ${q.slice(0, q.indexOf(cpu)).map((x) => cpuLabel(cfg, x)).join(", ")}` : "";
      return `${spinning} on ${name}, held by ${who(h)}${ahead}`;
    }
    case "rwsem": {
      const s = m.mms[w.mm].mmapLock;
      const holders = s.writer >= 0 ? `${who(s.writer)} (write)` : s.readers.length ? s.readers.map((r) => `${who(r)} (read)`).join(", ") : "nobody";
      const at = s.waiters.findIndex((x) => x.cpu === cpu);
      const ahead = (at < 0 ? s.waiters : s.waiters.slice(0, at)).map((x) => `${who(x.cpu)} (${x.write ? "write" : "read"})`);
      return `sleeping on mmap_lock of ${m.mms[w.mm].name} for ${w.write ? "write" : "read"}, held by ${holders}${ahead.length ? `, queued behind ${ahead.join(", ")}` : ""}`;
    }
    case "acks": {
      const from = c.waitAcks.map((t) => `${cpuLabel(cfg, t)}${m.cpus[t].irqsOff ? " (IRQs off)" : ""}`);
      return `waiting for TLB-flush IPI acks from ${from.join(", ")}`;
    }
    case "process":
      return "waiting for its process to be forked";
    case "child":
      return `sleeping in wait4() until ${m.mms[w.mm].name} exits`;
    case "vmalock": {
      const v = m.mms[w.mm].vmas.find((x) => x.start === w.start);
      return `sleeping in vma_start_write() until the per-VMA-lock readers of the VMA at page ${w.start} leave (${(v?.lockReaders ?? []).map((r) => cpuLabel(cfg, r)).join(", ")})`;
    }
  }
}

export function cpuStatus(cfg: Config, m: Machine, cpu: number): CpuStatus {
  const c = m.cpus[cpu];
  if (c.done) return { state: "done", text: c.segv ? "killed by SIGSEGV" : "finished" };
  const mm = m.mms[c.mm];
  if (mm.state !== "alive") return { state: "unborn", text: `waiting for ${mm.name} to be forked` };
  if (c.wait && waitHolds(m, cpu, c.wait)) return { state: "blocked", wait: c.wait, text: describeWait(cfg, m, cpu, c.wait) };
  if (c.frames.length === 0) {
    const item = currentItem(cfg, m, cpu);
    if (item && "choose" in item) {
      const choices = item.choose.map((o) => o.label);
      return { state: "menu", choices, text: `chooses: ${choices.join(" | ")}` };
    }
  }
  return { state: "ready", text: "ready" };
}

/** Every action that changes the state: the explorer's transitions. */
export function enabledActions(cfg: Config, m: Machine): Action[] {
  const out: Action[] = [];
  for (let i = 0; i < m.cpus.length; i++) {
    const c = m.cpus[i];
    if (c.done || m.mms[c.mm].state !== "alive") continue;
    if (c.wait && waitHolds(m, i, c.wait)) continue;
    const item = c.frames.length === 0 ? currentItem(cfg, m, i) : null;
    if (item && "choose" in item) for (const o of item.choose) out.push({ cpu: i, choice: o.label });
    else out.push({ cpu: i });
  }
  if (dmaReady(cfg, m)) out.push({ dma: true });
  return out;
}

export const dmaReady = (cfg: Config, m: Machine): boolean => cfg.dmaPayload !== null && m.dma.pin >= 0 && !m.dma.done;

/** Every CPU with finite work has finished (looping background CPUs never do). */
export const allDone = (cfg: Config, m: Machine): boolean =>
  m.cpus.every((c, i) => c.done || cfg.cpus[i].loop || m.mms[c.mm].state === "unborn") && !dmaReady(cfg, m);

/** Record when a CPU other than the forking one changes a VMA fork is copying (PTEs or anon_vma). */
function noteForkSourceChanges(cfg: Config, before: Machine, after: Machine, cpu: number): void {
  after.mms.forEach((mm, i) => {
    for (const v of mm.vmas) {
      if (v.forkCopying < 0 || v.forkCopying === cpu || v.changedDuringFork) continue;
      const old = before.mms[i].vmas.find((o) => o.start === v.start);
      let changed = !!old && old.anonVma !== v.anonVma;
      for (let va = v.start; va < v.end && !changed; va++) {
        const slot = Math.floor(va / cfg.ptrs);
        const ta = mm.pmd[slot];
        const tb = before.mms[i].pmd[slot];
        const pa = ta === undefined || ta < 0 ? 0 : after.tables[ta].ptes[va % cfg.ptrs];
        const pb = tb === undefined || tb < 0 ? 0 : before.tables[tb].ptes[va % cfg.ptrs];
        // The MMU setting the dirty bit on a store is not a fault: ignore it.
        changed = (pa & ~_PAGE_DIRTY) !== (pb & ~_PAGE_DIRTY);
      }
      if (changed) v.changedDuringFork = true;
    }
  });
}

/** Pop the finished frame; a caller that was itself at its end returns too. */
function finishReturn(c: Cpu, v: Val): void {
  for (;;) {
    c.frames.pop();
    const top = c.frames[c.frames.length - 1];
    if (!top) return;
    top.l.rv = v;
    const br = top.l.$branch;
    if (Array.isArray(br)) {
      // The caller asked to resume at one of two labels, by the callee's boolean result.
      delete top.l.$branch;
      const p = getPath(top.path);
      top.pc = v === true ? br[0] : br[1];
      if (top.pc < p.steps.length) return;
    }
    if (top.pc < getPath(top.path).steps.length) return;
  }
}

function apply(cfg: Config, c: Cpu, out: Outcome): void {
  const f = c.frames[c.frames.length - 1];
  const p = getPath(f.path);
  if (out === undefined) {
    f.pc++;
    if (f.pc >= p.steps.length) finishReturn(c, null);
    return;
  }
  if ("goto" in out) {
    const pc = p.labels.get(out.goto);
    if (pc === undefined) throw new Error(`${f.path}: no label ${out.goto}`);
    f.pc = pc;
    return;
  }
  if ("call" in out) {
    const id = resolvePath(out.call, cfg);
    if (out.tail) c.frames.pop();
    else if (out.then) {
      const pc = p.labels.get(out.then);
      if (pc === undefined) throw new Error(`${f.path}: no label ${out.then}`);
      f.pc = pc;
    } else if (out.branch) {
      const [a, b] = out.branch.map((lab) => {
        const pc = p.labels.get(lab);
        if (pc === undefined) throw new Error(`${f.path}: no label ${lab}`);
        return pc;
      });
      f.l.$branch = [a, b];
    } else if (!out.retry) f.pc++;
    c.frames.push({ path: id, pc: 0, l: out.l });
    return;
  }
  if ("ret" in out) {
    finishReturn(c, out.ret);
    return;
  }
  throw new Error("wait outcomes are handled by step()");
}

function describeActor(cfg: Config, a: Action): string {
  return "dma" in a ? "DMA" : cpuLabel(cfg, a.cpu);
}

/**
 * Step one actor. Throws SimError for an action the machine cannot take
 * (unknown or finished CPU, missing or unknown menu choice). A CPU that is
 * blocked may still be stepped: it spins, and nothing changes.
 */
export function step(cfg: Config, m0: Machine, a: Action): StepResult {
  return transition(cfg, m0, a, true) as StepResult;
}

/**
 * The machine after one step, without the event: the explorer's step, which
 * skips formatting the line and the wait for the player. Same state as step().
 */
export function advance(cfg: Config, m0: Machine, a: Action): Machine {
  return transition(cfg, m0, a, false).m;
}

/** A view of the draft machine and CPU a step runs on (the footprint recorder wraps them). */
export type StepWatch = (m: Machine, c: Cpu) => { m: Machine; c: Cpu };

/**
 * One step of `cpu` with the step's view of the machine and its CPU passed through
 * `watch` (test/sim/footprint.test.ts records what a step touches this way). The
 * resulting machine is as step() gives.
 */
export function watchedAdvance(cfg: Config, m0: Machine, cpu: number, watch: StepWatch): Machine {
  return transition(cfg, m0, { cpu }, false, watch).m;
}

/** The step `cpu` runs next (the entry of its next operation between operations), or null if it has none to run. */
export function nextStep(cfg: Config, m: Machine, cpu: number): Step | null {
  const c = m.cpus[cpu];
  if (c.done || m.mms[c.mm].state !== "alive") return null;
  if (c.frames.length > 0) {
    const f = c.frames[c.frames.length - 1];
    return getPath(f.path).steps[f.pc] ?? null;
  }
  const item = currentItem(cfg, m, cpu);
  if (!item || "choose" in item) return null;
  return getPath(resolvePath(opEntry(item.op).name, cfg)).steps[0] ?? null;
}

function transition(cfg: Config, m0: Machine, a: Action, withEvent: boolean, watch?: StepWatch): { m: Machine; ev: StepEvent | null } {
  if ("dma" in a) {
    if (cfg.dmaPayload === null) throw new SimError("this level has no DMA device", "bad-action");
    if (!dmaReady(cfg, m0)) {
      throw new SimError(m0.dma.done ? "the DMA device has already written" : "the DMA device has no pinned buffer yet", "not-runnable");
    }
    const m = cloneMachine(m0);
    const pin = m.pins[m.dma.pin];
    m.pages[pin.pfn].dmabuf = cfg.dmaPayload;
    m.dma.done = true;
    return {
      m,
      ev: withEvent
        ? { actor: "DMA", cpu: null, fn: "device", path: "dma", line: `device DMA-writes "${cfg.dmaPayload}" into pfn ${pin.pfn}, the page it was given`, blocked: false }
        : null,
    };
  }
  const cpu = a.cpu;
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= m0.cpus.length) {
    throw new SimError(`there is no CPU${cpu}: this level has CPUs 0-${m0.cpus.length - 1}`, "bad-action");
  }
  const c0 = m0.cpus[cpu];
  const label = () => describeActor(cfg, a);
  if (c0.done) throw new SimError(`${label()} has finished`, "not-runnable");
  if (m0.mms[c0.mm].state !== "alive") throw new SimError(`${label()} cannot run: ${m0.mms[c0.mm].name} has not been forked yet`, "not-runnable");

  let item: ProgramItem | null = null;
  if (c0.frames.length === 0) {
    item = currentItem(cfg, m0, cpu);
    if (!item) throw new SimError(`${label()} has nothing left to run`, "not-runnable");
    if ("choose" in item) {
      const labels = item.choose.map((o) => o.label);
      if (a.choice === undefined) throw new SimError(`${label()} must choose one of: ${labels.join(", ")}`, "bad-choice");
      if (!labels.includes(a.choice)) throw new SimError(`${label()} has no choice "${a.choice}": it may choose ${labels.join(", ")}`, "bad-choice");
    } else if (a.choice !== undefined) {
      throw new SimError(`${label()} has no menu here; drop ":${a.choice}"`, "bad-choice");
    }
  } else if (a.choice !== undefined) {
    throw new SimError(`${label()} is in the middle of ${getPath(c0.frames[c0.frames.length - 1].path).name}; it has no menu now`, "bad-choice");
  }

  if (c0.wait && waitHolds(m0, cpu, c0.wait)) {
    if (!withEvent) return { m: m0, ev: null };
    const f = c0.frames[c0.frames.length - 1];
    const p = getPath(f.path);
    return { m: m0, ev: { actor: label(), cpu, fn: p.name, path: p.id, line: lineOf(p.steps[f.pc], cfg), blocked: true, wait: describeWait(cfg, m0, cpu, c0.wait) } };
  }

  const m = cloneMachine(m0);
  const c = m.cpus[cpu];
  let choice: string | undefined;
  if (item) {
    const chosen = "choose" in item ? item.choose.find((o) => o.label === a.choice)! : item;
    choice = "choose" in item ? chosen.label : undefined;
    const entry = opEntry(chosen.op);
    c.prog++;
    c.frames.push({ path: resolvePath(entry.name, cfg), pc: 0, l: entry.l });
  }
  const f = c.frames[c.frames.length - 1];
  const p = getPath(f.path);
  const s = p.steps[f.pc];
  const seen = watch ? watch(m, c) : { m, c };
  const ctx: Ctx = { m: seen.m, cfg, cpu, c: seen.c, f, notes: [] };
  const out = s.run(ctx);
  const ev: StepEvent | null = withEvent ? { actor: label(), cpu, fn: p.name, path: p.id, line: lineOf(s, cfg), blocked: false } : null;
  if (ev && ctx.notes.length) ev.notes = ctx.notes;
  if (ev && choice !== undefined) ev.choice = choice;
  if (out && "wait" in out) {
    c.wait = out.wait;
    if (ev) {
      ev.blocked = true;
      ev.wait = describeWait(cfg, m, cpu, out.wait);
    }
    return { m, ev };
  }
  c.wait = null;
  if (ev && out && "ret" in out && p.id === "user_load" && typeof out.ret === "string") ev.loaded = out.ret;
  apply(cfg, c, out);
  noteForkSourceChanges(cfg, m0, m, cpu);
  if (c.segv) c.frames = [];
  if (c.frames.length === 0 && !c.segv && c.prog >= cfg.cpus[cpu].program.length && cfg.cpus[cpu].loop) c.prog = 0;
  if (c.frames.length === 0 && (c.segv || c.prog >= cfg.cpus[cpu].program.length)) c.done = true;
  return { m, ev };
}
