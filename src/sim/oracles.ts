// Oracles: invariants checked after every step. Each returns null while the
// invariant holds, or a message that says what broke and where, in kernel terms.

import type { Config } from "./config.js";
import { cpuLabel, describeWait } from "./engine.js";
import { getPte, lockHolder, lockQueue, mappersOf, waitHolds } from "./machine.js";
import { CONT_PTES, pte_pfn, pte_present, pte_special } from "./pte.js";
import { contGroupProblem } from "./paths/contpte.js";
import type { Machine } from "./types.js";

export const ORACLE_IDS = [
  "lost-update",
  "lost-dma-write",
  "pin-cowed-away",
  "pin-shared",
  "lost-user-write",
  "cow-isolation",
  "pin-in-shared-table",
  "pte-after-teardown",
  "fork-source-changed",
  "cont-misprogrammed",
  "tlb-conflict",
  "cow-copied",
  "ipi-wait",
  "deadlock",
  "livelock",
] as const;
export type OracleId = (typeof ORACLE_IDS)[number];

export interface Oracle {
  id: OracleId;
  /** invariant: a broken kernel guarantee; milestone: a tutorial goal that is not a bug. */
  kind: "invariant" | "milestone";
  title: string;
  /** null when the invariant holds (livelock is checked over histories, not states). */
  check: (cfg: Config, m: Machine) => string | null;
}

const vaName = (m: Machine, mm: number, va: number) => `${m.mms[mm].name}'s page ${va}`;

const lostUpdate: Oracle = {
  id: "lost-update",
  kind: "invariant",
  title: "Lost update: an increment was overwritten",
  check: (cfg, m) => {
    const [counter, increments] = m.vars;
    if (counter === undefined || increments === undefined || counter >= increments) return null;
    return `counter is ${counter} after ${increments} completed increments: an update was lost`;
  },
};

/** INV-PIN-COHERENT in its observable form: the device's data is visible at the pinned address. */
const lostDmaWrite: Oracle = {
  id: "lost-dma-write",
  kind: "invariant",
  title: "Lost DMA write: the device's data is not at the pinning process's address",
  check: (cfg, m) => {
    if (!m.dma.done || m.dma.pin < 0) return null;
    const pin = m.pins[m.dma.pin];
    if (m.mms[pin.mm].state !== "alive") return null;
    const pte = getPte(m, cfg, pin.mm, pin.va);
    if (!pte_present(pte)) return null;
    const pfn = pte_pfn(pte);
    if (m.pages[pfn].dmabuf === cfg.dmaPayload) return null;
    return `the device wrote "${cfg.dmaPayload}" into pfn ${pin.pfn}, but ${vaName(m, pin.mm, pin.va)} maps pfn ${pfn}, which does not hold it: ${m.mms[pin.mm].name} can never see the DMA`;
  },
};

/** INV-PIN-COHERENT: while pinned for (A, v), A's PTE for v maps the pinned page. */
const pinCowedAway: Oracle = {
  id: "pin-cowed-away",
  kind: "invariant",
  title: "Pinned page COWed away: the pinner's address no longer maps the pinned page",
  check: (cfg, m) => {
    for (const pin of m.pins) {
      if (!pin.foll_pin || m.mms[pin.mm].state !== "alive") continue;
      const pte = getPte(m, cfg, pin.mm, pin.va);
      if (pte_present(pte) && pte_pfn(pte) !== pin.pfn) {
        return `pfn ${pin.pfn} is pinned for ${vaName(m, pin.mm, pin.va)}, but that address now maps pfn ${pte_pfn(pte)}: a COW replaced the pinned page`;
      }
    }
    return null;
  },
};

/** INV-PIN-SHARED: a pinned page is mapped by no mm but the pinner's. */
const pinShared: Oracle = {
  id: "pin-shared",
  kind: "invariant",
  title: "Pinned page shared with another process",
  check: (cfg, m) => {
    for (const pin of m.pins) {
      if (!pin.foll_pin) continue;
      const other = mappersOf(m, cfg, pin.pfn).find((x) => x.mm !== pin.mm);
      if (other) {
        return `pfn ${pin.pfn} is pinned by ${m.mms[pin.mm].name} but also mapped read-only by ${m.mms[other.mm].name} (page ${other.va}): the next write fault in ${m.mms[pin.mm].name} will copy it away`;
      }
    }
    return null;
  },
};

