// copy_pte_range with large folios, races.md R1: the vendor phone kernel
// (core mm copies a CONT block as one unit; optionally the aligned lock break
// that fixed it) and mainline 6.9+ (copy_present_ptes batches a folio's PTEs;
// the arch decides CONT, unfolding the parent's block on a partial
// write-protect).

import { folioGet, folioPut, getPte, isCowMapping, maybeDmaPinned, setPte } from "../machine.js";
import { call, definePath, goto, lineOf, num, ret, type Ctx, type Step } from "../path.js";
import { CONT_PTES, contBlockStart, mk_pte, pte_cont, pte_dirty, pte_mkcont, pte_mkdirty, pte_mknoncont, pte_mkwrite, pte_pfn, pte_present, pte_special, pte_write, pte_wrprotect } from "../pte.js";
import { VM_WRITE } from "../types.js";
import { setPtes, unfoldFirst } from "./contpte.js";
import { copyArgs, copyPteRange59, nextPte, progressCheck } from "./fork.js";

const [lockDst, lockSrc, , noneCheck, copyOne, afterOne, unlockBoth, prealloc, again, putPrealloc] = copyPteRange59.steps;

const srcVma = (x: Ctx) => x.m.mms[num(x.f, "src")].vmas[num(x.f, "vma")];
const EAGAIN = -11;

/** copy_pte_range's frame below the current one: prealloc lives there. */
function rangeFrame(x: Ctx) {
  for (let i = x.c.frames.length - 1; i >= 0; i--) if (x.c.frames[i].path.startsWith("copy_pte_range")) return x.c.frames[i];
  throw new Error("copy_present_ptes outside copy_pte_range");
}
const hasPrealloc = (x: Ctx) => {
  const p = rangeFrame(x).l.prealloc;
  return typeof p === "number" && p >= 0;
};
/** __folio_try_dup_anon_rmap(): -EBUSY when the folio may be DMA-pinned and a page to share is still exclusive. */
const needsCowForDma = (x: Ctx, pfn: number, nr: number) =>
  isCowMapping(srcVma(x).flags) &&
  x.m.mms[num(x.f, "src")].hasPinned &&
  Array.from({ length: nr }, (_, i) => pfn + i).some((p) => x.m.pages[p].anonExclusive && maybeDmaPinned(x.m, p));

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
        return nextPte(x);
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
      line: "if (unlikely(ret == -EAGAIN || ret == -EHWPOISON)) break; if (unlikely(prealloc)) { folio_put(prealloc); prealloc = NULL; } nr = ret; progress += 8 * nr; } while (dst_pte += nr, src_pte += nr, addr += PAGE_SIZE * nr, addr != end);",
      run: (x) => {
        const nr = num(x.f, "rv");
        if (nr === EAGAIN) {
          x.f.l.eagain = true;
          return goto("out");
        }
        const p = x.f.l.prealloc;
        if (typeof p === "number" && p >= 0) {
          folioPut(x.m, p);
          x.f.l.prealloc = -1;
        }
        x.f.l.progress = num(x.f, "progress") + 8 * nr;
        x.f.l.addr = num(x.f, "addr") + nr - 1;
        return nextPte(x);
      },
    },
    unlockBoth,
    { ...prealloc, line: "if (ret == -EAGAIN) { prealloc = folio_prealloc(src_mm, src_vma, addr, false); if (!prealloc) return -ENOMEM; ret = 0; }   /* allocate with no lock held */" },
    again,
    { ...putPrealloc, line: "if (unlikely(prealloc)) folio_put(prealloc); return ret;" },
  ],
});

