// fork: kernel_clone -> dup_mmap -> copy_page_range -> copy_pte_range and the
// per-PTE copy, in the generations races.md R1, R5 and R6 need.

import {
  allocPage,
  downWrite,
  folioGet,
  folioPut,
  getPte,
  isCowMapping,
  lockHolder,
  maybeDmaPinned,
  ptl,
  pteAlloc,
  setPte,
  spinLock,
  spinUnlock,
  upWrite,
} from "../machine.js";
import { kver } from "../era.js";
import { call, defineVariant, definePath, goto, lineOf, num, ret, type Ctx, type Step } from "../path.js";
import { mk_pte, pte_mkdirty, pte_mkwrite, pte_none, pte_pfn, pte_special, pte_write, pte_wrprotect } from "../pte.js";
import type { Frame, Mm } from "../types.js";
import { VM_DONTCOPY, VM_WRITE } from "../types.js";
import { paeKernel } from "./fault.js";
import { forkVmaStartWrite } from "./pervma.js";

export const ALL = 1 << 30;
const EAGAIN = -11;

const srcVma = (x: Ctx) => x.m.mms[num(x.f, "src")].vmas[num(x.f, "vma")];
const dstVma = (x: Ctx) => {
  const v = srcVma(x);
  return x.m.mms[num(x.f, "dst")].vmas.find((d) => d.start === v.start)!;
};
const pteVal = (x: Ctx) => num(x.f, "pte");
const pageOf = (pte: number) => (pte_special(pte) ? -1 : pte_pfn(pte));

/** The copy_pte_range frame below the current one (prealloc lives there). */
function copyPteRangeFrame(x: Ctx): Frame {
  for (let i = x.c.frames.length - 1; i >= 0; i--) if (x.c.frames[i].path.startsWith("copy_pte_range")) return x.c.frames[i];
  throw new Error("copy_present_pte outside copy_pte_range");
}

const kernelClone = definePath("kernel_clone", {
  name: "kernel_clone",
  source: "kernel/fork.c",
  generation: "5.10+",
  steps: [
    {
      line: "p = copy_process(NULL, trace, NUMA_NO_NODE, args);   /* -> copy_mm() -> dup_mm(): mm = allocate_mm(); dup_mmap(mm, oldmm); */",
      run: (x) => {
        const parent = x.c.mm;
        let child = x.m.mms.findIndex((mm, i) => mm.state === "unborn" && x.cfg.parents[i] === parent);
        const fresh: Mm = {
          name: child >= 0 ? x.m.mms[child].name : `${x.m.mms[parent].name}'`,
          state: "forking",
          mmapLock: { writer: -1, readers: [], waiters: [] },
          writeProtectSeq: 0,
          hasPinned: false,
          vmas: [],
          pmd: [],
          pmdWrprotect: [],
          expect: x.m.mms[parent].expect.map(() => null),
          lockSeq: 0,
          tlbFlushPending: 0,
        };
        if (child >= 0) x.m.mms[child] = fresh;
        else {
          x.m.mms.push(fresh);
          child = x.m.mms.length - 1;
        }
        x.f.l.child = child;
        return call("dup_mmap", { old: parent, mm: child });
      },
    },
    {
      line: "wake_up_new_task(p);   /* the child may run from now on */",
      run: (x) => {
        x.m.mms[num(x.f, "child")].state = "alive";
      },
    },
    { local: true, line: "return nr;", run: (x) => ret(num(x.f, "child")) },
  ],
});

// Before 5.10 (cad6967ac108) the function was _do_fork(); before 5.3 it took the clone arguments one by one.
definePath("_do_fork", {
  name: "_do_fork",
  source: "kernel/fork.c",
  generation: "4.x-5.9 (renamed kernel_clone() in 5.10)",
  steps: [
    {
      ...kernelClone.steps[0],
      line: (cfg) =>
        kver(cfg) < 503
          ? "p = copy_process(clone_flags, stack_start, stack_size, child_tidptr, NULL, trace, tls, NUMA_NO_NODE);   /* -> copy_mm() -> dup_mm(): mm = allocate_mm(); dup_mmap(mm, oldmm); */"
          : lineOf(kernelClone.steps[0], cfg),
    },
    ...kernelClone.steps.slice(1),
  ],
});
defineVariant("kernel_clone", (cfg) => (kver(cfg) < 510 ? "_do_fork" : "kernel_clone"));

