// The write-protect fault: do_wp_page in its three generations (races.md R5,
// P14), wp_page_reuse and wp_page_copy. Entered with the PTL held.

import { allocPage, folioGet, folioOf, folioPut, getPte, ptl, setPte, spinLock, spinUnlock, findVma } from "../machine.js";
import { bool, call, defineVariant, definePath, goto, num, ret, type Ctx, type Step } from "../path.js";
import { mk_pte, pte_mkdirty, pte_mkwrite, pte_pfn, pte_special } from "../pte.js";
import { VM_UFFD_WP, VM_WRITE } from "../types.js";
import { paeKernel } from "./fault.js";

const unlockPtl = (x: Ctx) => spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));
const page = (x: Ctx) => num(x.f, "pfn");

/** vm_normal_page(): NULL for the zero page and other special mappings. */
const vmNormalPage: Step = {
  local: true, line: "vmf->page = vm_normal_page(vma, vmf->address, vmf->orig_pte);",
  run: (x) => {
    const pte = num(x.f, "pte");
    x.f.l.pfn = pte_special(pte) ? -1 : pte_pfn(pte);
  },
};

const copyArgs = (x: Ctx) => ({ va: x.f.l.va, unshare: x.f.l.unshare, table: x.f.l.table, pte: x.f.l.pte, old: x.f.l.pfn });
const reuseArgs = (x: Ctx) => ({ va: x.f.l.va, table: x.f.l.table, pte: x.f.l.pte });

/** 6ce64428d620 (5.12): userfaultfd write-protect can defer flushes; flush before copying. */
const uffdFlush = (gen519: boolean): Step => ({
  line: gen519
    ? "if (likely(!unshare) && unlikely(userfaultfd_wp(vmf->vma) && mm_tlb_flush_pending(vmf->vma->vm_mm))) flush_tlb_page(vmf->vma, vmf->address);"
    : "if (unlikely(userfaultfd_wp(vmf->vma) && mm_tlb_flush_pending(vmf->vma->vm_mm))) flush_tlb_page(vmf->vma, vmf->address);   /* uffd-wp can defer flushes */",
  run: (x) => {
    const vma = findVma(x.m.mms[x.c.mm], num(x.f, "va"))!;
    if (bool(x.f, "unshare") || !(vma.flags & VM_UFFD_WP) || x.m.mms[x.c.mm].tlbFlushPending === 0) return;
    const va = num(x.f, "va");
    return call("flush_tlb", { mm: x.c.mm, start: va, end: va + 1 });
  },
});

const copyTail: Step[] = [
  {
    label: "copy",
    line: "get_page(vmf->page);",
    run: (x) => {
      if (page(x) >= 0) folioGet(x.m, page(x));
    },
  },
  { line: "pte_unmap_unlock(vmf->pte, vmf->ptl);", run: unlockPtl },
  { local: true, line: "return wp_page_copy(vmf);", run: (x) => call("wp_page_copy", copyArgs(x), { tail: true }) },
];

// Before 5.9: reuse when the page is mapped once, whatever its refcount says.
definePath("do_wp_page@4.x", {
  name: "do_wp_page",
  source: "mm/memory.c",
  generation: "4.x-5.8 (reuse by mapcount)",
  steps: [
    vmNormalPage,
    {
      line: "if (!vmf->page) { pte_unmap_unlock(vmf->pte, vmf->ptl); return wp_page_copy(vmf); }",
      run: (x) => {
        if (page(x) >= 0) return;
        unlockPtl(x);
        return call("wp_page_copy", copyArgs(x), { tail: true });
      },
    },
    {
      line: "if (!trylock_page(vmf->page)) { /* drop the PTL, lock_page(), retake it, re-check pte_same() */ }",
      run: (x) => {
        folioOf(x.m, page(x)).locked = true;
      },
    },
    {
      line: "if (reuse_swap_page(vmf->page, &total_map_swapcount)) {   /* page_mapcount() + swap count <= 1 */",
      run: (x) => (x.m.pages[page(x)].mapcount <= 1 ? undefined : goto("no_reuse")),
    },
    {
      line: "    page_move_anon_rmap(vmf->page, vma); unlock_page(vmf->page); wp_page_reuse(vmf); return VM_FAULT_WRITE; }",
      run: (x) => {
        folioOf(x.m, page(x)).locked = false;
        return call("wp_page_reuse", reuseArgs(x), { tail: true });
      },
    },
    {
      label: "no_reuse",
      line: "unlock_page(vmf->page);",
      run: (x) => {
        folioOf(x.m, page(x)).locked = false;
      },
    },
    ...copyTail,
  ],
});

