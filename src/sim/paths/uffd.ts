// userfaultfd write-(un)protect (races.md R9): the PTE's write bit changes
// under the PTL, but the TLB flush is deferred until the whole range is done.

import { getPte, ptl, setPte, spinLock, spinUnlock, tableOf, upRead } from "../machine.js";
import { call, definePath, num, ret, mmapLockStep } from "../path.js";
import { pte_wrprotect } from "../pte.js";

definePath("mwriteprotect_range", {
  name: "mwriteprotect_range",
  source: "mm/userfaultfd.c, mm/mprotect.c",
  generation: "5.7-5.12",
  steps: [
    mmapLockStep("mmap_read_lock(dst_mm);", false),
    {
      line: "newprot = vm_get_page_prot(dst_vma->vm_flags); change_protection(...) -> change_protection_range(): inc_tlb_flush_pending(mm);   /* private: base protection is read-only */",
      run: (x) => {
        x.m.mms[x.c.mm].tlbFlushPending++;
      },
    },
    {
      line: "pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);   /* change_pte_range() */",
      run: (x) => {
        const t = tableOf(x.m, x.cfg, x.c.mm, num(x.f, "va"));
        const w = spinLock(x.m, x.cpu, ptl(t));
        if (w) return { wait: w };
        x.f.l.table = t;
      },
    },
    {
      line: "oldpte = ptep_modify_prot_start(vma, addr, pte); ptent = pte_clear_uffd_wp(pte_modify(oldpte, newprot)); ptep_modify_prot_commit(vma, addr, pte, oldpte, ptent);   /* write bit gone; flush later */",
      run: (x) => {
        const va = num(x.f, "va");
        setPte(x.m, x.cfg, x.c.mm, va, pte_wrprotect(getPte(x.m, x.cfg, x.c.mm, va)));
      },
    },
    {
      line: "pte_unmap_unlock(pte - 1, ptl);",
      run: (x) => spinUnlock(x.m, x.cpu, ptl(num(x.f, "table"))),
    },
    {
      local: true, line: "if (pages) flush_tlb_range(vma, start, end);   /* the deferred flush */",
      run: (x) => call("flush_tlb", { mm: x.c.mm, start: x.f.l.va, end: num(x.f, "va") + 1 }),
    },
    {
      line: "dec_tlb_flush_pending(mm);",
      run: (x) => {
        x.m.mms[x.c.mm].tlbFlushPending--;
      },
    },
    {
      line: "mmap_read_unlock(dst_mm);",
      run: (x) => {
        upRead(x.m, x.cpu, x.c.mm);
        return ret(0);
      },
    },
  ],
});
