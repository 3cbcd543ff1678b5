// copy_pte_range with large folios, races.md R1: the vendor phone kernel
// (core mm copies a CONT block as one unit; optionally the aligned lock break
// that fixed it) and mainline 6.9+ (copy_present_ptes batches a folio's PTEs;
// the arch decides CONT, unfolding the parent's block on a partial
// write-protect).

import { folioGet, getPte, isCowMapping, maybeDmaPinned, setPte } from "../machine.js";
import { call, definePath, lineOf, num, ret, type Ctx, type Step } from "../path.js";
import { CONT_PTES, contBlockStart, pte_cont, pte_mkcont, pte_mknoncont, pte_pfn, pte_present, pte_special, pte_write, pte_wrprotect } from "../pte.js";
import { setPtes, unfoldFirst } from "./contpte.js";
import { advance, copyArgs, copyPteRange59, progressCheck } from "./fork.js";

const [lockDst, lockSrc, , noneCheck, copyOne, afterOne, unlockBoth, prealloc, again, putPrealloc] = copyPteRange59.steps;

const srcVma = (x: Ctx) => x.m.mms[num(x.f, "src")].vmas[num(x.f, "vma")];

/** The vendor fix: the lock is dropped only at a block boundary (vendor 5.15 copy_pte_range). */
const progressCheckAligned: Step = {
  label: "loop",
  line: (cfg) =>
    `if (progress >= ${cfg.kernel.progress_threshold}) { progress = 0; if (!vma_is_chp_anonymous(src_vma) || IS_ALIGNED(addr, HPAGE_CONT_PTE_SIZE)) if (need_resched() || spin_needbreak(src_ptl) || spin_needbreak(dst_ptl)) break; }` +
    (cfg.kernel.progress_threshold !== 32 ? "   /* 32 in the kernel, scaled for this level */" : ""),
  run: (x) => {
    if (num(x.f, "addr") % CONT_PTES !== 0) {
      if (num(x.f, "progress") >= x.cfg.kernel.progress_threshold) x.f.l.progress = 0;
      return;
    }
    return progressCheck.run(x);
  },
};

definePath("copy_pte_range@vendor", {
  name: "copy_pte_range",
  source: "mm/memory.c (vendor Android 5.15, CONFIG_CONT_PTE_HUGEPAGE)",
  generation: "vendor 5.15",
  steps: [
    lockDst,
    lockSrc,
    { ...progressCheck, run: (x) => (x.cfg.kernel.fork_aligned_break ? progressCheckAligned.run(x) : progressCheck.run(x)), line: (cfg) => lineOf(cfg.kernel.fork_aligned_break ? progressCheckAligned : progressCheck, cfg) },
    noneCheck,
    {
      line: "if (pte_present(*src_pte) && pte_cont(*src_pte)) ret = copy_present_cont_pte(dst_mm, vma, dst_pte, src_pte, addr, rss);   /* the whole block as one unit */",
      run: (x) => {
        const pte = getPte(x.m, x.cfg, num(x.f, "src"), num(x.f, "addr"));
        if (!(pte_present(pte) && pte_cont(pte))) return;
        return call("copy_present_cont_pte", copyArgs(x), { then: "contnext" });
      },
    },
    copyOne,
    afterOne,
    {
      label: "contnext",
      local: true, line: "progress += 8; dst_pte += HPAGE_CONT_PTE_NR - 1; src_pte += HPAGE_CONT_PTE_NR - 1; addr += HPAGE_CONT_PTE_SIZE - PAGE_SIZE; } while (dst_pte++, src_pte++, addr += PAGE_SIZE, addr != end);",
      run: (x) => {
        x.f.l.progress = num(x.f, "progress") + 8;
        x.f.l.addr = Math.min(num(x.f, "end"), contBlockStart(num(x.f, "addr")) + CONT_PTES) - 1;
        return advance(x);
      },
    },
    unlockBoth,
    prealloc,
    again,
    putPrealloc,
  ],
});

definePath("copy_present_cont_pte", {
  name: "copy_present_cont_pte",
  source: "mm/memory.c (vendor Android 5.15)",
  generation: "vendor 5.15",
  steps: [
    {
      line: "page = vm_normal_page(src_vma, addr, pte); get_page(page); page_dup_rmap(page, true); rss[mm_counter(page)] += HPAGE_CONT_PTE_NR;",
      run: (x) => {
        // Counted here per PTE (one reference and one mapcount per entry copied), as the rest of the model does.
        const addr = num(x.f, "addr");
        const end = contBlockStart(addr) + CONT_PTES;
        for (let va = addr; va < end; va++) {
          const p = getPte(x.m, x.cfg, num(x.f, "src"), va);
          if (!pte_present(p) || pte_special(p)) continue;
          folioGet(x.m, pte_pfn(p));
          x.m.pages[pte_pfn(p)].mapcount++;
        }
      },
    },
    {
      line: "if (is_cow_mapping(vm_flags) && pte_write(pte)) { cont_pte_set_huge_pte_wrprotect(src_mm, addr, src_pte); pte = pte_wrprotect(pte); }   /* the parent's whole block */",
      run: (x) => {
        if (!isCowMapping(srcVma(x).flags)) return;
        const bs = contBlockStart(num(x.f, "addr"));
        for (let va = bs; va < bs + CONT_PTES; va++) {
          const p = getPte(x.m, x.cfg, num(x.f, "src"), va);
          if (pte_present(p)) setPte(x.m, x.cfg, num(x.f, "src"), va, pte_wrprotect(p));
        }
      },
    },
    {
      line: "pte = pte_mkold(pte); cont_pte_set_huge_pte_at(dst_mm, addr, dst_pte, pte);   /* the child's entries from addr, all with CONT */",
      run: (x) => {
        const addr = num(x.f, "addr");
        const end = contBlockStart(addr) + CONT_PTES;
        for (let va = addr; va < end; va++) {
          const p = getPte(x.m, x.cfg, num(x.f, "src"), va);
          if (pte_present(p)) setPte(x.m, x.cfg, num(x.f, "dst"), va, pte_mkcont(isCowMapping(srcVma(x).flags) ? pte_wrprotect(p) : p));
        }
        return ret(0);
      },
    },
  ],
});