// 09854ba94c6a (5.9): reuse only when nobody else holds a reference.
const doWpPage59Steps: Step[] = [
    vmNormalPage,
    {
      line: "if (!vmf->page) { pte_unmap_unlock(vmf->pte, vmf->ptl); return wp_page_copy(vmf); }",
      run: (x) => {
        if (page(x) >= 0) return;
        unlockPtl(x);
        return call("wp_page_copy", copyArgs(x), { tail: true });
      },
    },
    {
      line: "if (PageKsm(page) || page_count(page) != 1) goto copy;",
      run: (x) => (folioOf(x.m, page(x)).refcount !== 1 ? goto("copy") : undefined),
    },
    {
      line: "if (!trylock_page(page)) goto copy;",
      run: (x) => {
        const f = folioOf(x.m, page(x));
        if (f.locked) return goto("copy");
        f.locked = true;
      },
    },
    {
      line: "if (PageKsm(page) || page_mapcount(page) != 1 || page_count(page) != 1) { unlock_page(page); goto copy; }",
      run: (x) => {
        const f = folioOf(x.m, page(x));
        if (x.m.pages[page(x)].mapcount !== 1 || f.refcount !== 1) {
          f.locked = false;
          return goto("copy");
        }
      },
    },
    {
      line: "unlock_page(page); wp_page_reuse(vmf);   /* \"it's dark out, and we're wearing sunglasses. Hit it.\" */",
      run: (x) => {
        folioOf(x.m, page(x)).locked = false;
        return call("wp_page_reuse", reuseArgs(x), { tail: true });
      },
    },
    ...copyTail,
];

definePath("do_wp_page@5.9", {
  name: "do_wp_page",
  source: "mm/memory.c",
  generation: "5.9-5.18 (09854ba94c6a: reuse by page_count)",
  steps: doWpPage59Steps,
});

definePath("do_wp_page@5.12", {
  name: "do_wp_page",
  source: "mm/memory.c",
  generation: "5.12-5.18 (6ce64428d620: flush before copying under uffd-wp)",
  steps: [uffdFlush(false), ...doWpPage59Steps],
});

// 5.19: PageAnonExclusive decides; FAULT_FLAG_UNSHARE only makes the page exclusive.
definePath("do_wp_page@5.19", {
  name: "do_wp_page",
  source: "mm/memory.c",
  generation: "5.19+ (PageAnonExclusive)",
  steps: [
    uffdFlush(true),
    vmNormalPage,
    {
      line: "if (!vmf->page) { pte_unmap_unlock(vmf->pte, vmf->ptl); return unshare ? 0 : wp_page_copy(vmf); }",
      run: (x) => {
        if (page(x) >= 0) return;
        unlockPtl(x);
        return bool(x.f, "unshare") ? ret(0) : call("wp_page_copy", copyArgs(x), { tail: true });
      },
    },
    {
      line: "if (PageAnonExclusive(page)) goto reuse;",
      run: (x) => (x.m.pages[page(x)].anonExclusive ? goto("reuse") : undefined),
    },
    {
      line: "if (PageKsm(page) || page_count(page) > 3) goto copy; if (!PageLRU(page)) lru_add_drain();   /* only this CPU's LRU pagevecs */  if (page_count(page) > 1 + PageSwapCache(page)) goto copy;",
      run: (x) => (folioOf(x.m, page(x)).refcount > 1 ? goto("copy") : undefined),
    },
    {
      line: "if (!trylock_page(page)) goto copy;",
      run: (x) => {
        const f = folioOf(x.m, page(x));
        if (f.locked) return goto("copy");
        f.locked = true;
      },
    },
    {
      line: "if (PageKsm(page) || page_count(page) != 1) { unlock_page(page); goto copy; }",
      run: (x) => {
        const f = folioOf(x.m, page(x));
        if (f.refcount !== 1) {
          f.locked = false;
          return goto("copy");
        }
      },
    },
    {
      line: "page_move_anon_rmap(page, vma);   /* SetPageAnonExclusive() */  unlock_page(page);",
      run: (x) => {
        x.m.pages[page(x)].anonExclusive = true;
        folioOf(x.m, page(x)).locked = false;
      },
    },
    {
      label: "reuse",
      line: "if (unlikely(unshare)) { pte_unmap_unlock(vmf->pte, vmf->ptl); return 0; }",
      run: (x) => {
        if (!bool(x.f, "unshare")) return;
        unlockPtl(x);
        return ret(0);
      },
    },
    {
      local: true, line: "wp_page_reuse(vmf); return VM_FAULT_WRITE;",
      run: (x) => call("wp_page_reuse", reuseArgs(x), { tail: true }),
    },
    ...copyTail,
  ],
});

defineVariant("do_wp_page", (cfg) =>
  cfg.kernel.do_wp_page === "mapcount"
    ? "do_wp_page@4.x"
    : cfg.kernel.do_wp_page === "page_count"
      ? cfg.kernel.uffd_wp_flush
        ? "do_wp_page@5.12"
        : "do_wp_page@5.9"
      : "do_wp_page@5.19",
);

definePath("wp_page_reuse", {
  name: "wp_page_reuse",
  source: "mm/memory.c",
  generation: "5.x",
  steps: [
    {
      line: "entry = maybe_mkwrite(pte_mkdirty(pte_mkyoung(vmf->orig_pte)), vma); ptep_set_access_flags(vma, vmf->address, vmf->pte, entry, 1);",
      run: (x) => {
        const vma = findVma(x.m.mms[x.c.mm], num(x.f, "va"))!;
        let e = pte_mkdirty(num(x.f, "pte"));
        if (vma.flags & VM_WRITE) e = pte_mkwrite(e);
        setPte(x.m, x.cfg, x.c.mm, num(x.f, "va"), e);
      },
    },
    {
      line: "pte_unmap_unlock(vmf->pte, vmf->ptl);",
      run: (x) => {
        unlockPtl(x);
        return ret(0);
      },
    },
  ],
});

