// The mTHP anonymous fault (mainline 6.8+, races.md R1 CPU1): one fault maps
// a whole naturally aligned multi-page folio with set_ptes(), where arm64's
// contpte_set_ptes() sets CONT on the block. The vendor phone tree sets CONT
// from core mm instead.

import { allocFolio, findVma, folioPut, pteAlloc, ptl, spinLock, spinUnlock, setPte, getPte } from "../machine.js";
import { definePath, goto, num, ret } from "../path.js";
import { CONT_PTES, contBlockStart, mk_pte, pte_mkcont, pte_mkdirty, pte_mkwrite, pte_none, pte_advance_pfn } from "../pte.js";
import { VM_WRITE } from "../types.js";
import { paeKernel } from "./fault.js";
import { setPtes } from "./contpte.js";

definePath("do_anonymous_page@mthp", {
  name: "do_anonymous_page",
  source: "mm/memory.c",
  generation: "6.8+ (mTHP)",
  steps: [
    {
      line: "if (unlikely(anon_vma_prepare(vma))) goto oom;",
      run: (x) => {
        const vma = findVma(x.m.mms[x.c.mm], num(x.f, "va"));
        if (!vma) throw new Error(`mthp_fault: no VMA covers page ${num(x.f, "va")}`);
        vma.anonVma = true;
      },
    },
    {
      line: `folio = alloc_anon_folio(vmf);   /* ${CONT_PTES} pages here (64 KiB in the kernel) */ nr_pages = folio_nr_pages(folio); addr = ALIGN_DOWN(vmf->address, nr_pages * PAGE_SIZE);`,
      run: (x) => {
        x.f.l.pfn = allocFolio(x.m, CONT_PTES, "0");
        x.f.l.addr = contBlockStart(num(x.f, "va"));
        x.f.l.table = pteAlloc(x.m, x.cfg, x.c.mm, num(x.f, "va"));
      },
    },
    {
      line: "entry = mk_pte(&folio->page, vma->vm_page_prot); if (vma->vm_flags & VM_WRITE) entry = pte_mkwrite(pte_mkdirty(entry), vma);",
      run: (x) => {
        const vma = findVma(x.m.mms[x.c.mm], num(x.f, "va"))!;
        let e = mk_pte(num(x.f, "pfn"), false);
        if (vma.flags & VM_WRITE) e = pte_mkwrite(pte_mkdirty(e));
        x.f.l.entry = e;
      },
    },
    {
      line: "vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, addr, &vmf->ptl);",
      run: (x) => {
        const w = spinLock(x.m, x.cpu, ptl(num(x.f, "table")));
        return w ? { wait: w } : undefined;
      },
    },
    {
      line: "if (nr_pages > 1 && !pte_range_none(vmf->pte, nr_pages)) goto release;   /* part of the range is mapped already */",
      run: (x) => {
        for (let i = 0; i < CONT_PTES; i++) if (!pte_none(getPte(x.m, x.cfg, x.c.mm, num(x.f, "addr") + i))) return goto("release");
      },
    },
    {
      line: (cfg) =>
        cfg.kernel.contpte === "vendor"
          ? "folio_add_new_anon_rmap(folio, vma, addr); cont_pte_set_huge_pte_at(vma->vm_mm, addr, vmf->pte, entry);   /* vendor: core mm sets CONT on the whole block */"
          : "folio_ref_add(folio, nr_pages - 1); folio_add_new_anon_rmap(folio, vma, addr, RMAP_EXCLUSIVE); set_ptes(vma->vm_mm, addr, vmf->pte, entry, nr_pages);   /* arm64 contpte_set_ptes(): a whole aligned block gets CONT */",
      run: (x) => {
        const head = num(x.f, "pfn");
        const addr = num(x.f, "addr");
        const entry = num(x.f, "entry");
        x.m.folios[head]!.refcount += CONT_PTES - 1;
        for (let i = 0; i < CONT_PTES; i++) {
          x.m.pages[head + i].mapcount = 1;
          if (paeKernel(x.cfg)) x.m.pages[head + i].anonExclusive = true;
        }
        if (x.cfg.kernel.contpte === "vendor") {
          for (let i = 0; i < CONT_PTES; i++) setPte(x.m, x.cfg, x.c.mm, addr + i, pte_mkcont(pte_advance_pfn(entry, i)));
        } else setPtes(x, x.c.mm, addr, entry, CONT_PTES);
      },
    },
    {
      label: "unlock",
      line: "pte_unmap_unlock(vmf->pte, vmf->ptl); return 0;",
      run: (x) => {
        spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));
        return ret(0);
      },
    },
    {
      label: "release",
      line: "folio_put(folio); goto unlock;",
      run: (x) => {
        folioPut(x.m, num(x.f, "pfn"));
        return goto("unlock");
      },
    },
  ],
});
