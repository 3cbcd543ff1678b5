// Primitive operations on the machine, named after the kernel functions they
// model. They mutate a draft machine that the engine has already cloned.

import type { Config } from "./config.js";
import { CONT_PTES, contBlockStart, pte_pfn, pte_present } from "./pte.js";
import type { Cpu, Folio, LockRef, Machine, Mm, PteTable, RwSem, TlbEntry, Vma, Wait } from "./types.js";
export type { RwSem };

/** FOLL_PIN on a small folio adds this to the refcount (include/linux/mm.h). */
export const GUP_PIN_COUNTING_BIAS = 1024;

// ---------------------------------------------------------------- page tables

export function tableOf(m: Machine, cfg: Config, mm: number, va: number): number {
  const t = m.mms[mm].pmd[Math.floor(va / cfg.ptrs)];
  return t === undefined ? -1 : t;
}

export function getPte(m: Machine, cfg: Config, mm: number, va: number): number {
  const t = tableOf(m, cfg, mm, va);
  return t < 0 ? 0 : m.tables[t].ptes[va % cfg.ptrs];
}

export function setPte(m: Machine, cfg: Config, mm: number, va: number, pte: number): void {
  const t = tableOf(m, cfg, mm, va);
  if (t < 0) throw new Error(`set_pte_at: no page table for va ${va}`);
  m.tables[t].ptes[va % cfg.ptrs] = pte;
}

/** pte_alloc: make sure a PTE table covers va; returns its id. */
export function pteAlloc(m: Machine, cfg: Config, mm: number, va: number): number {
  const slot = Math.floor(va / cfg.ptrs);
  const pmd = m.mms[mm].pmd;
  while (pmd.length <= slot) pmd.push(-1);
  if (pmd[slot] < 0) {
    const table: PteTable = { ptes: new Array(cfg.ptrs).fill(0), ptl: -1, mm, refcount: 1, cowExclusive: false };
    m.tables.push(table);
    pmd[slot] = m.tables.length - 1;
    const wp = m.mms[mm].pmdWrprotect;
    while (wp.length < pmd.length) wp.push(false);
  }
  return pmd[slot];
}

export function findVma(mm: Mm, va: number): Vma | null {
  for (const v of mm.vmas) if (!v.detached && va >= v.start && va < v.end) return v;
  return null;
}

export const isCowMapping = (flags: number): boolean => (flags & (8 /* VM_SHARED */ | 0x20 /* VM_MAYWRITE */)) === 0x20;

// ---------------------------------------------------------------- folios

export function folioOf(m: Machine, pfn: number): Folio {
  const head = m.pages[pfn].folio;
  const f = head >= 0 ? m.folios[head] : null;
  if (!f) throw new Error(`pfn ${pfn} is not part of a folio`);
  return f;
}

/** folio_maybe_dma_pinned(): refcount >= 1024 for small folios, _pincount for large. */
export function maybeDmaPinned(m: Machine, pfn: number): boolean {
  const f = folioOf(m, pfn);
  return f.nr === 1 ? f.refcount >= GUP_PIN_COUNTING_BIAS : f.pincount > 0;
}

export function folioGet(m: Machine, pfn: number, n = 1): void {
  folioOf(m, pfn).refcount += n;
}

/** folio_put: at zero the frames go back to the free pool. */
export function folioPut(m: Machine, pfn: number, n = 1): void {
  const head = m.pages[pfn].folio;
  const f = folioOf(m, pfn);
  f.refcount -= n;
  if (f.refcount < 0) throw new Error(`refcount underflow on pfn ${pfn}`);
  if (f.refcount === 0) {
    for (let i = 0; i < f.nr; i++) {
      const p = m.pages[head + i];
      p.folio = -1;
      p.mapcount = 0;
      p.anonExclusive = false;
      p.data = "";
      p.dmabuf = "";
    }
    m.folios[head] = null;
  }
}