definePath("kernel_wait4", {
  name: "kernel_wait4",
  source: "kernel/exit.c",
  generation: "5.x",
  steps: [
    {
      line: "ret = do_wait(&wo);   /* sleep until a child exits, then reap it */",
      run: (x) => {
        const child = x.m.mms.findIndex((mm, i) => x.cfg.parents[i] === x.c.mm && (mm.state === "alive" || mm.state === "forking" || mm.state === "dead"));
        if (child < 0) return ret(-10); // -ECHILD
        if (x.m.mms[child].state !== "dead") return { wait: { kind: "child", mm: child } };
        return ret(child);
      },
    },
  ],
});

const dupMmapSteps: Step[] = [
    {
      line: "if (mmap_write_lock_killable(oldmm)) { retval = -EINTR; goto fail_uprobe_end; }",
      run: (x) => {
        const w = downWrite(x.m, x.cpu, num(x.f, "old"));
        if (w) return { wait: w };
        x.f.l.i = 0;
      },
    },
    {
      label: "loop",
      line: "for (mpnt = oldmm->mmap; mpnt; mpnt = mpnt->vm_next) {",
      run: (x) => {
        const vmas = x.m.mms[num(x.f, "old")].vmas;
        let i = num(x.f, "i");
        while (i < vmas.length && vmas[i].detached) i++;
        x.f.l.i = i;
        if (i >= vmas.length) return goto("out");
      },
    },
    {
      line: "    if (mpnt->vm_flags & VM_DONTCOPY) { vm_stat_account(mm, mpnt->vm_flags, -vma_pages(mpnt)); continue; }",
      run: (x) => {
        const v = x.m.mms[num(x.f, "old")].vmas[num(x.f, "i")];
        if (v.flags & VM_DONTCOPY) {
          x.f.l.i = num(x.f, "i") + 1;
          return goto("loop");
        }
      },
    },
    {
      line: "    tmp = vm_area_dup(mpnt); anon_vma_fork(tmp, mpnt); __vma_link_rb(mm, tmp, rb_link, rb_parent);",
      run: (x) => {
        const v = x.m.mms[num(x.f, "old")].vmas[num(x.f, "i")];
        x.m.mms[num(x.f, "mm")].vmas.push({ ...v, seq: 0, lockSeq: -1, lockReaders: [], lockWriter: -1, forkCopying: -1, changedDuringFork: false });
        v.forkCopying = x.cpu;
      },
    },
    {
      local: true, line: "    retval = copy_page_range(mm, oldmm, mpnt);",
      run: (x) => call("copy_page_range", { src: x.f.l.old, dst: x.f.l.mm, vma: x.f.l.i }),
    },
    {
      line: "}",
      run: (x) => {
        x.m.mms[num(x.f, "old")].vmas[num(x.f, "i")].forkCopying = -1;
        x.f.l.i = num(x.f, "i") + 1;
        return goto("loop");
      },
    },
    {
      label: "out",
      local: true, line: "flush_tlb_mm(oldmm);   /* the parent's TLBs are flushed once, at the end */",
      run: (x) => call("flush_tlb", { mm: x.f.l.old, start: 0, end: ALL }),
    },
    {
      line: "mmap_write_unlock(oldmm);",
      run: (x) => {
        upWrite(x.m, x.cpu, num(x.f, "old"));
        return ret(0);
      },
    },
];

definePath("dup_mmap", {
  name: "dup_mmap",
  source: "kernel/fork.c",
  generation: "5.x-6.3",
  steps: dupMmapSteps,
});

// 6.4 walks the maple tree; the fix adds vma_start_write() at the top of the loop.
const loop64: Step = {
  ...dupMmapSteps[1],
  line: "for_each_vma(old_vmi, mpnt) {",
};
definePath("dup_mmap@6.4", {
  name: "dup_mmap",
  source: "kernel/fork.c",
  generation: "6.4.0-6.4.2 (per-VMA locks, before fb49c455323f)",
  steps: [dupMmapSteps[0], loop64, ...dupMmapSteps.slice(2)],
});
definePath("dup_mmap@6.5", {
  name: "dup_mmap",
  source: "kernel/fork.c",
  generation: "6.5+ (fb49c455323f)",
  steps: [dupMmapSteps[0], loop64, forkVmaStartWrite, ...dupMmapSteps.slice(2)],
});
defineVariant("dup_mmap", (cfg) => (!cfg.kernel.per_vma_lock ? "dup_mmap" : cfg.kernel.fork_vma_start_write ? "dup_mmap@6.5" : "dup_mmap@6.4"));

