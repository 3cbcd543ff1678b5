// Reclaim unmapping one PTE of a large folio (mm/rmap.c try_to_unmap_one,
// 6.x), Barry Song's second case in races.md R2: the arch notices the first
// entry of a CONT block being cleared and unfolds the block.

import { folioPut, getPte, ptl, setPte, spinLock, spinUnlock, tableOf } from "../machine.js";
import { call, definePath, num, ret } from "../path.js";
import { mk_swp_pte, pte_pfn, pte_present } from "../pte.js";
import { unfoldFirst } from "./contpte.js";

definePath("try_to_unmap_one", {
  name: "try_to_unmap_one",
  source: "mm/rmap.c",
  generation: "6.x",
  steps: [
    {
      line: "while (page_vma_mapped_walk(&pvmw)) {   /* finds the PTE and takes its PTL */",
      run: (x) => {
        const t = tableOf(x.m, x.cfg, x.c.mm, num(x.f, "va"));
        if (t < 0 || !pte_present(getPte(x.m, x.cfg, x.c.mm, num(x.f, "va")))) return ret(0);
        const w = spinLock(x.m, x.cpu, ptl(t));
        if (w) return { wait: w };
        x.f.l.table = t;
      },
    },
    {
      line: "pteval = ptep_clear_flush(vma, address, pvmw.pte);   /* arm64: contpte_try_unfold() first if the entry is CONT; then clear it and flush this page */",
      run: (x) => {
        const va = num(x.f, "va");
        const unfold = unfoldFirst(x, x.c.mm, va);
        if (unfold) return unfold;
        x.f.l.pfn = pte_pfn(getPte(x.m, x.cfg, x.c.mm, va));
        setPte(x.m, x.cfg, x.c.mm, va, 0);
        return call("flush_tlb", { mm: x.c.mm, start: va, end: va + 1 });
      },
    },
    {
      line: "set_pte_at(mm, address, pvmw.pte, swp_pte); folio_remove_rmap_pte(folio, subpage, vma); folio_put(folio);   /* a swap entry now: the range stays unfolded */",
      run: (x) => {
        const pfn = num(x.f, "pfn");
        setPte(x.m, x.cfg, x.c.mm, num(x.f, "va"), mk_swp_pte());
        x.m.pages[pfn].mapcount--;
        folioPut(x.m, pfn);
      },
    },
    {
      line: "page_vma_mapped_walk_done(&pvmw);   /* pte_unmap_unlock() */",
      run: (x) => {
        spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));
        return ret(0);
      },
    },
  ],
});
