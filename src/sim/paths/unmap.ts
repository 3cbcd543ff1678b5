// Tearing mappings down: munmap, exit and the zap_pte_range they share, with
// the mmu_gather rule that pages are freed only after the TLB flush.

import { kver } from "../era.js";
import { broadcastFlush, folioPut, getPte, ptl, setPte, spinLock, spinUnlock, upWrite, ZERO_PFN } from "../machine.js";
import { call, defineVariant, definePath, goto, num, ret, type Ctx, type Step, mmapLockStep } from "../path.js";
import { CONT_PTES, contBlockStart, pte_none, pte_pfn, pte_special } from "../pte.js";
import { archContpte, unfoldFirst } from "./contpte.js";
import type { Mm, Vma } from "../types.js";
import { ALL } from "./fork.js";

/** Split VMAs so that [start, end) is covered by whole VMAs; returns those. */
export function splitVmas(mm: Mm, start: number, end: number): Vma[] {
  const out: Vma[] = [];
  const next: Vma[] = [];
  for (const v of mm.vmas) {
    if (v.detached || v.end <= start || v.start >= end) {
      next.push(v);
      continue;
    }
    if (v.start < start) next.push({ ...v, end: start });
    const mid = { ...v, start: Math.max(v.start, start), end: Math.min(v.end, end) };
    next.push(mid);
    out.push(mid);
    if (v.end > end) next.push({ ...v, start: end });
  }
  mm.vmas = next;
  return out;
}

function gathered(x: Ctx): number[] {
  const g = x.f.l.gather;
  return Array.isArray(g) ? g : [];
}

/** Append the pages the zap_pte_range call that just returned gathered. */
function collect(x: Ctx): void {
  if (Array.isArray(x.f.l.rv)) {
    x.f.l.gather = [...gathered(x), ...x.f.l.rv];
    x.f.l.rv = null;
  }
}

definePath("zap_pte_range", {
  name: "zap_pte_range",
  source: "mm/memory.c",
  generation: "5.x",
  steps: [
    {
      line: "start_pte = pte_offset_map_lock(mm, pmd, addr, &ptl);",
      run: (x) => {
        const mm = x.m.mms[num(x.f, "mm")];
        const t = mm.pmd[Math.floor(num(x.f, "addr") / x.cfg.ptrs)];
        if (t === undefined || t < 0) return ret([]);
        if (x.m.tables[t].refcount > 1) throw new Error("zap_pte_range on a COW-shared page table is not modelled");
        const w = spinLock(x.m, x.cpu, ptl(t));
        if (w) return { wait: w };
        x.f.l.table = t;
        x.f.l.gather = [];
        x.f.l.flush = false;
      },
    },
    {
      label: "loop",
      line: "ptent = *pte; if (pte_none(ptent)) continue;",
      run: (x) => (pte_none(getPte(x.m, x.cfg, num(x.f, "mm"), num(x.f, "addr"))) ? goto("next") : undefined),
    },
    {
      line: (cfg) =>
        archContpte(cfg)
          ? "ptent = get_and_clear_full_ptes(mm, addr, pte, nr, tlb->fullmm);   /* arm64: a block only partly in [addr, end) is unfolded first (contpte_try_unfold_partial) */"
          : "ptent = ptep_get_and_clear_full(mm, addr, pte, tlb->fullmm); tlb_remove_tlb_entry(tlb, pte, addr); page_remove_rmap(page, false); __tlb_remove_page(tlb, page);",
      run: (x) => {
        const mm = num(x.f, "mm");
        const va = num(x.f, "addr");
        const bs = contBlockStart(va);
        if (!(bs >= num(x.f, "start") && bs + CONT_PTES <= num(x.f, "end"))) {
          const unfold = unfoldFirst(x, mm, va);
          if (unfold) return unfold;
        }
        const pte = getPte(x.m, x.cfg, mm, va);
        setPte(x.m, x.cfg, mm, va, 0);
        x.f.l.flush = true;
        if (pte_special(pte) || pte_pfn(pte) === ZERO_PFN) return;
        x.m.pages[pte_pfn(pte)].mapcount--;
        // The reference is dropped by tlb_finish_mmu(), after the TLB flush.
        x.f.l.gather = [...gathered(x), pte_pfn(pte)];
      },
    },
    {
      label: "next",
      local: true, line: "} while (pte++, addr += PAGE_SIZE, addr != end);",
      run: (x) => {
        const nextVa = num(x.f, "addr") + 1;
        x.f.l.addr = nextVa;
        const tableEnd = (Math.floor((nextVa - 1) / x.cfg.ptrs) + 1) * x.cfg.ptrs;
        if (nextVa < num(x.f, "end") && nextVa < tableEnd) return goto("loop");
      },
    },
    {
      local: true, line: "if (force_flush) tlb_flush_mmu_tlbonly(tlb);   /* flush the TLB before dropping the PTL */",
      run: (x) => {
        if (x.cfg.kernel.zap_force_flush && x.f.l.flush === true && x.f.l.fullmm !== true) {
          x.f.l.flush = false;
          return call("flush_tlb", { mm: x.f.l.mm, start: x.f.l.start, end: x.f.l.end });
        }
      },
    },
    {
      line: "pte_unmap_unlock(start_pte, ptl);",
      run: (x) => {
        spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));
        return ret(gathered(x));
      },
    },
  ],
});