// copy_page_range: one copy_pte_range call per PTE table the VMA spans.
const anonVmaCheck: Step = {
  line: "if (!(src_vma->vm_flags & (VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP)) && !src_vma->anon_vma) return 0;",
  run: (x) => {
    const v = srcVma(x);
    if (!v.anonVma) return ret(0);
    x.f.l.addr = v.start;
  },
};
const copyLoop: Step = {
  line: (cfg) =>
    cfg.kernel.cow_pte === "none"
      ? "do { next = pmd_addr_end(addr, end); copy_pte_range(dst_vma, src_vma, dst_pmd, src_pmd, addr, next); } while (addr = next, addr != end);"
      : "do { next = pud_addr_end(addr, end); copy_pmd_range(dst_vma, src_vma, dst_pud, src_pud, addr, next); } while (addr = next, addr != end);",
  run: (x) => {
    const v = srcVma(x);
    const addr = num(x.f, "addr");
    const next = Math.min(v.end, (Math.floor(addr / x.cfg.ptrs) + 1) * x.cfg.ptrs);
    x.f.l.addr = next;
    return call(
      x.cfg.kernel.cow_pte === "none" ? "copy_pte_range" : "copy_pmd_range",
      { src: x.f.l.src, dst: x.f.l.dst, vma: x.f.l.vma, addr, end: next },
      { retry: next !== v.end },
    );
  },
};

definePath("copy_page_range@5.9", {
  name: "copy_page_range",
  source: "mm/memory.c",
  generation: "5.9-5.10 (before write_protect_seq)",
  steps: [anonVmaCheck, copyLoop, { local: true, line: "return ret;", run: () => ret(0) }],
});

definePath("copy_page_range@5.11", {
  name: "copy_page_range",
  source: "mm/memory.c",
  generation: "5.11+ (57efa1fe5957: write_protect_seq)",
  steps: [
    anonVmaCheck,
    {
      line: "if (is_cow) { mmap_assert_write_locked(src_mm); raw_write_seqcount_begin(&src_mm->write_protect_seq); }",
      run: (x) => {
        if (isCowMapping(srcVma(x).flags)) x.m.mms[num(x.f, "src")].writeProtectSeq++;
      },
    },
    copyLoop,
    {
      line: "if (is_cow) raw_write_seqcount_end(&src_mm->write_protect_seq);",
      run: (x) => {
        if (isCowMapping(srcVma(x).flags)) x.m.mms[num(x.f, "src")].writeProtectSeq++;
        return ret(0);
      },
    },
  ],
});
defineVariant("copy_page_range", (cfg) => (cfg.kernel.write_protect_seq ? "copy_page_range@5.11" : "copy_page_range@5.9"));

