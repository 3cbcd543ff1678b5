// Cloning and canonical hashing of machine states. Both are hand-written for
// speed: the explorer clones once per transition and hashes once per state.

import type { Cpu, Frame, Locals, Machine, Mm, Page, PteTable } from "./types.js";

function cloneLocals(l: Locals): Locals {
  const out: Locals = {};
  for (const k in l) {
    const v = l[k];
    out[k] = Array.isArray(v) ? v.slice() : v;
  }
  return out;
}

const cloneFrame = (f: Frame): Frame => ({ path: f.path, pc: f.pc, l: cloneLocals(f.l) });

function cloneCpu(c: Cpu): Cpu {
  return {
    name: c.name,
    mm: c.mm,
    prog: c.prog,
    frames: c.frames.map(cloneFrame),
    irqsOff: c.irqsOff,
    needResched: c.needResched,
    tlb: c.tlb.map((e) => ({ mm: e.mm, va: e.va, pfn: e.pfn, write: e.write, cont: e.cont })),
    ipis: c.ipis.map((i) => ({ from: i.from, mm: i.mm, start: i.start, end: i.end })),
    waitAcks: c.waitAcks.slice(),
    wait: c.wait ? (c.wait.kind === "spin" ? { kind: "spin", lock: { ...c.wait.lock } } : { ...c.wait }) : null,
    done: c.done,
    segv: c.segv,
  };
}

function cloneMm(mm: Mm): Mm {
  return {
    name: mm.name,
    state: mm.state,
    mmapLock: { writer: mm.mmapLock.writer, readers: mm.mmapLock.readers.slice(), waiters: mm.mmapLock.waiters.map((w) => ({ cpu: w.cpu, write: w.write })) },
    writeProtectSeq: mm.writeProtectSeq,
    hasPinned: mm.hasPinned,
    vmas: mm.vmas.map((v) => ({ ...v, lockReaders: v.lockReaders.slice() })),
    pmd: mm.pmd.slice(),
    pmdWrprotect: mm.pmdWrprotect.slice(),
    expect: mm.expect.slice(),
    lockSeq: mm.lockSeq,
    tlbFlushPending: mm.tlbFlushPending,
  };
}

const cloneTable = (t: PteTable): PteTable => ({ ptes: t.ptes.slice(), ptl: t.ptl, mm: t.mm, refcount: t.refcount, cowExclusive: t.cowExclusive });
const clonePage = (p: Page): Page => ({ folio: p.folio, mapcount: p.mapcount, anonExclusive: p.anonExclusive, data: p.data, dmabuf: p.dmabuf });

function cloneQueues(q: Record<string, number[]>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const k in q) out[k] = q[k].slice();
  return out;
}

export function cloneMachine(m: Machine): Machine {
  return {
    cpus: m.cpus.map(cloneCpu),
    mms: m.mms.map(cloneMm),
    tables: m.tables.map(cloneTable),
    pages: m.pages.map(clonePage),
    folios: m.folios.map((f) => (f ? { ...f } : null)),
    pins: m.pins.map((p) => ({ ...p })),
    dma: { ...m.dma },
    vars: m.vars.slice(),
    spinlocks: m.spinlocks.slice(),
    lockQueues: cloneQueues(m.lockQueues),
    hw: m.hw ? { ...m.hw } : null,
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