/** A process no longer sees the value one of its own threads stored last. */
const lostUserWrite: Oracle = {
  id: "lost-user-write",
  kind: "invariant",
  title: "Lost user write: a process no longer sees its own store",
  check: (cfg, m) => {
    for (let mm = 0; mm < m.mms.length; mm++) {
      if (m.mms[mm].state !== "alive") continue;
      const exp = m.mms[mm].expect;
      for (let va = 0; va < exp.length; va++) {
        const want = exp[va];
        if (want === null) continue;
        const pte = getPte(m, cfg, mm, va);
        if (!pte_present(pte)) continue;
        const got = m.pages[pte_pfn(pte)].data;
        if (got !== want) return `${vaName(m, mm, va)} was last written "${want}", but it now maps pfn ${pte_pfn(pte)} holding "${got}": the write was lost`;
      }
    }
    return null;
  },
};

/**
 * INV-COW-ISOLATION (races.md R7): a page one process holds a GUP reference
 * to (a vmsplice pipe, a pin) receives a store from another process after the
 * reference was taken: the reference holder can read the other's data.
 */
const cowIsolation: Oracle = {
  id: "cow-isolation",
  kind: "invariant",
  title: "COW broke the wrong way: another process's write is readable through a GUP reference",
  check: (cfg, m) => {
    for (const r of m.pins) {
      const pg = m.pages[r.pfn];
      if (pg.folio < 0 || pg.data === r.data) continue;
      for (const w of mappersOf(m, cfg, r.pfn)) {
        if (w.mm === r.mm || m.mms[w.mm].expect[w.va] !== pg.data) continue;
        const holder = m.mms[r.mm].name;
        return `${holder}'s ${r.foll_pin ? "pin" : "GUP reference (its pipe)"} holds pfn ${r.pfn}, taken when it held "${r.data}"; ${m.mms[w.mm].name} has since written "${pg.data}" into that same page, so ${holder} can read it`;
      }
    }
    return null;
  },
};

/**
 * INV-PIN-EXCL (races.md R3): no page table shared between mms maps a pinned
 * page. Only pins GUP has returned count: a GUP-fast grab still in flight may
 * yet be undone by its re-checks (PTE changed, write_protect_seq moved).
 */
const pinInSharedTable: Oracle = {
  id: "pin-in-shared-table",
  kind: "invariant",
  title: "A pinned page sits in a page table that another process shares",
  check: (cfg, m) => {
    for (const pin of m.pins) {
      if (!pin.foll_pin) continue;
      for (let t = 0; t < m.tables.length; t++) {
        const tab = m.tables[t];
        if (tab.refcount < 2) continue;
        if (!tab.ptes.some((pte) => pte_present(pte) && !pte_special(pte) && pte_pfn(pte) === pin.pfn)) continue;
        const sharers = m.mms.filter((mm) => mm.pmd.includes(t)).map((mm) => mm.name);
        return `pfn ${pin.pfn} is pinned by ${m.mms[pin.mm].name} (refcount ${m.folios[m.pages[pin.pfn].folio]?.refcount ?? 0}), and its PTE sits in table ${t}, shared by ${sharers.join(" and ")}: the child's mappings reach the DMA buffer`;
      }
    }
    return null;
  },
};

/** races.md R4: a PTE installed into a torn-down VMA (or a freed page table). */
const pteAfterTeardown: Oracle = {
  id: "pte-after-teardown",
  kind: "invariant",
  title: "A PTE was installed where no VMA is (after munmap tore it down)",
  check: (cfg, m) => {
    for (let i = 0; i < m.mms.length; i++) {
      const mm = m.mms[i];
      if (mm.state !== "alive") continue;
      for (let slot = 0; slot < mm.pmd.length; slot++) {
        const t = mm.pmd[slot];
        if (t < 0) continue;
        const ptes = m.tables[t].ptes;
        for (let j = 0; j < ptes.length; j++) {
          if (!pte_present(ptes[j])) continue;
          const va = slot * cfg.ptrs + j;
          if (mm.vmas.some((v) => va >= v.start && va < v.end)) continue;
          return `${mm.name}'s page ${va} has a present PTE (pfn ${pte_pfn(ptes[j])}), but no VMA covers it: it was installed after munmap tore the VMA down, and nothing will ever zap it`;
        }
      }
    }
    for (let t = 0; t < m.tables.length; t++) {
      if (m.tables[t].mm < 0 && m.tables[t].ptes.some(pte_present)) return `table ${t} was freed but holds a present PTE`;
    }
    return null;
  },
};

/**
 * races.md R8: "We must not take any concurrent page faults on the source
 * vma's as they are being processed" (fb49c455323f). The engine records the
 * witness when a CPU other than the forking one changes a PTE or the
 * anon_vma of a VMA that fork is copying.
 */