// copy_pte_range: both PTLs held across a run of PTEs, dropped when the
// progress counter says others are waiting (races.md R1 steps 1-9).
export const lockDst: Step = {
  label: "again",
  line: "progress = 0; dst_pte = pte_alloc_map_lock(dst_mm, dst_pmd, addr, &dst_ptl);",
  run: (x) => {
    const dst = num(x.f, "dst");
    const slot = Math.floor(num(x.f, "addr") / x.cfg.ptrs);
    const existing = x.m.mms[dst].pmd[slot];
    if (existing !== undefined && existing >= 0 && lockHolder(x.m, ptl(existing)) >= 0) return { wait: { kind: "spin", lock: ptl(existing) } };
    const t = pteAlloc(x.m, x.cfg, dst, num(x.f, "addr"));
    spinLock(x.m, x.cpu, ptl(t));
    x.f.l.dtable = t;
    x.f.l.progress = 0;
  },
};
export const lockSrc: Step = {
  line: "src_pte = pte_offset_map(src_pmd, addr); src_ptl = pte_lockptr(src_mm, src_pmd); spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING);",
  run: (x) => {
    const t = x.m.mms[num(x.f, "src")].pmd[Math.floor(num(x.f, "addr") / x.cfg.ptrs)];
    const w = spinLock(x.m, x.cpu, ptl(t));
    if (w) return { wait: w };
    x.f.l.stable = t;
  },
};
export const progressCheck: Step = {
  label: "loop",
  line: (cfg) =>
    `if (progress >= ${cfg.kernel.progress_threshold}) { progress = 0; if (need_resched() || spin_needbreak(src_ptl) || spin_needbreak(dst_ptl)) break; }` +
    (cfg.kernel.progress_threshold !== 32 ? "   /* 32 in the kernel, scaled for this level */" : ""),
  run: (x) => {
    if (num(x.f, "progress") < x.cfg.kernel.progress_threshold) return;
    x.f.l.progress = 0;
    const contended = (table: number) =>
      x.m.cpus.some((c, i) => i !== x.cpu && c.wait?.kind === "spin" && c.wait.lock.kind === "ptl" && c.wait.lock.table === table);
    if (x.c.needResched || contended(num(x.f, "stable")) || contended(num(x.f, "dtable"))) return goto("out");
  },
};
/** The copy loop's `} while (addr != end)`: on to the next PTE, or out. (Not the engine's advance.) */
export const nextPte = (x: Ctx) => {
  x.f.l.addr = num(x.f, "addr") + 1;
  return num(x.f, "addr") !== num(x.f, "end") ? goto("loop") : goto("out");
};
export const noneCheck: Step = {
  line: "if (pte_none(*src_pte)) { progress++; continue; }",
  run: (x) => {
    if (!pte_none(getPte(x.m, x.cfg, num(x.f, "src"), num(x.f, "addr")))) return;
    x.f.l.progress = num(x.f, "progress") + 1;
    return nextPte(x);
  },
};
export const unlockBoth: Step = {
  label: "out",
  line: "spin_unlock(src_ptl); pte_unmap_unlock(orig_dst_pte, dst_ptl); cond_resched();",
  run: (x) => {
    spinUnlock(x.m, x.cpu, ptl(num(x.f, "stable")));
    spinUnlock(x.m, x.cpu, ptl(num(x.f, "dtable")));
    x.c.needResched = false;
  },
};
export const copyArgs = (x: Ctx) => ({ src: x.f.l.src, dst: x.f.l.dst, vma: x.f.l.vma, addr: x.f.l.addr, dtable: x.f.l.dtable });

definePath("copy_pte_range@5.8", {
  name: "copy_pte_range",
  source: "mm/memory.c",
  generation: "4.x-5.8 (copy_one_pte, before 70e806e4e645)",
  steps: [
    lockDst,
    lockSrc,
    progressCheck,
    noneCheck,
    { local: true, line: "entry.val = copy_one_pte(dst_mm, src_mm, dst_pte, src_pte, vma, addr, rss);", run: (x) => call("copy_one_pte", copyArgs(x)) },
    {
      local: true, line: "progress += 8; } while (dst_pte++, src_pte++, addr += PAGE_SIZE, addr != end);",
      run: (x) => {
        x.f.l.progress = num(x.f, "progress") + 8;
        return nextPte(x);
      },
    },
    unlockBoth,
    {
      local: true, line: "if (addr != end) goto again; return 0;",
      run: (x) => (num(x.f, "addr") !== num(x.f, "end") ? goto("again") : ret(0)),
    },
  ],
});