const munmapSteps: Step[] = [
    mmapLockStep("if (mmap_write_lock_killable(mm)) return -EINTR;", true),
    {
      line: "vma = find_vma(mm, start); ... detach_vmas_to_be_unmapped(mm, vma, prev, end);",
      run: (x) => {
        const start = num(x.f, "start");
        const end = num(x.f, "end");
        const mm = x.m.mms[x.c.mm];
        for (const v of splitVmas(mm, start, end)) {
          v.detached = true;
          v.seq++;
        }
        x.f.l.addr = start;
        x.f.l.gather = [];
      },
    },
    {
      label: "zap",
      local: true, line: "unmap_region(mm, vma, prev, start, end);   /* -> unmap_vmas() -> zap_pte_range() */",
      run: (x) => {
        collect(x);
        const addr = num(x.f, "addr");
        const end = num(x.f, "end");
        const tableEnd = Math.min(end, (Math.floor(addr / x.cfg.ptrs) + 1) * x.cfg.ptrs);
        x.f.l.addr = tableEnd;
        return call("zap_pte_range", { mm: x.c.mm, addr, start: addr, end: tableEnd }, { retry: tableEnd < end });
      },
    },
    {
      local: true, line: "tlb_finish_mmu(&tlb, start, end);   /* flush the TLBs first ... */",
      run: (x) => {
        collect(x);
        return call("flush_tlb", { mm: x.c.mm, start: x.f.l.start, end: x.f.l.end });
      },
    },
    {
      line: "    /* ... then tlb_flush_mmu_free(): put_page() every gathered page */",
      run: (x) => {
        for (const pfn of gathered(x)) folioPut(x.m, pfn);
        x.f.l.gather = [];
      },
    },
    {
      line: "remove_vma_list(mm, vma); mmap_write_unlock(mm);",
      run: (x) => {
        const mm = x.m.mms[x.c.mm];
        mm.vmas = mm.vmas.filter((v) => !v.detached);
        upWrite(x.m, x.cpu, x.c.mm);
        return ret(0);
      },
    },
];

definePath("__do_munmap", {
  name: "__do_munmap",
  source: "mm/mmap.c",
  generation: "4.20-6.3",
  steps: munmapSteps,
});

