// "Run to the next decision": how far a CPU may run before the order of its
// next line against another actor's next line matters.
//
// A CPU keeps running while its next line is local (footprint.ts), or while
// that line commutes with the next line of every other actor that can run:
// run them in either order and the machine comes out the same, so no
// interleaving is lost by running this one first. It stops
// - before a line that races with another actor's next line;
// - before a line that takes, tries or drops a lock (a PTL, a spinlock, an
//   mmap_lock or per-VMA lock, or a CPU's IRQ state, which a TLB-shootdown IPI
//   waits on) that another runnable actor will touch before it next blocks or
//   ends its operation: the edge of a contended critical section;
// - at a menu, a blocked line, or the end of its work.
// An actor that a line lets run (a lock released, a child born, a pin handed to
// the device) is among the others from the next line on: its next line is
// compared like everyone's.
// The explorer's verdicts never depend on this: it only decides how many lines
// one key press runs.

import type { Config } from "./config.js";
import { actorKey, advance, cpuStatus, enabledActions } from "./engine.js";
import { nextIsLocal, settle } from "./footprint.js";
import { hashMachine } from "./state.js";
import type { Action, Machine } from "./types.js";

/** More lines than one press may run (a CPU that loops forever stops here). */
export const MAX_RUN = 120;

/** Whether a then b and b then a are both possible and reach the same machine. */
export function commute(cfg: Config, m: Machine, a: Action, b: Action): boolean {
  try {
    return hashMachine(advance(cfg, advance(cfg, m, a), b)) === hashMachine(advance(cfg, advance(cfg, m, b), a));
  } catch {
    return false; // one of them cannot run after the other
  }
}

/** Lines another actor is run ahead, alone, to see which locks it will touch. */
const LOOKAHEAD = 80;

/** The machine's locks and IRQ states, by name: what a critical section is made of. */
function locks(m: Machine): Map<string, string> {
  const out = new Map<string, string>();
  m.tables.forEach((t, i) => out.set(`ptl:${i}`, `${t.ptl}|${(m.lockQueues[`t${i}`] ?? []).join(",")}`));
  m.spinlocks.forEach((h, i) => out.set(`spin:${i}`, `${h}|${(m.lockQueues[`s${i}`] ?? []).join(",")}`));
  m.mms.forEach((mm, i) => {
    const s = mm.mmapLock;
    out.set(`mmap:${i}`, `${s.writer}|${s.readers.join(",")}|${s.waiters.map((w) => `${w.cpu}${w.write ? "w" : "r"}`).join(",")}`);
    for (const v of mm.vmas) out.set(`vma:${i}:${v.start}`, `${v.lockWriter}|${v.lockReaders.join(",")}`);
  });
  m.cpus.forEach((c, i) => {
    const acks = m.cpus.filter((o) => o.waitAcks.includes(i)).length;
    out.set(`irq:${i}`, `${c.irqsOff}|${c.ipis.length}|${acks}`);
  });
  return out;
}

function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(k);
  return out;
}

/** The locks `cpu`'s next line takes, tries or drops (empty for most lines). */
function lockLine(cfg: Config, m: Machine, cpu: number): string[] {
  return changed(locks(m), locks(advance(cfg, m, { cpu })));
}

/** Locks the other runnable actors touch if each runs alone until it blocks or ends its operation. */
function wanted(cfg: Config, m: Machine, cpu: number): Set<string> {
  const out = new Set<string>();
  for (const b of enabledActions(cfg, m)) {
    if ("dma" in b || b.cpu === cpu || b.choice !== undefined) continue;
    let at = m;
    let before = locks(at);
    for (let j = 0; j < LOOKAHEAD; j++) {
      if (cpuStatus(cfg, at, b.cpu).state !== "ready") break;
      const next = advance(cfg, at, { cpu: b.cpu });
      const after = locks(next);
      for (const k of changed(before, after)) out.add(k);
      at = next;
      before = after;
      if (at.cpus[b.cpu].frames.length === 0) break;
    }
  }
  return out;
}

/** Whether `cpu`, which has just run a line of a press, should stop here rather than run its next line. */
export function decisionAhead(cfg: Config, m: Machine, cpu: number): boolean {
  if (cpuStatus(cfg, m, cpu).state !== "ready") return true;
  if (nextIsLocal(cfg, m, cpu)) return false;
  const next = lockLine(cfg, m, cpu);
  if (next.length > 0 && next.some((k) => wanted(cfg, m, cpu).has(k))) return true;
  const mine: Action = { cpu };
  for (const b of enabledActions(cfg, m)) {
    if (actorKey(b) === String(cpu)) continue;
    // Another CPU's own local lines commute with everything: compare against its next shared line.
    const at = "dma" in b ? m : settle(cfg, m, b.cpu).m;
    if (!commute(cfg, at, mine, b)) return true;
  }
  return false;
}

/** The lines one press of "run to the next decision" runs from m (each a step of `cpu`). */
export function runToDecision(cfg: Config, m: Machine, cpu: number): Action[] {
  const out: Action[] = [];
  for (;;) {
    m = advance(cfg, m, { cpu });
    out.push({ cpu });
    if (out.length >= MAX_RUN || decisionAhead(cfg, m, cpu)) return out;
  }
}
