// Cloning and canonical hashing of machine states. Both are hand-written for
// speed: the explorer clones once per transition and hashes once per state.

import type { Cpu, Folio, Frame, Locals, Machine, Mm, Page, Pin, PteTable, TlbEntry, Vma, Wait } from "./types.js";

// Explicit object literals and counted loops: V8 builds each clone with the
// shape of the original in one allocation, where spreads and map() closures
// cost about twice as much in the explorer's profile.

function cloneLocals(l: Locals): Locals {
  const out: Locals = {};
  for (const k in l) {
    const v = l[k];
    out[k] = Array.isArray(v) ? v.slice() : v;
  }
  return out;
}

function cloneFrames(fs: Frame[]): Frame[] {
  const out = new Array<Frame>(fs.length);
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i];
    out[i] = { path: f.path, pc: f.pc, l: cloneLocals(f.l) };
  }
  return out;
}

function cloneTlb(es: TlbEntry[]): TlbEntry[] {
  const out = new Array<TlbEntry>(es.length);
  for (let i = 0; i < es.length; i++) {
    const e = es[i];
    out[i] = { mm: e.mm, va: e.va, pfn: e.pfn, write: e.write, cont: e.cont };
  }
  return out;
}

function cloneWait(w: Wait): Wait {
  switch (w.kind) {
    case "spin":
      return { kind: "spin", lock: w.lock.kind === "ptl" ? { kind: "ptl", table: w.lock.table } : { kind: "spinlock", id: w.lock.id } };
    case "rwsem":
      return { kind: "rwsem", mm: w.mm, write: w.write };
    case "acks":
    case "process":
      return { kind: w.kind };
    case "child":
      return { kind: "child", mm: w.mm };
    case "vmalock":
      return { kind: "vmalock", mm: w.mm, start: w.start };
  }
}

function cloneCpu(c: Cpu): Cpu {
  return {
    name: c.name,
    mm: c.mm,
    prog: c.prog,
    frames: cloneFrames(c.frames),
    irqsOff: c.irqsOff,
    needResched: c.needResched,
    tlb: c.tlb.length === 0 ? [] : cloneTlb(c.tlb),
    ipis: c.ipis.length === 0 ? [] : c.ipis.map((i) => ({ from: i.from, mm: i.mm, start: i.start, end: i.end })),
    waitAcks: c.waitAcks.slice(),
    wait: c.wait ? cloneWait(c.wait) : null,
    done: c.done,
    segv: c.segv,
  };
}

function cloneVmas(vs: Vma[]): Vma[] {
  const out = new Array<Vma>(vs.length);
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i];
    out[i] = {
      start: v.start,
      end: v.end,
      flags: v.flags,
      anon: v.anon,
      anonVma: v.anonVma,
      seq: v.seq,
      lockSeq: v.lockSeq,
      lockReaders: v.lockReaders.slice(),
      lockWriter: v.lockWriter,
      detached: v.detached,
      forkCopying: v.forkCopying,
      changedDuringFork: v.changedDuringFork,
    };
  }
  return out;
}

function cloneMm(mm: Mm): Mm {
  return {
    name: mm.name,
    state: mm.state,
    mmapLock: {
      writer: mm.mmapLock.writer,
      readers: mm.mmapLock.readers.slice(),
      waiters: mm.mmapLock.waiters.length === 0 ? [] : mm.mmapLock.waiters.map((w) => ({ cpu: w.cpu, write: w.write })),
    },
    writeProtectSeq: mm.writeProtectSeq,
    hasPinned: mm.hasPinned,
    vmas: cloneVmas(mm.vmas),
    pmd: mm.pmd.slice(),
    pmdWrprotect: mm.pmdWrprotect.slice(),
    expect: mm.expect.slice(),
    lockSeq: mm.lockSeq,
    tlbFlushPending: mm.tlbFlushPending,
  };
}

function cloneQueues(q: Record<string, number[]>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const k in q) out[k] = q[k].slice();
  return out;
}

export function cloneMachine(m: Machine): Machine {
  const cpus = new Array<Cpu>(m.cpus.length);
  for (let i = 0; i < cpus.length; i++) cpus[i] = cloneCpu(m.cpus[i]);
  const mms = new Array<Mm>(m.mms.length);
  for (let i = 0; i < mms.length; i++) mms[i] = cloneMm(m.mms[i]);
  const tables = new Array<PteTable>(m.tables.length);
  for (let i = 0; i < tables.length; i++) {
    const t = m.tables[i];
    tables[i] = { ptes: t.ptes.slice(), ptl: t.ptl, mm: t.mm, refcount: t.refcount, cowExclusive: t.cowExclusive };
  }
  const pages = new Array<Page>(m.pages.length);
  const folios = new Array<Folio | null>(m.folios.length);
  for (let i = 0; i < pages.length; i++) {
    const p = m.pages[i];
    pages[i] = { folio: p.folio, mapcount: p.mapcount, anonExclusive: p.anonExclusive, data: p.data, dmabuf: p.dmabuf };
  }
  for (let i = 0; i < folios.length; i++) {
    const f = m.folios[i];
    folios[i] = f ? { nr: f.nr, refcount: f.refcount, pincount: f.pincount, locked: f.locked, anon: f.anon } : null;
  }
  const pins = new Array<Pin>(m.pins.length);
  for (let i = 0; i < pins.length; i++) {
    const p = m.pins[i];
    pins[i] = { mm: p.mm, va: p.va, pfn: p.pfn, write: p.write, foll_pin: p.foll_pin, by: p.by, data: p.data };
  }
  return {
    cpus,
    mms,
    tables,
    pages,
    folios,
    pins,
    dma: { pin: m.dma.pin, done: m.dma.done },
    vars: m.vars.slice(),
    spinlocks: m.spinlocks.slice(),
    lockQueues: cloneQueues(m.lockQueues),
    hw: m.hw ? { oracle: m.hw.oracle, message: m.hw.message } : null,
  };
}

/**
 * Canonical key of a state. Every field of Machine affects the future or an
 * oracle, and every object is built by the same code in the same key order,
 * so equal states give equal strings.
 */
export function hashMachine(m: Machine): string {
  return JSON.stringify(m);
}

/** A 32-bit digest of hashMachine(m) (FNV-1a): equal states give equal digests; a match still needs hashMachine to confirm. */
export function digestMachine(m: Machine): number {
  const k = hashMachine(m);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
