// The speculative page fault (races.md R4; never merged: label RFC, or vendor
// for the Android trees). The fault walks the page tables without mmap_lock,
// with IRQs off so the tables cannot be freed under it, and validates the VMA
// with its sequence count before and after taking the PTL (pte_map_lock).

import type { Config } from "../config.js";
import { allocPage, findVma, folioPut, getPte, irqDisable, irqEnable, ptl, setPte, spinLock, spinTrylock, spinUnlock, tableOf, upRead } from "../machine.js";
import { bool, call, defineVariant, definePath, goto, mmapLockStep, num, ret, type Ctx, type Step } from "../path.js";
import { mk_pte, pte_mkdirty, pte_mkwrite, pte_none } from "../pte.js";
import { VM_WRITE } from "../types.js";
import { paeKernel } from "./fault.js";

export const VM_FAULT_RETRY = -1024;
export const MAX_TRY = 4;

/** vma_has_changed(): the VMA left the tree (RB_EMPTY_NODE) or its vm_sequence moved. */
function vmaHasChanged(x: Ctx): boolean {
  const v = x.m.mms[x.c.mm].vmas.find((w) => w.start === num(x.f, "vstart"));
  return !v || v.detached || v.seq !== num(x.f, "seq");
}

const table = (x: Ctx) => tableOf(x.m, x.cfg, x.c.mm, num(x.f, "va"));

definePath("__handle_speculative_fault", {
  name: "__handle_speculative_fault",
  source: "mm/memory.c",
  generation: "SPF series (2017-2019, RFC)",
  steps: [
    {
      line: "vma = find_vma_rcu(mm, address); if (!vma) return VM_FAULT_RETRY; seq = raw_read_seqcount(&vma->vm_sequence); if (seq & 1) return VM_FAULT_RETRY;",
      run: (x) => {
        const v = findVma(x.m.mms[x.c.mm], num(x.f, "va"));
        if (!v || v.seq % 2 === 1) return ret(VM_FAULT_RETRY);
        x.f.l.vstart = v.start;
        x.f.l.seq = v.seq;
      },
    },
    {
      line: "if (vma->vm_ops || !vma->anon_vma || (vma->vm_flags & VM_UFFD_MISSING)) return VM_FAULT_RETRY;   /* anonymous VMAs with an anon_vma only */",
      run: (x) => {
        const v = findVma(x.m.mms[x.c.mm], num(x.f, "va"));
        if (!v || !v.anonVma) return ret(VM_FAULT_RETRY);
      },
    },
    {
      line: "local_irq_disable(); pmd = walk(mm, address); vmf.orig_pte = READ_ONCE(*pte_offset_map(pmd, address)); local_irq_enable();",
      run: (x) => {
        x.f.l.pte = getPte(x.m, x.cfg, x.c.mm, num(x.f, "va"));
      },
    },
    {
      line: "if (read_seqcount_retry(&vma->vm_sequence, seq)) return VM_FAULT_RETRY;",
      run: (x) => (vmaHasChanged(x) ? ret(VM_FAULT_RETRY) : undefined),
    },
    {
      local: true, line: "if (!pte_none(vmf.orig_pte) || !(flags & FAULT_FLAG_WRITE)) return VM_FAULT_RETRY;   /* modelled: the do_anonymous_page() write case */",
      run: (x) => (!pte_none(num(x.f, "pte")) || !bool(x.f, "write") ? ret(VM_FAULT_RETRY) : undefined),
    },
    {
      line: "page = alloc_zeroed_user_highpage_movable(vma, vmf->address);   /* do_anonymous_page() */",
      run: (x) => {
        x.f.l.pfn = allocPage(x.m, "0");
      },
    },
    {
      line: "entry = mk_pte(page, vma->vm_page_prot); if (vma->vm_flags & VM_WRITE) entry = pte_mkwrite(pte_mkdirty(entry));",
      run: (x) => {
        const v = findVma(x.m.mms[x.c.mm], num(x.f, "va"));
        let e = mk_pte(num(x.f, "pfn"), false);
        if (v && v.flags & VM_WRITE) e = pte_mkwrite(pte_mkdirty(e));
        x.f.l.entry = e;
      },
    },
    {
      local: true, line: "if (!pte_map_lock(vmf)) {",
      run: (x) => call("pte_map_lock", { va: x.f.l.va, vstart: x.f.l.vstart, seq: x.f.l.seq }, { branch: ["locked", "unlocked"] }),
    },
    {
      label: "unlocked",
      line: "    put_page(page); return VM_FAULT_RETRY; }   /* back to the classic path under mmap_lock */",
      run: (x) => {
        folioPut(x.m, num(x.f, "pfn"));
        return ret(VM_FAULT_RETRY);
      },
    },
    {
      label: "locked",
      line: "if (!pte_none(*vmf->pte)) goto release;",
      run: (x) => (pte_none(getPte(x.m, x.cfg, x.c.mm, num(x.f, "va"))) ? undefined : goto("release")),
    },
    {
      line: "page_add_new_anon_rmap(page, vma, vmf->address, false); set_pte_at(vma->vm_mm, vmf->address, vmf->pte, entry);",
      run: (x) => {
        const pfn = num(x.f, "pfn");
        x.m.pages[pfn].mapcount = 1;
        if (paeKernel(x.cfg)) x.m.pages[pfn].anonExclusive = true;
        setPte(x.m, x.cfg, x.c.mm, num(x.f, "va"), num(x.f, "entry"));
      },
    },
    {
      line: "pte_unmap_unlock(vmf->pte, vmf->ptl); return 0;",
      run: (x) => {
        spinUnlock(x.m, x.cpu, ptl(table(x)));
        return ret(0);
      },
    },
    {
      label: "release",
      line: "release: pte_unmap_unlock(vmf->pte, vmf->ptl); put_page(page); return 0;",
      run: (x) => {
        spinUnlock(x.m, x.cpu, ptl(table(x)));
        folioPut(x.m, num(x.f, "pfn"));
        return ret(0);
      },
    },
  ],
});