definePath("copy_pte_range@6.9", {
  name: "copy_pte_range",
  source: "mm/memory.c",
  generation: "6.9+ (f8d937761d65: batched folio copy)",
  steps: [
    lockDst,
    lockSrc,
    progressCheck,
    { ...noneCheck, line: "ptent = ptep_get(src_pte); if (pte_none(ptent)) { progress++; continue; }" },
    {
      local: true, line: "max_nr = (end - addr) / PAGE_SIZE; ret = copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, ptent, addr, max_nr, rss, &prealloc);",
      run: (x) => call("copy_present_ptes", { ...copyArgs(x), end: x.f.l.end }),
    },
    {
      local: true, line: "if (unlikely(ret == -EAGAIN)) break; nr = ret; progress += 8 * nr; } while (dst_pte += nr, src_pte += nr, addr += PAGE_SIZE * nr, addr != end);",
      run: (x) => {
        const nr = num(x.f, "rv");
        x.f.l.progress = num(x.f, "progress") + 8 * nr;
        x.f.l.addr = num(x.f, "addr") + nr - 1;
        return advance(x);
      },
    },
    unlockBoth,
    again,
    { ...putPrealloc, line: "if (unlikely(prealloc)) folio_put(prealloc); return ret;" },
  ],
});

definePath("copy_present_ptes", {
  name: "copy_present_ptes",
  source: "mm/memory.c",
  generation: "6.9+",
  steps: [
    {
      line: "folio = page_folio(vm_normal_page(src_vma, addr, pte)); nr = folio_test_large(folio) && max_nr != 1 ? folio_pte_batch(folio, addr, src_pte, pte, max_nr, flags, &any_writable, NULL, NULL) : 1;",
      run: (x) => {
        const src = num(x.f, "src");
        const addr = num(x.f, "addr");
        const pte = getPte(x.m, x.cfg, src, addr);
        if (pte_special(pte)) throw new Error("copy_present_ptes: special PTEs are not modelled");
        const pfn = pte_pfn(pte);
        const head = x.m.pages[pfn].folio;
        const folioEnd = head + x.m.folios[head]!.nr;
        // folio_pte_batch: consecutive pages of this folio, same permission (dirty and CONT ignored).
        let nr = 1;
        while (addr + nr < num(x.f, "end") && pfn + nr < folioEnd) {
          const p = getPte(x.m, x.cfg, src, addr + nr);
          if (!pte_present(p) || pte_pfn(p) !== pfn + nr || pte_write(p) !== pte_write(pte)) break;
          nr++;
        }
        x.f.l.nr = nr;
        x.f.l.pte = pte;
      },
    },
    {
      line: "folio_ref_add(folio, nr); if (unlikely(folio_try_dup_anon_rmap_ptes(folio, page, nr, src_vma))) { folio_ref_sub(folio, nr); return -EAGAIN; }   /* the pages are shared now: PageAnonExclusive cleared */",
      run: (x) => {
        const pfn = pte_pfn(num(x.f, "pte"));
        const nr = num(x.f, "nr");
        for (let i = 0; i < nr; i++) {
          const pg = x.m.pages[pfn + i];
          if (pg.anonExclusive && x.m.mms[num(x.f, "src")].hasPinned && maybeDmaPinned(x.m, pfn + i)) {
            throw new Error("copy_present_ptes: the early COW of a pinned page is not modelled on 6.9+ levels");
          }
          pg.anonExclusive = false;
          pg.mapcount++;
        }
        folioGet(x.m, pfn, nr);
      },
    },
    {
      line: "if (is_cow_mapping(src_vma->vm_flags) && pte_write(pte)) { wrprotect_ptes(src_mm, addr, src_pte, nr); pte = pte_wrprotect(pte); }   /* arm64: a block the range covers only in part is unfolded first */",
      run: (x) => {
        const src = num(x.f, "src");
        const addr = num(x.f, "addr");
        const nr = num(x.f, "nr");
        if (!(isCowMapping(srcVma(x).flags) && pte_write(num(x.f, "pte")))) return;
        const unfold = unfoldFirst(x, src, addr, addr + nr);
        if (unfold) return unfold;
        // A whole block stays folded: contpte_wrprotect_ptes() only sets write-protect (races.md P3).
        for (let va = addr; va < addr + nr; va++) setPte(x.m, x.cfg, src, va, pte_wrprotect(getPte(x.m, x.cfg, src, va)));
        x.f.l.pte = pte_wrprotect(num(x.f, "pte"));
      },
    },
    {
      line: "set_ptes(dst_vma->vm_mm, addr, dst_pte, pte_mkold(pte), nr); return nr;   /* arm64 contpte_set_ptes(): CONT only on blocks the range covers whole */",
      run: (x) => {
        setPtes(x, num(x.f, "dst"), num(x.f, "addr"), pte_mknoncont(num(x.f, "pte")), num(x.f, "nr"));
        return ret(num(x.f, "nr"));
      },
    },
  ],
});