/** wp_page_copy: copy outside the PTL, then re-take it and install the copy if the PTE did not change. */
function wpPageCopySteps(gen519: boolean): Step[] {
  return [
    {
      line: "if (unlikely(anon_vma_prepare(vma))) goto oom;",
      run: (x) => {
        findVma(x.m.mms[x.c.mm], num(x.f, "va"))!.anonVma = true;
      },
    },
    {
      line: "new_page = alloc_page_vma(GFP_HIGHUSER_MOVABLE, vma, vmf->address); cow_user_page(new_page, old_page, vmf);   /* copy the data now */",
      run: (x) => {
        const old = num(x.f, "old");
        const n = allocPage(x.m, old >= 0 ? x.m.pages[old].data : "0");
        if (old >= 0) x.m.pages[n].dmabuf = x.m.pages[old].dmabuf;
        x.f.l.new = n;
      },
    },
    {
      line: "vmf->pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &vmf->ptl);   /* re-take the PTL */",
      run: (x) => {
        const w = spinLock(x.m, x.cpu, ptl(num(x.f, "table")));
        return w ? { wait: w } : undefined;
      },
    },
    {
      line: "if (likely(pte_same(*vmf->pte, vmf->orig_pte))) {",
      run: (x) => (getPte(x.m, x.cfg, x.c.mm, num(x.f, "va")) === num(x.f, "pte") ? undefined : goto("put")),
    },
    {
      line: "    ptep_clear_flush_notify(vma, vmf->address, vmf->pte);   /* clear the PTE, flush every TLB of mm */",
      run: (x) => {
        const va = num(x.f, "va");
        setPte(x.m, x.cfg, x.c.mm, va, 0);
        return call("flush_tlb", { mm: x.c.mm, start: va, end: va + 1 });
      },
    },
    {
      line: "    page_add_new_anon_rmap(new_page, vma, vmf->address);   /* mapcount = 1, exclusive */",
      run: (x) => {
        const n = num(x.f, "new");
        x.m.pages[n].mapcount = 1;
        if (paeKernel(x.cfg)) x.m.pages[n].anonExclusive = true;
      },
    },
    {
      line: gen519
        ? "    entry = mk_pte(new_page, vma->vm_page_prot); if (!unshare) entry = maybe_mkwrite(pte_mkdirty(entry), vma); set_pte_at_notify(mm, vmf->address, vmf->pte, entry);"
        : "    entry = maybe_mkwrite(pte_mkdirty(mk_pte(new_page, vma->vm_page_prot)), vma); set_pte_at_notify(mm, vmf->address, vmf->pte, entry);",
      run: (x) => {
        const vma = findVma(x.m.mms[x.c.mm], num(x.f, "va"))!;
        let e = mk_pte(num(x.f, "new"), false);
        if (!(gen519 && bool(x.f, "unshare"))) {
          e = pte_mkdirty(e);
          if (vma.flags & VM_WRITE) e = pte_mkwrite(e);
        }
        setPte(x.m, x.cfg, x.c.mm, num(x.f, "va"), e);
      },
    },
    {
      line: "    if (old_page) page_remove_rmap(old_page, false);   /* the old page loses this mapping */  new_page = old_page; }",
      run: (x) => {
        const old = num(x.f, "old");
        if (old >= 0) x.m.pages[old].mapcount -= 1;
        // From here on "new_page" names the page whose reference is dropped below.
        x.f.l.put = old;
        return goto("unlock");
      },
    },
    {
      label: "put",
      local: true, line: "/* else: the PTE changed under us (update_mmu_tlb); the copy is not used */",
      run: (x) => {
        x.f.l.put = x.f.l.new;
      },
    },
    {
      label: "unlock",
      line: "if (new_page) put_page(new_page); pte_unmap_unlock(vmf->pte, vmf->ptl);",
      run: (x) => {
        const p = num(x.f, "put");
        if (p >= 0) folioPut(x.m, p);
        spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));
      },
    },
    {
      line: "if (old_page) put_page(old_page);   /* the reference do_wp_page() took */",
      run: (x) => {
        const old = num(x.f, "old");
        if (old >= 0) folioPut(x.m, old);
        return ret(0);
      },
    },
  ];
}

definePath("wp_page_copy@5.8", { name: "wp_page_copy", source: "mm/memory.c", generation: "4.x-5.18", steps: wpPageCopySteps(false) });
definePath("wp_page_copy@5.19", { name: "wp_page_copy", source: "mm/memory.c", generation: "5.19+", steps: wpPageCopySteps(true) });
defineVariant("wp_page_copy", (cfg) => (paeKernel(cfg) ? "wp_page_copy@5.19" : "wp_page_copy@5.8"));