type Variant = "spin" | "abort" | "retry" | "max_try" | "fail";

const TAKE: Record<Variant, { line: string; gen: string; name: string; source: string }> = {
  spin: { line: "spin_lock(ptl);   /* with IRQs still off */", gen: "SPF RFC, before Aug 2017", name: "pte_map_lock", source: "mm/memory.c" },
  abort: {
    line: "if (unlikely(!spin_trylock(ptl))) { pte_unmap(pte); goto out; }   /* Laurent Dufour, Aug 2017: fall back */",
    gen: "SPF RFC, Aug 2017 fix",
    name: "pte_map_lock",
    source: "mm/memory.c",
  },
  retry: {
    line: "if (unlikely(!spin_trylock(ptl))) { pte_unmap(pte); local_irq_enable(); goto again; }   /* v11/v12: retry, unbounded */",
    gen: "SPF RFC v12 (Apr 2019)",
    name: "pte_map_lock",
    source: "mm/memory.c",
  },
  max_try: {
    line: `if (unlikely(!spin_trylock(ptl))) { pte_unmap(pte); local_irq_enable(); if (++tries < MAX_TRY) goto again; return false; }   /* MAX_TRY = ${MAX_TRY}, Jerome Glisse's proposal */`,
    gen: "SPF RFC v12 + proposed retry bound",
    name: "pte_map_lock",
    source: "mm/memory.c",
  },
  fail: {
    line: "if (!spin_trylock(ptl)) goto fail;   /* no retry: 'starvation potential against a stream of lockers' */",
    gen: "Android vendor 5.15 (__pte_map_lock)",
    name: "__pte_map_lock",
    source: "mm/memory.c (vendor)",
  },
};