definePath("copy_present_ptes", {
  name: "copy_present_ptes",
  source: "mm/memory.c",
  generation: "6.9",
  steps: [
    {
      line: "page = vm_normal_page(src_vma, addr, pte); if (unlikely(!page)) goto copy_pte; folio = page_folio(page); if (unlikely(!*prealloc && folio_test_large(folio) && max_nr != 1)) {   /* batch only if a copy is unlikely */",
      run: (x) => {
        const src = num(x.f, "src");
        const addr = num(x.f, "addr");
        const pte = getPte(x.m, x.cfg, src, addr);
        x.f.l.pte = pte;
        // The shared zero page: vm_normal_page() is NULL, so "goto copy_pte" copies the one PTE as it is.
        if (pte_special(pte)) {
          x.f.l.nr = 1;
          return goto("copy");
        }
        const pfn = pte_pfn(pte);
        const head = x.m.pages[pfn].folio;
        if (hasPrealloc(x) || x.m.folios[head]!.nr === 1 || num(x.f, "end") - addr === 1) return goto("single");
      },
    },
    {
      line: "    nr = folio_pte_batch(folio, addr, src_pte, pte, max_nr, flags, &any_writable, NULL, NULL);   /* private mapping: dirty must match, the write bit is ignored */",
      run: (x) => {
        const src = num(x.f, "src");
        const addr = num(x.f, "addr");
        const pte = num(x.f, "pte");
        const pfn = pte_pfn(pte);
        const head = x.m.pages[pfn].folio;
        const folioEnd = head + x.m.folios[head]!.nr;
        // 6.9 folio_pte_batch(): consecutive pages of this folio whose PTEs agree once the write
        // (and young, soft-dirty) bits are cleared; FPB_IGNORE_DIRTY only for VM_SHARED, so a
        // private mapping's batch also stops where the dirty bit changes. CONT is not compared here.
        let nr = 1;
        let anyWritable = pte_write(pte);
        while (addr + nr < num(x.f, "end") && pfn + nr < folioEnd) {
          const p = getPte(x.m, x.cfg, src, addr + nr);
          if (!pte_present(p) || pte_pfn(p) !== pfn + nr || pte_dirty(p) !== pte_dirty(pte)) break;
          anyWritable ||= pte_write(p);
          nr++;
        }
        x.f.l.nr = nr;
        x.f.l.anyWritable = anyWritable;
      },
    },
    {
      line: "    folio_ref_add(folio, nr); if (unlikely(folio_try_dup_anon_rmap_ptes(folio, page, nr, src_vma))) { folio_ref_sub(folio, nr); return -EAGAIN; }   /* the pages are shared now: PageAnonExclusive cleared */",
      run: (x) => {
        const pfn = pte_pfn(num(x.f, "pte"));
        const nr = num(x.f, "nr");
        // -EBUSY: the folio may be pinned; copy_pte_range preallocates and the retry takes the single-PTE path below.
        if (needsCowForDma(x, pfn, nr)) return ret(EAGAIN);
        for (let i = 0; i < nr; i++) {
          const pg = x.m.pages[pfn + i];
          pg.anonExclusive = false;
          pg.mapcount++;
        }
        folioGet(x.m, pfn, nr);
      },
    },
    {
      line: "    if (any_writable) pte = pte_mkwrite(pte, src_vma); __copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, pte, addr, nr); return nr; }",
      run: (x) => {
        if (x.f.l.anyWritable === true) x.f.l.pte = pte_mkwrite(num(x.f, "pte"));
        return goto("copy");
      },
    },
    {
      label: "single",
      line: "folio_get(folio); if (folio_test_anon(folio)) { if (unlikely(folio_try_dup_anon_rmap_pte(folio, page, src_vma))) { folio_put(folio); err = copy_present_page(dst_vma, src_vma, dst_pte, src_pte, addr, rss, prealloc, page); return err ? err : 1; } }",
      run: (x) => {
        const pfn = pte_pfn(num(x.f, "pte"));
        x.f.l.nr = 1;
        if (needsCowForDma(x, pfn, 1)) return call("copy_present_page", { ...x.f.l, pfn }, { then: "copied" });
        const pg = x.m.pages[pfn];
        pg.anonExclusive = false;
        pg.mapcount++;
        folioGet(x.m, pfn);
      },
    },
    {
      label: "copy",
      line: "copy_pte: __copy_present_ptes(): if (is_cow_mapping(src_vma->vm_flags) && pte_write(pte)) { wrprotect_ptes(src_mm, addr, src_pte, nr); pte = pte_wrprotect(pte); }   /* arm64: a block the range covers only in part is unfolded first */",
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
    {
      label: "copied",
      line: "return err ? err : 1;   /* copy_present_page() gave the child its own copy; the parent keeps the pinned page, writable */",
      run: (x) => ret(num(x.f, "rv") === 0 ? 1 : num(x.f, "rv")),
    },
  ],
});

// 6.9's copy_present_page(): the early COW of a maybe-pinned page, folio-based.
definePath("copy_present_page@6.9", {
  name: "copy_present_page",
  source: "mm/memory.c",
  generation: "6.9",
  steps: [
    {
      line: "new_folio = *prealloc; if (!new_folio) return -EAGAIN;",
      run: (x) => {
        const p = rangeFrame(x).l.prealloc;
        if (typeof p !== "number" || p < 0) return ret(EAGAIN);
        x.f.l.new = p;
      },
    },
    {
      line: "*prealloc = NULL; copy_user_highpage(&new_folio->page, page, addr, src_vma); __folio_mark_uptodate(new_folio); folio_add_new_anon_rmap(new_folio, dst_vma, addr); folio_add_lru_vma(new_folio, dst_vma);",
      run: (x) => {
        rangeFrame(x).l.prealloc = -1;
        const n = num(x.f, "new");
        const old = num(x.f, "pfn");
        x.m.pages[n].data = x.m.pages[old].data;
        x.m.pages[n].dmabuf = x.m.pages[old].dmabuf;
        x.m.pages[n].mapcount = 1;
        x.m.pages[n].anonExclusive = true;
      },
    },
    {
      line: "pte = maybe_mkwrite(pte_mkdirty(mk_pte(&new_folio->page, dst_vma->vm_page_prot)), dst_vma); set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte); return 0;",
      run: (x) => {
        let e = pte_mkdirty(mk_pte(num(x.f, "new"), false));
        const v = srcVma(x);
        const dv = x.m.mms[num(x.f, "dst")].vmas.find((d) => d.start === v.start)!;
        if (dv.flags & VM_WRITE) e = pte_mkwrite(e);
        setPte(x.m, x.cfg, num(x.f, "dst"), num(x.f, "addr"), e);
        return ret(0);
      },
    },
  ],
});