/** alloc_page: the lowest free frame, refcount 1, so allocation is deterministic. */
export function allocPage(m: Machine, data = ""): number {
  for (let pfn = 1; pfn < m.pages.length; pfn++) {
    if (m.pages[pfn].folio < 0) {
      m.pages[pfn] = { folio: pfn, mapcount: 0, anonExclusive: false, data, dmabuf: "" };
      m.folios[pfn] = { nr: 1, refcount: 1, pincount: 0, locked: false, anon: true };
      return pfn;
    }
  }
  throw new Error(`out of memory: the level's ${m.pages.length} page frames (machine.frames) run out; give more`);
}

/**
 * Allocate a large folio of nr pages at the lowest free, naturally aligned
 * run of frames (an mTHP folio: contpte needs the PFN aligned as well).
 * refcount 1 (the allocation's); each further mapping PTE adds one (folio_ref_add).
 */
export function allocFolio(m: Machine, nr: number, data = ""): number {
  for (let head = nr; head + nr <= m.pages.length; head += nr) {
    let free = true;
    for (let i = 0; i < nr; i++) if (m.pages[head + i].folio >= 0) free = false;
    if (!free) continue;
    for (let i = 0; i < nr; i++) m.pages[head + i] = { folio: head, mapcount: 0, anonExclusive: false, data, dmabuf: "" };
    m.folios[head] = { nr, refcount: 1, pincount: 0, locked: false, anon: true };
    return head;
  }
  throw new Error(`out of memory: no free aligned run of ${nr} page frames (the level gives too few frames)`);
}

/** pfn 0 is the shared zero page (my_zero_pfn). */
export const ZERO_PFN = 0;

// ---------------------------------------------------------------- locks

export function lockHolder(m: Machine, lock: LockRef): number {
  return lock.kind === "ptl" ? m.tables[lock.table].ptl : m.spinlocks[lock.id];
}

function setLockHolder(m: Machine, lock: LockRef, cpu: number): void {
  if (lock.kind === "ptl") m.tables[lock.table].ptl = cpu;
  else m.spinlocks[lock.id] = cpu;
}

const queueKey = (lock: LockRef) => (lock.kind === "ptl" ? `t${lock.table}` : `s${lock.id}`);

/** The CPUs queued on a lock, head first. */
export function lockQueue(m: Machine, lock: LockRef): readonly number[] {
  return m.lockQueues[queueKey(lock)] ?? [];
}

function setQueue(m: Machine, lock: LockRef, q: number[]): void {
  const k = queueKey(lock);
  const next = { ...m.lockQueues };
  if (q.length) next[k] = q;
  else delete next[k];
  m.lockQueues = next;
}

/**
 * spin_lock: take the lock if it is free and nobody queued first; otherwise
 * join the FIFO queue (qspinlock) and report the wait.
 */
export function spinLock(m: Machine, cpu: number, lock: LockRef): Wait | null {
  const h = lockHolder(m, lock);
  if (h === cpu) throw new Error(`CPU${cpu} would deadlock on a lock it holds (recursive spin_lock)`);
  const q = lockQueue(m, lock);
  if (h < 0 && (q.length === 0 || q[0] === cpu)) {
    setLockHolder(m, lock, cpu);
    if (q[0] === cpu) setQueue(m, lock, q.slice(1));
    return null;
  }
  if (!q.includes(cpu)) setQueue(m, lock, [...q, cpu]);
  return { kind: "spin", lock };
}

/** spin_trylock: fails while the lock is held or contended (a queued waiter sets the lock word). */
export function spinTrylock(m: Machine, cpu: number, lock: LockRef): boolean {
  if (lockHolder(m, lock) >= 0 || lockQueue(m, lock).length > 0) return false;
  setLockHolder(m, lock, cpu);
  return true;
}

export function spinUnlock(m: Machine, cpu: number, lock: LockRef): void {
  const h = lockHolder(m, lock);
  if (h !== cpu) throw new Error(`CPU${cpu} unlocks a lock held by ${h < 0 ? "nobody" : "CPU" + h}`);
  setLockHolder(m, lock, -1);
}

export const ptl = (table: number): LockRef => ({ kind: "ptl", table });