export const copyPteRange59 = definePath("copy_pte_range@5.9", {
  name: "copy_pte_range",
  source: "mm/memory.c",
  generation: "5.9-6.8 (70e806e4e645: prealloc for the early COW)",
  steps: [
    lockDst,
    lockSrc,
    progressCheck,
    noneCheck,
    {
      local: true, line: "ret = copy_present_pte(dst_vma, src_vma, dst_pte, src_pte, addr, rss, &prealloc);",
      run: (x) => call("copy_present_pte", copyArgs(x)),
    },
    {
      local: true, line: "if (unlikely(ret == -EAGAIN)) break; progress += 8; } while (dst_pte++, src_pte++, addr += PAGE_SIZE, addr != end);",
      run: (x) => {
        if (x.f.l.rv === EAGAIN) {
          x.f.l.eagain = true;
          return goto("out");
        }
        x.f.l.progress = num(x.f, "progress") + 8;
        return nextPte(x);
      },
    },
    unlockBoth,
    {
      line: "if (ret == -EAGAIN) prealloc = page_copy_prealloc(src_mm, src_vma, addr);   /* allocate with no lock held */",
      run: (x) => {
        if (x.f.l.eagain !== true) return;
        x.f.l.eagain = false;
        x.f.l.prealloc = allocPage(x.m, "0");
      },
    },
    {
      local: true, line: "if (addr != end) goto again;",
      run: (x) => (num(x.f, "addr") !== num(x.f, "end") ? goto("again") : undefined),
    },
    {
      line: "if (unlikely(prealloc)) put_page(prealloc); return ret;",
      run: (x) => {
        const p = x.f.l.prealloc;
        if (typeof p === "number" && p >= 0) folioPut(x.m, p);
        x.f.l.prealloc = -1;
        return ret(0);
      },
    },
  ],
});
defineVariant("copy_pte_range", (cfg) =>
  cfg.kernel.contpte === "vendor"
    ? "copy_pte_range@vendor"
    : cfg.kernel.fork_batch
      ? "copy_pte_range@6.9"
      : cfg.kernel.early_cow_pinned || paeKernel(cfg)
        ? "copy_pte_range@5.9"
        : "copy_pte_range@5.8",
);

const readPte: Step = {
  line: "pte_t pte = *src_pte; page = vm_normal_page(src_vma, addr, pte);",
  run: (x) => {
    x.f.l.pte = getPte(x.m, x.cfg, num(x.f, "src"), num(x.f, "addr"));
    x.f.l.pfn = pageOf(pteVal(x));
  },
};
const wrprotect: Step = {
  line: "if (is_cow_mapping(vm_flags) && pte_write(pte)) { ptep_set_wrprotect(src_mm, addr, src_pte); pte = pte_wrprotect(pte); }",
  run: (x) => {
    const pte = pteVal(x);
    if (isCowMapping(srcVma(x).flags) && pte_write(pte)) {
      // Re-read: the hardware may have set the dirty bit meanwhile.
      const cur = getPte(x.m, x.cfg, num(x.f, "src"), num(x.f, "addr"));
      setPte(x.m, x.cfg, num(x.f, "src"), num(x.f, "addr"), pte_wrprotect(cur));
      x.f.l.pte = pte_wrprotect(pte);
    }
  },
};
const setDst = (line: string): Step => ({
  line,
  run: (x) => {
    setPte(x.m, x.cfg, num(x.f, "dst"), num(x.f, "addr"), pteVal(x));
    return ret(0);
  },
});

definePath("copy_one_pte@5.8", {
  name: "copy_one_pte",
  source: "mm/memory.c",
  generation: "4.x-5.8",
  steps: [
    {
      line: "pte_t pte = *src_pte; if (is_cow_mapping(vm_flags) && pte_write(pte)) { ptep_set_wrprotect(src_mm, addr, src_pte); pte = pte_wrprotect(pte); }",
      run: (x) => {
        x.f.l.pte = getPte(x.m, x.cfg, num(x.f, "src"), num(x.f, "addr"));
        return wrprotect.run(x);
      },
    },
    {
      line: "page = vm_normal_page(vma, addr, pte); if (page) { get_page(page); page_dup_rmap(page, false); rss[mm_counter(page)]++; }",
      run: (x) => {
        const p = pageOf(pteVal(x));
        if (p < 0) return;
        folioGet(x.m, p);
        x.m.pages[p].mapcount++;
      },
    },
    setDst("set_pte_at(dst_mm, addr, dst_pte, pte_mkold(pte)); return 0;"),
  ],
});
defineVariant("copy_one_pte", () => "copy_one_pte@5.8");

definePath("copy_present_pte@5.9", {
  name: "copy_present_pte",
  source: "mm/memory.c",
  generation: "5.9-5.18 (70e806e4e645)",
  steps: [
    readPte,
    {
      local: true, line: "if (page) { retval = copy_present_page(dst_vma, src_vma, dst_pte, src_pte, addr, rss, prealloc, pte, page);",
      run: (x) => (num(x.f, "pfn") >= 0 ? call("copy_present_page", { ...x.f.l }) : goto("wrprotect")),
    },
    {
      line: "    if (retval <= 0) return retval; get_page(page); page_dup_rmap(page, false); rss[mm_counter(page)]++; }",
      run: (x) => {
        const rv = num(x.f, "rv");
        if (rv <= 0) return ret(rv);
        folioGet(x.m, num(x.f, "pfn"));
        x.m.pages[num(x.f, "pfn")].mapcount++;
      },
    },
    { ...wrprotect, label: "wrprotect" },
    setDst("set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte_mkold(pte)); return 0;"),
  ],
});