const forkSourceChanged: Oracle = {
  id: "fork-source-changed",
  kind: "invariant",
  title: "A page fault changed a VMA while fork was copying it (fork's rule of fb49c455323f)",
  check: (cfg, m) => {
    for (const mm of m.mms) {
      const v = mm.vmas.find((x) => x.changedDuringFork);
      // The rule, and why breaking it is harmful, without claiming this change lost data (a COW copy by itself does not).
      if (v) return `a CPU faulted on ${mm.name}'s VMA at pages ${v.start}-${v.end - 1} and changed its page table while fork was copying that VMA, breaking fork's rule "We must not take any concurrent page faults on the source vma's as they are being processed" (fb49c455323f): fork chose anon_vma_fork() before the copy and flushes the parent's TLBs only after it, so a fault in between can break the child's rmap or a COW copy can miss a store made through a stale TLB entry`;
    }
    return null;
  },
};

/**
 * races.md INV-CONT: a contiguous block is all-or-nothing whenever its PTL is
 * free (inside contpte_convert the PTL is held and the block is all invalid),
 * and the walker never reads a CONT entry whose valid neighbours disagree.
 */
const contMisprogrammed: Oracle = {
  id: "cont-misprogrammed",
  kind: "invariant",
  title: "Misprogrammed contiguous bit: a CONT block whose entries disagree",
  check: (cfg, m) => {
    if (m.hw?.oracle === "cont-misprogrammed") return m.hw.message;
    if (cfg.kernel.contpte === "none") return null;
    for (let i = 0; i < m.mms.length; i++) {
      const mm = m.mms[i];
      for (let slot = 0; slot < mm.pmd.length; slot++) {
        const t = mm.pmd[slot];
        if (t < 0 || m.tables[t].ptl >= 0) continue;
        const ptes = m.tables[t].ptes;
        for (let bs = 0; bs < ptes.length; bs += CONT_PTES) {
          const problem = contGroupProblem(m, ptes, bs, false, slot * cfg.ptrs);
          if (problem) return `${mm.name}'s page table holds a broken contiguous block (pages ${slot * cfg.ptrs + bs}-${slot * cfg.ptrs + bs + CONT_PTES - 1}) with its PTL free: ${problem}. The hardware may cache one entry for the block from any of them ("Unconsistent 16 PTEs will lead to crash")`;
        }
      }
    }
    return null;
  },
};

/** races.md INV-TLB: no TLB holds two entries that translate one address. */
const tlbConflict: Oracle = {
  id: "tlb-conflict",
  kind: "invariant",
  title: "TLB conflict: two TLB entries translate one address",
  check: (cfg, m) => (m.hw?.oracle === "tlb-conflict" ? m.hw.message : null),
};

/** Tutorial milestone: a parent and its child map the same address to different pages (a COW copy happened). */
const cowCopied: Oracle = {
  id: "cow-copied",
  kind: "milestone",
  title: "Copy on write: parent and child now map different pages",
  check: (cfg, m) => {
    for (let c = 0; c < m.mms.length; c++) {
      const p = cfg.parents[c];
      if (p < 0 || m.mms[c].state !== "alive" || m.mms[p].state !== "alive") continue;
      for (let va = 0; va < m.mms[c].expect.length; va++) {
        const a = getPte(m, cfg, p, va);
        const b = getPte(m, cfg, c, va);
        if (pte_present(a) && pte_present(b) && pte_pfn(a) !== pte_pfn(b)) {
          return `${m.mms[p].name}'s page ${va} maps pfn ${pte_pfn(a)} ("${m.pages[pte_pfn(a)].data}") and ${m.mms[c].name}'s maps pfn ${pte_pfn(b)} ("${m.pages[pte_pfn(b)].data}"): the write fault copied the page`;
        }
      }
    }
    return null;
  },
};

/** Tutorial milestone: a CPU waits for a TLB-flush ack that a CPU with IRQs off cannot send yet. */
const ipiWait: Oracle = {
  id: "ipi-wait",
  kind: "milestone",
  title: "A TLB shootdown waits for a CPU with IRQs off",
  check: (cfg, m) => {
    for (let i = 0; i < m.cpus.length; i++) {
      const c = m.cpus[i];
      if (c.wait?.kind === "acks" && c.waitAcks.length > 0) return `${cpuLabel(cfg, i)} is ${describeWait(cfg, m, i, c.wait)}`;
    }
    return null;
  },
};

