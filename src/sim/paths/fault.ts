// The page-fault path: arch entry, handle_pte_fault and the anonymous fault.
// handle_mm_fault()'s pgd/p4d/pud/pmd walk is folded into handle_pte_fault
// (one PTE table per region, and PMDs never change in these levels).

import type { Config } from "../config.js";
import { allocPage, findVma, getPte, folioPut, ptl, pteAlloc, setPte, spinLock, spinUnlock, tableOf, tlbFlushRange, upRead, ZERO_PFN } from "../machine.js";
import { bool, call, defineVariant, definePath, goto, num, ret, type Ctx, type Step, mmapLockStep } from "../path.js";
import { mk_pte, pte_mkdirty, pte_mkspecial, pte_mkwrite, pte_none, pte_write } from "../pte.js";
import { VM_WRITE } from "../types.js";

const VM_FAULT_RETRY = -1024; // as in spf.ts
import { perVmaFaultHead } from "./pervma.js";

export const paeKernel = (cfg: Config): boolean => cfg.kernel.do_wp_page === "anon_exclusive";

const lockPtl = (x: Ctx) => {
  const w = spinLock(x.m, x.cpu, ptl(num(x.f, "table")));
  return w ? { wait: w } : undefined;
};
const unlockPtl = (x: Ctx) => spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));

const userFaultSteps: Step[] = [
    mmapLockStep("mmap_read_lock(mm);", false),
    {
      line: "vma = find_vma(mm, address); if (unlikely(!vma)) { bad_area(regs, error_code, address); return; }",
      run: (x) => (findVma(x.m.mms[x.c.mm], num(x.f, "va")) ? undefined : goto("bad_area")),
    },
    {
      line: "if (unlikely(access_error(error_code, vma))) { bad_area_access_error(regs, error_code, address, vma); return; }",
      run: (x) => {
        const vma = findVma(x.m.mms[x.c.mm], num(x.f, "va"))!;
        return bool(x.f, "write") && !(vma.flags & VM_WRITE) ? goto("bad_area") : undefined;
      },
    },
    {
      local: true, line: "fault = handle_mm_fault(vma, address, flags, regs);",
      run: (x) => call("handle_pte_fault", { va: num(x.f, "va"), write: bool(x.f, "write"), unshare: false }),
    },
    {
      line: "mmap_read_unlock(mm);",
      run: (x) => {
        upRead(x.m, x.cpu, x.c.mm);
        return ret(null);
      },
    },
    {
      label: "bad_area",
      line: "mmap_read_unlock(mm); force_sig_fault(SIGSEGV, SEGV_MAPERR, (void __user *)address);",
      run: (x) => {
        upRead(x.m, x.cpu, x.c.mm);
        x.c.segv = true;
        return ret(null);
      },
    },
];

definePath("do_user_addr_fault", {
  name: "do_user_addr_fault",
  source: "arch/x86/mm/fault.c",
  generation: "5.x",
  steps: userFaultSteps,
});

definePath("do_user_addr_fault@spf", {
  name: "do_user_addr_fault",
  source: "arch/x86/mm/fault.c",
  generation: "SPF series (RFC)",
  steps: [
    {
      local: true, line: "fault = handle_speculative_fault(mm, address, flags);   /* no mmap_lock: try the speculative path first */",
      run: (x) => call("__handle_speculative_fault", { va: x.f.l.va, write: x.f.l.write }),
    },
    {
      local: true, line: "if (fault != VM_FAULT_RETRY) return;",
      run: (x) => (x.f.l.rv === VM_FAULT_RETRY ? undefined : ret(null)),
    },
    ...userFaultSteps,
  ],
});
definePath("do_user_addr_fault@6.4", {
  name: "do_user_addr_fault",
  source: "arch/x86/mm/fault.c",
  generation: "6.4+ (0bff0aaea03e: per-VMA locks first)",
  steps: [...perVmaFaultHead(), { ...userFaultSteps[0], label: "lock_mmap", line: "lock_mmap: mmap_read_lock(mm);" }, ...userFaultSteps.slice(1)],
});
// arm64's handler: the same locking, in arch/arm64/mm/fault.c's words (6.4+ tries the per-VMA lock first).
const arm64Lines = [
  "lock_mmap: mmap_read_lock(mm);   /* lock_mm_and_find_vma() */",
  "vma = find_vma(mm, addr); if (unlikely(!vma)) { fault = VM_FAULT_BADMAP; goto bad_area; }",
  "if (!(vma->vm_flags & vm_flags)) { fault = VM_FAULT_BADACCESS; goto bad_area; }   /* __do_page_fault() */",
  "fault = handle_mm_fault(vma, addr, mm_flags, regs);",
  "mmap_read_unlock(mm);",
  "bad_area: mmap_read_unlock(mm); arm64_force_sig_fault(SIGSEGV, SEGV_MAPERR, far, inf->name);",
];
const arm64Steps = userFaultSteps.map((s, i) => ({ ...s, line: arm64Lines[i] }));
definePath("do_page_fault@arm64", {
  name: "do_page_fault",
  source: "arch/arm64/mm/fault.c",
  generation: "6.4+ (per-VMA locks first)",
  steps: [
    ...perVmaFaultHead().map((s, i) => (i === 1 ? { ...s, local: true, line: "fault = handle_mm_fault(vma, addr, mm_flags | FAULT_FLAG_VMA_LOCK, regs);" } : s)),
    { ...arm64Steps[0], label: "lock_mmap" },
    ...arm64Steps.slice(1),
  ],
});
definePath("do_page_fault@arm64-mmap", {
  name: "do_page_fault",
  source: "arch/arm64/mm/fault.c",
  generation: "5.x",
  steps: arm64Steps.map((s, i) => (i === 0 ? { ...s, line: "mmap_read_lock(mm);" } : s)),
});
defineVariant("do_user_addr_fault", (cfg) =>
  cfg.kernel.spf !== "none"
    ? "do_user_addr_fault@spf"
    : cfg.shootdown === "broadcast"
      ? cfg.kernel.per_vma_lock
        ? "do_page_fault@arm64"
        : "do_page_fault@arm64-mmap"
      : cfg.kernel.per_vma_lock
        ? "do_user_addr_fault@6.4"
        : "do_user_addr_fault",
);