/** Early COW: give the child its own copy now, leave the parent's PTE writable. */
const earlyCopy: Step[] = [
  {
    local: true, line: "new_page = *prealloc; if (!new_page) return -EAGAIN;",
    run: (x) => {
      const p = copyPteRangeFrame(x).l.prealloc;
      if (typeof p !== "number" || p < 0) return ret(EAGAIN);
      x.f.l.new = p;
    },
  },
  {
    line: "*prealloc = NULL; copy_user_highpage(new_page, page, addr, src_vma); page_add_new_anon_rmap(new_page, dst_vma, addr);",
    run: (x) => {
      copyPteRangeFrame(x).l.prealloc = -1;
      const n = num(x.f, "new");
      const old = num(x.f, "pfn");
      x.m.pages[n].data = x.m.pages[old].data;
      x.m.pages[n].dmabuf = x.m.pages[old].dmabuf;
      x.m.pages[n].mapcount = 1;
      if (paeKernel(x.cfg)) x.m.pages[n].anonExclusive = true;
    },
  },
  {
    line: "pte = maybe_mkwrite(pte_mkdirty(mk_pte(new_page, dst_vma->vm_page_prot)), dst_vma); set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte); return 0;",
    run: (x) => {
      let e = pte_mkdirty(mk_pte(num(x.f, "new"), false));
      if (dstVma(x).flags & VM_WRITE) e = pte_mkwrite(e);
      setPte(x.m, x.cfg, num(x.f, "dst"), num(x.f, "addr"), e);
      return ret(0);
    },
  },
];

definePath("copy_present_page@5.9", {
  name: "copy_present_page",
  source: "mm/memory.c",
  generation: "5.9-5.18 (70e806e4e645)",
  steps: [
    {
      line: "if (!is_cow_mapping(src_vma->vm_flags)) return 1; if (likely(!atomic_read(&src_mm->has_pinned))) return 1;",
      run: (x) => (!isCowMapping(srcVma(x).flags) || !x.m.mms[num(x.f, "src")].hasPinned ? ret(1) : undefined),
    },
    {
      line: "if (likely(!page_maybe_dma_pinned(page))) return 1;   /* refcount >= GUP_PIN_COUNTING_BIAS */",
      run: (x) => (maybeDmaPinned(x.m, num(x.f, "pfn")) ? undefined : ret(1)),
    },
    ...earlyCopy,
  ],
});

definePath("copy_present_pte@5.19", {
  name: "copy_present_pte",
  source: "mm/memory.c",
  generation: "5.19+ (PageAnonExclusive)",
  steps: [
    readPte,
    {
      line: "if (page && PageAnon(page)) { get_page(page); if (unlikely(page_try_dup_anon_rmap(page, false, src_vma))) { put_page(page); return copy_present_page(...); } }",
      run: (x) => {
        const p = num(x.f, "pfn");
        if (p < 0) return;
        const pg = x.m.pages[p];
        // page_try_dup_anon_rmap(): -EBUSY for an exclusive page that may be pinned.
        if (pg.anonExclusive && x.m.mms[num(x.f, "src")].hasPinned && maybeDmaPinned(x.m, p) && isCowMapping(srcVma(x).flags)) {
          return call("copy_present_page", { ...x.f.l }, { tail: true });
        }
        folioGet(x.m, p);
        pg.anonExclusive = false;
        pg.mapcount++;
      },
    },
    wrprotect,
    setDst("VM_BUG_ON(page && PageAnon(page) && PageAnonExclusive(page)); set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte_mkold(pte)); return 0;"),
  ],
});

definePath("copy_present_page@5.19", {
  name: "copy_present_page",
  source: "mm/memory.c",
  generation: "5.19+",
  steps: earlyCopy,
});

defineVariant("copy_present_pte", (cfg) => (paeKernel(cfg) ? "copy_present_pte@5.19" : "copy_present_pte@5.9"));
defineVariant("copy_present_page", (cfg) => (cfg.kernel.fork_batch ? "copy_present_page@6.9" : paeKernel(cfg) ? "copy_present_page@5.19" : "copy_present_page@5.9"));

