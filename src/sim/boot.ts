// The machine at the start of a level: a plain-data spec (processes, their VMAs
// and populated pages, the CPUs) booted into the Machine the engine runs. The
// level loader builds the spec from a level file; the simulator owns what the
// spec means (how a page is mapped, what a fork left behind), beside
// cloneMachine, so sim/ needs nothing from level/.

import type { Config } from "./config.js";
import { allocFolio, allocPage, pteAlloc, setPte, tlbFill } from "./machine.js";
import { CONT_PTES, mk_pte, pte_cont, pte_mkcont, pte_mkdirty, pte_pfn, pte_present, pte_write, pte_wrprotect } from "./pte.js";
import type { Cpu, Machine, Mm } from "./types.js";
import { VM_DONTCOPY, VM_MAYWRITE, VM_READ, VM_UFFD_WP, VM_WRITE } from "./types.js";

export interface VmaSpec {
  start: number;
  pages: number;
  write: boolean;
  /** Registered with userfaultfd for write-protect (VM_UFFD_WP). */
  uffdWp: boolean;
}

/** A populated page (nr 1) or large folio (nr 4, mapped at page..page+3), mapped by its process's PTEs. */
export interface PageSpec {
  page: number;
  data: string;
  nr: number;
  /** References held elsewhere, on top of the mapping's. */
  refs: number;
}

export interface ProcessSpec {
  name: string;
  /** Not yet created: a child that a CPU's fork will bring to life. */
  unborn: boolean;
  /** The index of an earlier process whose fork has just created this one (pages shared read-only), or null. */
  forkedFrom: number | null;
  vmas: VmaSpec[];
  pages: PageSpec[];
}

export interface CpuSpec {
  name: string;
  irqsOff: boolean;
  needResched: boolean;
  /** Pages with a warm TLB entry, filled from the PTEs. */
  tlb: number[];
}

export interface MachineSpec {
  frames: number;
  /** The teaching counter's starting value, or null when the machine has none. */
  counter: number | null;
  /** How many named spinlocks. */
  locks: number;
  processes: ProcessSpec[];
  /** One per cfg.cpus entry, in the same order (the config gives each CPU's process and program). */
  cpus: CpuSpec[];
}

/** A spec the machine cannot boot from; `key` names the spec's field (machine.frames, cpus[1].tlb). */
export class BootError extends Error {
  constructor(
    readonly key: string,
    readonly detail: string,
  ) {
    super(`${key}: ${detail}`);
  }
}

/**
 * The state fork leaves behind, built at boot for a process that starts as a
 * fresh child: it copies the parent's VMAs, and every present anonymous page
 * is shared read-only (mapcount and refcount +1, PageAnonExclusive cleared).
 */
function forkAtBoot(m: Machine, cfg: Config, parent: number, child: number, pae: boolean): void {
  const pm = m.mms[parent];
  const cm = m.mms[child];
  cm.vmas = pm.vmas.filter((v) => !(v.flags & VM_DONTCOPY)).map((v) => ({ ...v }));
  for (const v of cm.vmas) {
    for (let va = v.start; va < v.end; va++) {
      const t = pm.pmd[Math.floor(va / cfg.ptrs)];
      const pte = t === undefined || t < 0 ? 0 : m.tables[t].ptes[va % cfg.ptrs];
      if (!pte_present(pte)) continue;
      const ro = pte_wrprotect(pte);
      m.tables[t].ptes[va % cfg.ptrs] = ro;
      pteAlloc(m, cfg, child, va);
      setPte(m, cfg, child, va, ro);
      const pfn = pte_pfn(pte);
      m.pages[pfn].mapcount++;
      // A large folio's references are counted on its head (a tail pfn has no folio of its own).
      m.folios[m.pages[pfn].folio]!.refcount++;
      if (pae) m.pages[pfn].anonExclusive = false;
    }
  }
}

/** Boot the machine a spec describes under `cfg` (its kernel, table size and CPUs' processes). Throws BootError. */
export function bootMachine(spec: MachineSpec, cfg: Config): Machine {
  try {
    return boot(spec, cfg);
  } catch (e) {
    // The frames run out while the pages and page tables of the start are made: the spec's fault.
    if (e instanceof Error && e.message.startsWith("out of memory")) {
      throw new BootError("machine.frames", `${spec.frames} page frames are too few for the pages and page tables the level starts with; give more`);
    }
    throw e;
  }
}