/**
 * Whether cpu may take the rwsem now: no writer holds it, and every waiter
 * queued ahead of cpu is a reader (readers at the head of the queue are
 * woken together); a writer also needs it free of readers.
 */
export function rwsemCanTake(s: RwSem, cpu: number, write: boolean): boolean {
  if (s.writer >= 0) return false;
  const at = s.waiters.findIndex((w) => w.cpu === cpu);
  const ahead = at < 0 ? s.waiters : s.waiters.slice(0, at);
  if (write) return s.readers.length === 0 && ahead.length === 0;
  return ahead.every((w) => !w.write);
}

function rwsemTake(m: Machine, cpu: number, mm: number, write: boolean): Wait | null {
  const s = m.mms[mm].mmapLock;
  if (!rwsemCanTake(s, cpu, write)) {
    if (!s.waiters.some((w) => w.cpu === cpu)) s.waiters = [...s.waiters, { cpu, write }];
    return { kind: "rwsem", mm, write };
  }
  s.waiters = s.waiters.filter((w) => w.cpu !== cpu);
  if (write) s.writer = cpu;
  else s.readers = [...s.readers, cpu].sort((a, b) => a - b);
  return null;
}

export const downRead = (m: Machine, cpu: number, mm: number): Wait | null => rwsemTake(m, cpu, mm, false);
export const downWrite = (m: Machine, cpu: number, mm: number): Wait | null => rwsemTake(m, cpu, mm, true);

export function upRead(m: Machine, cpu: number, mm: number): void {
  const s = m.mms[mm].mmapLock;
  const i = s.readers.indexOf(cpu);
  if (i < 0) throw new Error(`CPU${cpu} releases an mmap_lock it does not hold for read`);
  s.readers = s.readers.filter((r) => r !== cpu);
}

export function upWrite(m: Machine, cpu: number, mm: number): void {
  const s: RwSem = m.mms[mm].mmapLock;
  if (s.writer !== cpu) throw new Error(`CPU${cpu} releases an mmap_lock it does not hold for write`);
  s.writer = -1;
  // mmap_write_unlock() -> vma_end_write_all(): every VMA write lock of this cycle drops at once.
  m.mms[mm].lockSeq++;
}

/** Whether a recorded wait still blocks its CPU. */
export function waitHolds(m: Machine, cpu: number, w: Wait): boolean {
  switch (w.kind) {
    case "spin":
      return lockHolder(m, w.lock) >= 0 || lockQueue(m, w.lock)[0] !== cpu;
    case "rwsem":
      return !rwsemCanTake(m.mms[w.mm].mmapLock, cpu, w.write);
    case "acks":
      return m.cpus[cpu].waitAcks.length > 0;
    case "process":
      return m.mms[m.cpus[cpu].mm].state !== "alive";
    case "child":
      return m.mms[w.mm].state !== "dead";
    case "vmalock": {
      const v = m.mms[w.mm].vmas.find((x) => x.start === w.start);
      return !!v && (v.lockReaders.length > 0 || v.lockWriter >= 0);
    }
  }
}

// ---------------------------------------------------------------- TLBs and IPIs

/** Whether a TLB entry translates va (a block entry covers its whole block). */
export const tlbCovers = (e: TlbEntry, mm: number, va: number): boolean =>
  e.mm === mm && (e.cont ? va >= e.va && va < e.va + CONT_PTES : e.va === va);


/** The translation c's TLB gives va, or null on a miss. */
export function tlbLookup(c: Cpu, mm: number, va: number): { pfn: number; write: boolean; entry: TlbEntry } | null {
  for (const e of c.tlb) if (tlbCovers(e, mm, va)) return { pfn: e.cont ? e.pfn + (va - e.va) : e.pfn, write: e.write, entry: e };
  return null;
}

/**
 * Cache a translation. A page entry replaces one for the same page; a block
 * entry (cont) is cached for the block's first page and pfn. Entries that
 * overlap it are kept: hardware does not merge them (that is a conflict).
 */