function pteMapLockSteps(v: Variant, recheck: boolean): Step[] {
  const steps: Step[] = [
    { label: "again", line: "local_irq_disable();", run: (x) => irqDisable(x.m, x.cpu) },
    {
      line: "if (vma_has_changed(vmf)) goto out;   /* left the rb-tree, or vm_sequence moved */",
      run: (x) => (vmaHasChanged(x) ? goto("out") : undefined),
    },
    {
      line: TAKE[v].line,
      run: (x) => {
        const lock = ptl(table(x));
        if (v === "spin") {
          const w = spinLock(x.m, x.cpu, lock);
          return w ? { wait: w } : undefined;
        }
        if (spinTrylock(x.m, x.cpu, lock)) return;
        if (v === "abort" || v === "fail") return goto("out");
        irqEnable(x.m, x.cpu);
        if (v === "retry") return goto("again");
        const tries = (typeof x.f.l.tries === "number" ? x.f.l.tries : 0) + 1;
        x.f.l.tries = tries;
        return tries < MAX_TRY ? goto("again") : ret(false);
      },
    },
  ];
  if (recheck) {
    steps.push({
      line: "if (vma_has_changed(vmf)) { pte_unmap_unlock(pte, ptl); goto out; }   /* the page tables may be gone now */",
      run: (x) => {
        if (!vmaHasChanged(x)) return;
        spinUnlock(x.m, x.cpu, ptl(table(x)));
        return goto("out");
      },
    });
  }
  steps.push(
    {
      line: "vmf->pte = pte; vmf->ptl = ptl; local_irq_enable(); return true;",
      run: (x) => {
        irqEnable(x.m, x.cpu);
        return ret(true);
      },
    },
    {
      label: "out",
      line: "out: local_irq_enable(); return false;",
      run: (x) => {
        irqEnable(x.m, x.cpu);
        return ret(false);
      },
    },
  );
  return steps;
}

for (const v of Object.keys(TAKE) as Variant[]) {
  for (const recheck of [true, false]) {
    definePath(`pte_map_lock@${v}${recheck ? "" : "-norecheck"}`, {
      name: TAKE[v].name,
      source: TAKE[v].source,
      generation: TAKE[v].gen + (recheck ? "" : ", without the second vma_has_changed()"),
      steps: pteMapLockSteps(v, recheck),
    });
  }
}
defineVariant("pte_map_lock", (cfg: Config) => `pte_map_lock@${cfg.kernel.spf === "none" ? "abort" : cfg.kernel.spf}${cfg.kernel.spf_vma_recheck ? "" : "-norecheck"}`);

/** MADV_DONTNEED: zap a range under mmap_read_lock (the "stream of lockers" of a PTL). */
definePath("madvise_dontneed", {
  name: "madvise_dontneed_single_vma",
  source: "mm/madvise.c",
  generation: "5.x",
  steps: [
    mmapLockStep("mmap_read_lock(mm);   /* MADV_DONTNEED needs only the read side */", false),
    {
      local: true, line: "zap_page_range(vma, start, end - start);   /* -> zap_pte_range() */",
      run: (x) => call("zap_pte_range", { mm: x.c.mm, addr: x.f.l.start, start: x.f.l.start, end: x.f.l.end }),
    },
    {
      local: true, line: "tlb_finish_mmu(&tlb, start, end);   /* flush the TLBs, then free the pages */",
      run: (x) => {
        x.f.l.gather = Array.isArray(x.f.l.rv) ? x.f.l.rv : [];
        return call("flush_tlb", { mm: x.c.mm, start: x.f.l.start, end: x.f.l.end });
      },
    },
    {
      line: "mmap_read_unlock(mm);",
      run: (x) => {
        const g = x.f.l.gather;
        for (const pfn of Array.isArray(g) ? g : []) folioPut(x.m, pfn);
        upRead(x.m, x.cpu, x.c.mm);
        return ret(0);
      },
    },
  ],
});