function boot(spec: MachineSpec, cfg: Config): Machine {
  const frames = spec.frames;
  const m: Machine = {
    cpus: [],
    mms: [],
    tables: [],
    pages: Array.from({ length: frames }, () => ({ folio: -1, mapcount: 0, anonExclusive: false, data: "", dmabuf: "" })),
    folios: Array.from({ length: frames }, () => null),
    pins: [],
    dma: { pin: -1, done: false },
    vars: spec.counter === null ? [] : [spec.counter, spec.counter],
    spinlocks: Array.from({ length: spec.locks }, () => -1),
    lockQueues: {},
    hw: null,
  };
  // pfn 0 is the shared zero page: not anonymous, never freed.
  m.pages[0] = { folio: 0, mapcount: 0, anonExclusive: false, data: "0", dmabuf: "" };
  m.folios[0] = { nr: 1, refcount: 1, pincount: 0, locked: false, anon: false };

  const span = Math.max(1, ...spec.processes.flatMap((p) => p.vmas.map((v) => v.start + v.pages)));
  const pae = cfg.kernel.do_wp_page === "anon_exclusive";
  spec.processes.forEach((p, i) => {
    const mm: Mm = {
      name: p.name,
      state: p.unborn ? "unborn" : "alive",
      mmapLock: { writer: -1, readers: [], waiters: [] },
      writeProtectSeq: 0,
      hasPinned: false,
      vmas: p.vmas.map((v) => ({
        start: v.start,
        end: v.start + v.pages,
        flags: VM_READ | VM_MAYWRITE | (v.write ? VM_WRITE : 0) | (v.uffdWp ? VM_UFFD_WP : 0),
        anon: true,
        anonVma: p.pages.some((pg) => pg.page >= v.start && pg.page < v.start + v.pages),
        seq: 0,
        lockSeq: -1,
        lockReaders: [],
        lockWriter: -1,
        detached: false,
        forkCopying: -1,
        changedDuringFork: false,
      })),
      pmd: [],
      pmdWrprotect: [],
      expect: new Array(span).fill(null),
      lockSeq: 0,
      tlbFlushPending: 0,
    };
    m.mms.push(mm);
    if (p.forkedFrom !== null) forkAtBoot(m, cfg, p.forkedFrom, i, pae);
    for (const pg of p.pages) {
      let pfn: number;
      try {
        pfn = pg.nr === 1 ? allocPage(m, pg.data) : allocFolio(m, pg.nr, pg.data);
      } catch {
        throw new BootError("machine.frames", `${frames} frames are too few for the populated pages`);
      }
      // One reference per mapping PTE (allocFolio gave the first).
      m.folios[pfn]!.refcount += pg.refs + pg.nr - 1;
      const vma = mm.vmas.find((v) => pg.page >= v.start && pg.page < v.end)!;
      for (let j = 0; j < pg.nr; j++) {
        m.pages[pfn + j].mapcount = 1;
        if (pae) m.pages[pfn + j].anonExclusive = true;
        pteAlloc(m, cfg, i, pg.page + j);
        let pte = pte_mkdirty(mk_pte(pfn + j, (vma.flags & VM_WRITE) !== 0));
        // As set_ptes() would have left it: a whole aligned block gets CONT on arm64 contpte kernels.
        if (pg.nr === CONT_PTES && cfg.kernel.contpte !== "none") pte = pte_mkcont(pte);
        setPte(m, cfg, i, pg.page + j, pte);
      }
    }
  });
  spec.cpus.forEach((c, i) => {
    const cpu: Cpu = {
      name: c.name,
      mm: cfg.cpus[i].process,
      prog: 0,
      frames: [],
      irqsOff: c.irqsOff,
      needResched: c.needResched,
      tlb: [],
      ipis: [],
      waitAcks: [],
      wait: null,
      done: cfg.cpus[i].program.length === 0,
      segv: false,
    };
    for (const va of c.tlb) {
      const t = m.mms[cpu.mm].pmd[Math.floor(va / cfg.ptrs)];
      const pte = t === undefined || t < 0 ? 0 : m.tables[t].ptes[va % cfg.ptrs];
      if (!pte_present(pte)) throw new BootError(`cpus[${i}].tlb`, `page ${va} is not mapped, so no TLB entry can exist for it`);
      tlbFill(cpu, cpu.mm, va, pte_pfn(pte), pte_write(pte), pte_cont(pte));
    }
    m.cpus.push(cpu);
  });
  return m;
}