export function tlbFill(c: Cpu, mm: number, va: number, pfn: number, write: boolean, cont = false): void {
  if (cont) {
    const bs = contBlockStart(va);
    c.tlb = c.tlb.filter((e) => !(e.mm === mm && e.cont && e.va === bs));
    c.tlb.push({ mm, va: bs, pfn: pfn - (va - bs), write, cont: true });
  } else {
    c.tlb = c.tlb.filter((e) => !(e.mm === mm && !e.cont && e.va === va));
    c.tlb.push({ mm, va, pfn, write, cont: false });
  }
  c.tlb.sort((a, b) => a.mm - b.mm || a.va - b.va || Number(a.cont) - Number(b.cont));
}

/** Drop this CPU's entries for [start, end) of mm: a TLBI by VA also removes a block entry that covers it. */
export function tlbFlushRange(c: Cpu, mm: number, start: number, end: number): void {
  c.tlb = c.tlb.filter((e) => !(e.mm === mm && e.va < end && (e.cont ? e.va + CONT_PTES : e.va + 1) > start));
}

/** CPUs that may hold TLB entries of mm: those running a task of it (mm_cpumask). */
export function mmCpus(m: Machine, mm: number): number[] {
  const out: number[] = [];
  m.cpus.forEach((c, i) => {
    if (c.mm === mm || c.tlb.some((e) => e.mm === mm)) out.push(i);
  });
  return out;
}

/**
 * x86 flush_tlb_multi: send a flush IPI to every other CPU of mm. A CPU with
 * IRQs on runs flush_tlb_func() at once and acks; one with IRQs off keeps the
 * IPI pending and the sender waits for its ack.
 */
export function sendFlushIpis(m: Machine, cpu: number, mm: number, start: number, end: number, notes?: string[]): void {
  const me = m.cpus[cpu];
  for (const t of mmCpus(m, mm)) {
    if (t === cpu) continue;
    const tc = m.cpus[t];
    if (!tc.irqsOff) {
      tlbFlushRange(tc, mm, start, end);
      notes?.push(`IPI to CPU${t}: IRQs on, so it flushes and acks at once`);
    } else {
      notes?.push(`IPI to CPU${t}: IRQs off, so it cannot ack until it re-enables them`);
      tc.ipis = [...tc.ipis, { from: cpu, mm, start, end }];
      if (!me.waitAcks.includes(t)) me.waitAcks = [...me.waitAcks, t].sort((a, b) => a - b);
    }
  }
}

/** arm64 TLBI ...IS + DSB: every CPU's entries go, and nobody is asked to ack. */
export function broadcastFlush(m: Machine, mm: number, start: number, end: number): void {
  for (const c of m.cpus) tlbFlushRange(c, mm, start, end);
}

/** local_irq_enable(): pending IPIs are taken now: flush, then ack the sender. */
export function irqEnable(m: Machine, cpu: number): void {
  const c = m.cpus[cpu];
  c.irqsOff = false;
  for (const ipi of c.ipis) {
    tlbFlushRange(c, ipi.mm, ipi.start, ipi.end);
    const s = m.cpus[ipi.from];
    s.waitAcks = s.waitAcks.filter((x) => x !== cpu);
  }
  c.ipis = [];
}

export function irqDisable(m: Machine, cpu: number): void {
  m.cpus[cpu].irqsOff = true;
}

// ---------------------------------------------------------------- rmap helpers

/** Every (mm, va) whose present PTE maps pfn. */
export function mappersOf(m: Machine, cfg: Config, pfn: number): { mm: number; va: number }[] {
  const out: { mm: number; va: number }[] = [];
  m.mms.forEach((mm, i) => {
    if (mm.state === "unborn" || mm.state === "dead") return;
    mm.pmd.forEach((t, slot) => {
      if (t < 0) return;
      m.tables[t].ptes.forEach((pte, j) => {
        if (pte_present(pte) && pte_pfn(pte) === pfn) out.push({ mm: i, va: slot * cfg.ptrs + j });
      });
    });
  });
  return out;
}

