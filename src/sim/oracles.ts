// Oracles: invariants checked after every step. Each returns null while the
// invariant holds, or a message that says what broke and where, in kernel terms.

import type { Config } from "./config.js";
import { cpuLabel, describeWait } from "./engine.js";
import { getPte, lockHolder, mappersOf, waitHolds } from "./machine.js";
import { pte_pfn, pte_present } from "./pte.js";
import type { Machine } from "./types.js";

export const ORACLE_IDS = [
  "lost-update",
  "lost-dma-write",
  "pin-cowed-away",
  "pin-shared",
  "lost-user-write",
  "deadlock",
  "livelock",
] as const;
export type OracleId = (typeof ORACLE_IDS)[number];

export interface Oracle {
  id: OracleId;
  title: string;
  /** null when the invariant holds (livelock is checked over histories, not states). */
  check: (cfg: Config, m: Machine) => string | null;
}

const vaName = (m: Machine, mm: number, va: number) => `${m.mms[mm].name}'s page ${va}`;

const lostUpdate: Oracle = {
  id: "lost-update",
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

/** Who a blocked CPU waits for (IPI acks included: a CPU with IRQs off does not ack). */
export function waitsFor(m: Machine, cpu: number): number[] {
  const c = m.cpus[cpu];
  if (!c.wait || !waitHolds(m, cpu, c.wait)) return [];
  const w = c.wait;
  switch (w.kind) {
    case "spin":
      return [lockHolder(m, w.lock)];
    case "rwsem": {
      const s = m.mms[w.mm].mmapLock;
      return s.writer >= 0 ? [s.writer] : w.write ? s.readers : [];
    }
    case "acks":
      return c.waitAcks;
    case "process":
      return [];
    case "child":
      return m.cpus.flatMap((x, i) => (x.mm === w.mm && !x.done ? [i] : []));
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
  title: "Deadlock: CPUs wait for each other in a cycle",
  check: (cfg, m) => {
    const cyc = waitCycle(m);
    if (!cyc) return null;
    return "deadlock: " + cyc.map((i) => `${cpuLabel(cfg, i)} is ${describeWait(cfg, m, i, m.cpus[i].wait!)}`).join("; ");
  },
};

const livelock: Oracle = {
  id: "livelock",
  title: "Livelock: the machine returns to a state it was in, and no CPU made progress",
  check: () => null,
};

export const ORACLES: Record<OracleId, Oracle> = {
  "lost-update": lostUpdate,
  "lost-dma-write": lostDmaWrite,
  "pin-cowed-away": pinCowedAway,
  "pin-shared": pinShared,
  "lost-user-write": lostUserWrite,
  deadlock,
  livelock,
};

export interface Violation {
  oracle: OracleId;
  message: string;
}

/** The first oracle of `ids` that fails on m (deadlock is always checked). */
export function checkOracles(cfg: Config, m: Machine, ids: readonly OracleId[]): Violation | null {
  for (const id of ids) {
    const msg = ORACLES[id].check(cfg, m);
    if (msg) return { oracle: id, message: msg };
  }
  return null;
}