definePath("do_vmi_align_munmap", {
  name: "do_vmi_align_munmap",
  source: "mm/mmap.c",
  generation: "6.4+ (per-VMA locks)",
  steps: [
    munmapSteps[0],
    {
      line: "for_each_vma_range(*vmi, next, end) { vma_start_write(next); ... }   /* wait for per-VMA-lock faults to leave */",
      run: (x) => {
        const mm = x.m.mms[x.c.mm];
        const todo = Array.isArray(x.f.l.wlock)
          ? x.f.l.wlock
          : mm.vmas.filter((v) => !v.detached && v.start < num(x.f, "end") && v.end > num(x.f, "start")).map((v) => v.start);
        if (todo.length === 0) return;
        x.f.l.wlock = todo.slice(1);
        return call("vma_start_write", { mm: x.c.mm, start: todo[0] }, { retry: todo.length > 1 });
      },
    },
    ...munmapSteps.slice(1),
  ],
});
// 4.19: vm_munmap() takes mmap_sem and calls do_munmap() (__do_munmap() arrived in 4.20).
definePath("do_munmap@4.19", {
  name: "do_munmap",
  source: "mm/mmap.c",
  generation: "4.x-4.19 (vm_munmap -> do_munmap)",
  steps: munmapSteps,
});
defineVariant("__do_munmap", (cfg) => (cfg.kernel.per_vma_lock ? "do_vmi_align_munmap" : kver(cfg) < 420 ? "do_munmap@4.19" : "__do_munmap"));

definePath("exit_mmap", {
  name: "exit_mmap",
  source: "mm/mmap.c",
  generation: "5.x",
  steps: [
    {
      line: "tlb_gather_mmu(&tlb, mm, 0, -1); unmap_vmas(&tlb, vma, 0, -1);   /* -> zap_pte_range() over each VMA */",
      run: (x) => {
        collect(x);
        if (!Array.isArray(x.f.l.ranges)) {
          // [start, end) pairs: each VMA, cut at page-table boundaries.
          const r: number[] = [];
          for (const v of x.m.mms[x.c.mm].vmas) {
            for (let a = v.start; a < v.end; ) {
              const e = Math.min(v.end, (Math.floor(a / x.cfg.ptrs) + 1) * x.cfg.ptrs);
              const t = x.m.mms[x.c.mm].pmd[Math.floor(a / x.cfg.ptrs)];
              // A COW-shared table is not zapped: the other sharer still maps it (its refcount drops below).
              if (t >= 0 && x.m.tables[t].refcount === 1) r.push(a, e);
              a = e;
            }
          }
          x.f.l.ranges = r;
        }
        const r = x.f.l.ranges;
        if (r.length === 0) return;
        const [start, end] = r;
        x.f.l.ranges = r.slice(2);
        return call("zap_pte_range", { mm: x.c.mm, addr: start, start, end, fullmm: true }, { retry: r.length > 2 });
      },
    },
    {
      line: "free_pgtables(&tlb, vma, FIRST_USER_ADDRESS, USER_PGTABLES_CEILING); tlb_finish_mmu(&tlb, 0, -1);   /* last user: flush, then free */",
      run: (x) => {
        const mmId = x.c.mm;
        const mm = x.m.mms[mmId];
        collect(x);
        const pages = gathered(x);
        // No other CPU runs this mm any more: the flush needs nobody's ack.
        broadcastFlush(x.m, mmId, 0, ALL);
        for (const pfn of pages) folioPut(x.m, pfn);
        for (const t of mm.pmd) {
          if (t < 0) continue;
          if (x.m.tables[t].refcount > 1) x.m.tables[t].refcount--;
          else x.m.tables[t] = { ptes: x.m.tables[t].ptes.map(() => 0), ptl: -1, mm: -1, refcount: 0, cowExclusive: false };
        }
        mm.pmd = [];
        mm.pmdWrprotect = [];
      },
    },
    {
      line: "while (vma) vma = remove_vma(vma);   /* the mm is gone; do_exit() goes on */",
      run: (x) => {
        const mm = x.m.mms[x.c.mm];
        mm.vmas = [];
        mm.state = "dead";
        return ret(0);
      },
    },
  ],
});