// handle_pte_fault: the locked re-check, then the write-protect fault.
function handlePteFaultSteps(gen519: boolean) {
  return [
    {
      line: "vmf->pte = pte_offset_map(vmf->pmd, vmf->address); vmf->orig_pte = *vmf->pte;",
      run: (x: Ctx) => {
        x.f.l.table = tableOf(x.m, x.cfg, x.c.mm, num(x.f, "va"));
        x.f.l.pte = getPte(x.m, x.cfg, x.c.mm, num(x.f, "va"));
      },
    },
    {
      local: true, line: "if (!vmf->pte || pte_none(vmf->orig_pte)) return do_anonymous_page(vmf);",
      run: (x: Ctx) =>
        pte_none(num(x.f, "pte"))
          ? call("do_anonymous_page", { va: x.f.l.va, write: x.f.l.write, unshare: x.f.l.unshare }, { tail: true })
          : undefined,
    },
    { line: "vmf->ptl = pte_lockptr(vmf->vma->vm_mm, vmf->pmd); spin_lock(vmf->ptl);", run: lockPtl },
    {
      line: "if (unlikely(!pte_same(*vmf->pte, vmf->orig_pte))) goto unlock;",
      run: (x: Ctx) => (getPte(x.m, x.cfg, x.c.mm, num(x.f, "va")) !== num(x.f, "pte") ? goto("unlock") : undefined),
    },
    {
      local: true,
      line: gen519
        ? "if (vmf->flags & (FAULT_FLAG_WRITE|FAULT_FLAG_UNSHARE)) { if (!pte_write(entry)) return do_wp_page(vmf); }"
        : "if (vmf->flags & FAULT_FLAG_WRITE) { if (!pte_write(entry)) return do_wp_page(vmf); }",
      run: (x: Ctx) => {
        const wants = bool(x.f, "write") || (gen519 && bool(x.f, "unshare"));
        if (wants && !pte_write(num(x.f, "pte"))) {
          return call(
            "do_wp_page",
            { va: x.f.l.va, write: x.f.l.write, unshare: x.f.l.unshare, table: x.f.l.table, pte: x.f.l.pte },
            { tail: true },
          );
        }
      },
    },
    {
      line: "if (ptep_set_access_flags(vma, address, vmf->pte, pte_mkyoung(entry), write)) update_mmu_cache(vma, address, vmf->pte); else if (write) flush_tlb_fix_spurious_fault(vma, address);",
      run: (x: Ctx) => {
        const va = num(x.f, "va");
        if (bool(x.f, "write")) setPte(x.m, x.cfg, x.c.mm, va, pte_mkdirty(num(x.f, "pte")));
        // A spurious fault: another CPU already fixed the PTE; drop our stale entry.
        tlbFlushRange(x.c, x.c.mm, va, va + 1);
      },
    },
    {
      label: "unlock",
      line: "pte_unmap_unlock(vmf->pte, vmf->ptl); return 0;",
      run: (x: Ctx) => {
        unlockPtl(x);
        return ret(0);
      },
    },
  ];
}