/** Who a blocked CPU waits for (IPI acks included: a CPU with IRQs off does not ack). */
export function waitsFor(m: Machine, cpu: number): number[] {
  const c = m.cpus[cpu];
  if (!c.wait || !waitHolds(m, cpu, c.wait)) return [];
  const w = c.wait;
  switch (w.kind) {
    case "spin": {
      const h = lockHolder(m, w.lock);
      return h >= 0 ? [h] : [lockQueue(m, w.lock)[0]];
    }
    case "rwsem": {
      // The holders, and every waiter queued ahead (they go first).
      const s = m.mms[w.mm].mmapLock;
      const at = s.waiters.findIndex((x) => x.cpu === cpu);
      const ahead = (at < 0 ? s.waiters : s.waiters.slice(0, at)).map((x) => x.cpu);
      return [...(s.writer >= 0 ? [s.writer] : s.readers), ...ahead];
    }
    case "acks":
      return c.waitAcks;
    case "process":
      return [];
    case "child":
      return m.cpus.flatMap((x, i) => (x.mm === w.mm && !x.done ? [i] : []));
    case "vmalock":
      return m.mms[w.mm].vmas.find((x) => x.start === w.start)?.lockReaders ?? [];
  }
}

/** A cycle in the wait-for graph, as a list of CPUs, or null. */
export function waitCycle(m: Machine): number[] | null {
  const n = m.cpus.length;
  const colour = new Array<number>(n).fill(0);
  const stack: number[] = [];
  const dfs = (u: number): number[] | null => {
    colour[u] = 1;
    stack.push(u);
    for (const v of waitsFor(m, u)) {
      if (v < 0 || v === u) continue;
      if (colour[v] === 1) return stack.slice(stack.indexOf(v));
      if (colour[v] === 0) {
        const r = dfs(v);
        if (r) return r;
      }
    }
    stack.pop();
    colour[u] = 2;
    return null;
  };
  for (let i = 0; i < n; i++) if (colour[i] === 0) {
    const r = dfs(i);
    if (r) return r;
  }
  return null;
}

const deadlock: Oracle = {
  id: "deadlock",
  kind: "invariant",
  title: "Deadlock: CPUs wait for each other in a cycle",
  check: (cfg, m) => {
    const cyc = waitCycle(m);
    if (!cyc) return null;
    return "deadlock: " + cyc.map((i) => `${cpuLabel(cfg, i)} is ${describeWait(cfg, m, i, m.cpus[i].wait!)}`).join("; ");
  },
};

const livelock: Oracle = {
  id: "livelock",
  kind: "invariant",
  title: "Livelock: the machine returns to a state it was in, and no CPU made progress",
  check: () => null,
};

export const ORACLES: Record<OracleId, Oracle> = {
  "lost-update": lostUpdate,
  "lost-dma-write": lostDmaWrite,
  "pin-cowed-away": pinCowedAway,
  "pin-shared": pinShared,
  "lost-user-write": lostUserWrite,
  "cow-isolation": cowIsolation,
  "pin-in-shared-table": pinInSharedTable,
  "pte-after-teardown": pteAfterTeardown,
  "fork-source-changed": forkSourceChanged,
  "cont-misprogrammed": contMisprogrammed,
  "tlb-conflict": tlbConflict,
  "cow-copied": cowCopied,
  "ipi-wait": ipiWait,
  deadlock,
  livelock,
};

export interface Violation {
  oracle: OracleId;
  message: string;
}

/**
 * The oracles a run of a level watches after every step: its goal (livelock is
 * judged over histories, not states, so it is left out here) and deadlock,
 * which ends any run.
 */
export function watchedOracles(goal: readonly OracleId[]): OracleId[] {
  return [...goal.filter((o) => o !== "livelock"), ...(goal.includes("deadlock") ? [] : (["deadlock"] as const))];
}

/** The first oracle of `ids` that fails on m (deadlock is always checked). */
export function checkOracles(cfg: Config, m: Machine, ids: readonly OracleId[]): Violation | null {
  for (const id of ids) {
    const msg = ORACLES[id].check(cfg, m);
    if (msg) return { oracle: id, message: msg };
  }
  return null;
}

/**
 * Which of `ids` fail on m, as a bit mask by position in `ids` (bit i: ids[i]); livelock, judged
 * over histories, never sets its bit. A state where several oracles fire sets them all.
 */
export function firedMask(cfg: Config, m: Machine, ids: readonly OracleId[]): number {
  let mask = 0;
  ids.forEach((id, i) => {
    if (ORACLES[id].check(cfg, m)) mask |= 1 << i;
  });
  return mask >>> 0;
}
