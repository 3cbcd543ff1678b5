// COW page tables (races.md R3): Chih-En Lin's RFC v2 (never merged; label
// RFC) and the design David Hildenbrand proposed in his review. fork shares
// the whole PTE table with the child behind a write-protected PMD; a write
// fault through that PMD breaks the COW by giving the writer its own table.

import { spinLock, spinUnlock, ptl } from "../machine.js";
import { call, defineVariant, definePath, goto, num, ret, type Ctx } from "../path.js";

const slotOf = (x: Ctx) => Math.floor(num(x.f, "addr") / x.cfg.ptrs);

/** Make dst's PMD point at src's table, both write-protected (set_pmd_at + pmdp_set_wrprotect). */
function share(x: Ctx, table: number): void {
  const slot = slotOf(x);
  for (const mmId of [num(x.f, "src"), num(x.f, "dst")]) {
    const mm = x.m.mms[mmId];
    while (mm.pmd.length <= slot) mm.pmd.push(-1);
    while (mm.pmdWrprotect.length <= slot) mm.pmdWrprotect.push(false);
    mm.pmdWrprotect[slot] = true;
  }
  x.m.mms[num(x.f, "dst")].pmd[slot] = table;
}

definePath("copy_pmd_range@rfc-v2", {
  name: "copy_pmd_range",
  source: "mm/memory.c",
  generation: "RFC v2 9/9 (COW page tables, never merged)",
  steps: [
    {
      line: "if (is_cow_pte_available(src_vma, src_pmd)) {   /* the table is not marked COW_PTE_OWNER_EXCLUSIVE */",
      run: (x) => {
        const t = x.m.mms[num(x.f, "src")].pmd[slotOf(x)];
        x.f.l.table = t;
        if (t < 0 || x.m.tables[t].cowExclusive) return goto("copy");
        if (x.m.mms[num(x.f, "dst")].pmd[slotOf(x)] === t) return ret(0); // already shared for another VMA
      },
    },
    {
      line: "    set_cow_pte_owner(src_pmd, src_pmd); pmdp_set_wrprotect(src_mm, addr, src_pmd);   /* the PTEs inside are not touched */",
      run: (x) => {
        const mm = x.m.mms[num(x.f, "src")];
        while (mm.pmdWrprotect.length <= slotOf(x)) mm.pmdWrprotect.push(false);
        mm.pmdWrprotect[slotOf(x)] = true;
      },
    },
    {
      line: "    pmd_get_pte(src_pmd);   /* table refcount + 1 */",
      run: (x) => {
        x.m.tables[num(x.f, "table")].refcount++;
      },
    },
    {
      line: "    set_pmd_at(dst_mm, addr, dst_pmd, *src_pmd); return 0; }   /* the child now shares the table */",
      run: (x) => {
        share(x, num(x.f, "table"));
        return ret(0);
      },
    },
    {
      label: "copy",
      local: true, line: "return copy_pte_range(dst_vma, src_vma, dst_pmd, src_pmd, addr, next);   /* marked exclusive: copy as mainline does */",
      run: (x) => call("copy_pte_range", { ...x.f.l }, { tail: true }),
    },
  ],
});

definePath("copy_pmd_range@hildenbrand", {
  name: "copy_pmd_range",
  source: "mm/memory.c",
  generation: "proposal (David Hildenbrand, review of RFC v2, 2022-09-29)",
  steps: [
    {
      local: true, line: "copy_pte_range(dst_vma, src_vma, dst_pmd, src_pmd, addr, next);   /* the mainline per-PTE pass: write-protect, clear PageAnonExclusive, dup rmap, copy maybe-pinned pages */",
      run: (x) => call("copy_pte_range", { ...x.f.l }),
    },
    {
      line: "if (no page was copied for the child) { free the child's table; pmd_get_pte(src_pmd); set_pmd_at(dst_mm, addr, dst_pmd, *src_pmd); }   /* share the prepared table with COW */",
      run: (x) => {
        const slot = slotOf(x);
        const src = x.m.mms[num(x.f, "src")].pmd[slot];
        const dst = x.m.mms[num(x.f, "dst")].pmd[slot];
        if (src < 0 || dst < 0 || src === dst) return ret(0);
        const same = x.m.tables[src].ptes.every((p, i) => p === x.m.tables[dst].ptes[i]);
        if (!same) return ret(0); // a pinned page was copied for the child: keep its own table
        x.m.tables[dst] = { ptes: x.m.tables[dst].ptes.map(() => 0), ptl: -1, mm: -1, refcount: 0, cowExclusive: false };
        x.m.tables[src].refcount++;
        share(x, src);
        return ret(0);
      },
    },
  ],
});

defineVariant("copy_pmd_range", (cfg) => (cfg.kernel.cow_pte === "rfc-v2" ? "copy_pmd_range@rfc-v2" : "copy_pmd_range@hildenbrand"));

// Breaking the COW of a page table on a write (or unshare) fault through a
// write-protected PMD. Only the proposal's accounting is modelled: there the
// per-PTE pass already counted the child's mappings, so the copied table
// needs no further rmap work. (How RFC v2 accounts here is not verified.)
definePath("handle_cow_pte", {
  name: "handle_cow_pte",
  source: "mm/memory.c",
  generation: "proposal (COW page tables)",
  steps: [
    {
      line: "ptl = pte_lockptr(mm, vmf->pmd); spin_lock(ptl);",
      run: (x) => {
        if (x.cfg.kernel.cow_pte === "rfc-v2") throw new Error("RFC v2's handle_cow_pte is not modelled: races.md marks it not verified");
        const t = x.m.mms[x.c.mm].pmd[Math.floor(num(x.f, "va") / x.cfg.ptrs)];
        x.f.l.table = t;
        const w = spinLock(x.m, x.cpu, ptl(t));
        return w ? { wait: w } : undefined;
      },
    },
    {
      line: "if (cow_pte_count(vmf->pmd) > 1) { new = pte_alloc_one(mm); copy the entries; pmd_populate(mm, vmf->pmd, new); pmd_put_pte(old); } else pmd_mkwrite(vmf->pmd);",
      run: (x) => {
        const t = num(x.f, "table");
        const slot = Math.floor(num(x.f, "va") / x.cfg.ptrs);
        const mm = x.m.mms[x.c.mm];
        if (x.m.tables[t].refcount > 1) {
          x.m.tables.push({ ptes: x.m.tables[t].ptes.slice(), ptl: -1, mm: x.c.mm, refcount: 1, cowExclusive: false });
          x.m.tables[t].refcount--;
          mm.pmd[slot] = x.m.tables.length - 1;
          if (x.m.tables[t].mm === x.c.mm) x.m.tables[t].mm = x.m.mms.findIndex((o) => o.pmd[slot] === t);
        }
        mm.pmdWrprotect[slot] = false;
      },
    },
    {
      line: "spin_unlock(ptl);   /* then handle the fault in our own table */",
      run: (x) => {
        spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));
        return ret(0);
      },
    },
  ],
});