definePath("handle_pte_fault@5.8", {
  name: "handle_pte_fault",
  source: "mm/memory.c",
  generation: "4.x-5.18",
  steps: handlePteFaultSteps(false),
});
definePath("handle_pte_fault@5.19", {
  name: "handle_pte_fault",
  source: "mm/memory.c",
  generation: "5.19+",
  steps: handlePteFaultSteps(true),
});
definePath("handle_pte_fault@cowpte", {
  name: "handle_pte_fault",
  source: "mm/memory.c",
  generation: "COW page tables (RFC, on 6.0)",
  steps: [
    {
      line: "if (is_cow_pte(vmf->pmd) && (vmf->flags & (FAULT_FLAG_WRITE|FAULT_FLAG_UNSHARE))) handle_cow_pte(vmf);   /* break COW on the page table first */",
      run: (x: Ctx) => {
        const slot = Math.floor(num(x.f, "va") / x.cfg.ptrs);
        if ((bool(x.f, "write") || bool(x.f, "unshare")) && x.m.mms[x.c.mm].pmdWrprotect[slot]) return call("handle_cow_pte", { va: x.f.l.va });
      },
    },
    ...handlePteFaultSteps(true),
  ],
});
defineVariant("handle_pte_fault", (cfg) =>
  cfg.kernel.cow_pte !== "none" ? "handle_pte_fault@cowpte" : paeKernel(cfg) ? "handle_pte_fault@5.19" : "handle_pte_fault@5.8",
);

definePath("do_anonymous_page", {
  name: "do_anonymous_page",
  source: "mm/memory.c",
  generation: "5.x",
  steps: [
    {
      line: "if (pte_alloc(vma->vm_mm, vmf->pmd)) return VM_FAULT_OOM;",
      run: (x) => {
        x.f.l.table = pteAlloc(x.m, x.cfg, x.c.mm, num(x.f, "va"));
      },
    },
    {
      local: true, line: "if (!(vmf->flags & FAULT_FLAG_WRITE) && !mm_forbids_zeropage(vma->vm_mm)) { entry = pte_mkspecial(pfn_pte(my_zero_pfn(vmf->address), vma->vm_page_prot)); /* lock, re-check, set */ }",
      run: (x) => {
        if (bool(x.f, "write")) return;
        x.f.l.pfn = ZERO_PFN;
        x.f.l.entry = pte_mkspecial(mk_pte(ZERO_PFN, false));
        return goto("lock");
      },
    },
    {
      line: "if (unlikely(anon_vma_prepare(vma))) goto oom;",
      run: (x) => {
        findVma(x.m.mms[x.c.mm], num(x.f, "va"))!.anonVma = true;
      },
    },
    {
      line: "page = alloc_zeroed_user_highpage_movable(vma, vmf->address);",
      run: (x) => {
        x.f.l.pfn = allocPage(x.m, "0");
      },
    },
    {
      line: "entry = mk_pte(page, vma->vm_page_prot); if (vma->vm_flags & VM_WRITE) entry = pte_mkwrite(pte_mkdirty(entry));",
      run: (x) => {
        const vma = findVma(x.m.mms[x.c.mm], num(x.f, "va"))!;
        let e = mk_pte(num(x.f, "pfn"), false);
        if (vma.flags & VM_WRITE) e = pte_mkwrite(pte_mkdirty(e));
        x.f.l.entry = e;
      },
    },
    {
      label: "lock",
      line: "vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);",
      run: lockPtl,
    },
    {
      line: "if (!pte_none(*vmf->pte)) goto release;   /* another thread faulted it in first */",
      run: (x) => (pte_none(getPte(x.m, x.cfg, x.c.mm, num(x.f, "va"))) ? undefined : goto("release")),
    },
    {
      line: "page_add_new_anon_rmap(page, vma, vmf->address);   /* mapcount = 1, exclusive */",
      run: (x) => {
        const pfn = num(x.f, "pfn");
        if (pfn === ZERO_PFN) return;
        x.m.pages[pfn].mapcount = 1;
        if (paeKernel(x.cfg)) x.m.pages[pfn].anonExclusive = true;
      },
    },
    {
      line: "set_pte_at(vma->vm_mm, vmf->address, vmf->pte, entry);",
      run: (x) => setPte(x.m, x.cfg, x.c.mm, num(x.f, "va"), num(x.f, "entry")),
    },
    {
      label: "unlock",
      line: "pte_unmap_unlock(vmf->pte, vmf->ptl); return 0;",
      run: (x) => {
        unlockPtl(x);
        return ret(0);
      },
    },
    {
      label: "release",
      line: "put_page(page); goto unlock;",
      run: (x) => {
        const pfn = num(x.f, "pfn");
        if (pfn !== ZERO_PFN) folioPut(x.m, pfn);
        return goto("unlock");
      },
    },
  ],
});
