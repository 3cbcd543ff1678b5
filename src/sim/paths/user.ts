// User-mode loads and stores. The MMU translates through the CPU's TLB; only a
// miss walks the page table. A stale TLB entry is therefore used as it is,
// whatever the PTE now says: that is what TLB shootdown exists to prevent.

import { getPte, setPte, tlbFill, tlbLookup } from "../machine.js";
import { call, definePath, num, ret, type Ctx, type Outcome } from "../path.js";
import { pte_dirty, pte_mkdirty, pte_pfn, pte_present, pte_write } from "../pte.js";

function access(x: Ctx, write: boolean): Outcome {
  const { m, cfg, c, f } = x;
  const va = num(f, "va");
  const mm = c.mm;
  let pfn = -1;
  const e = tlbLookup(c, mm, va);
  if (e && (!write || e.write)) {
    pfn = e.pfn;
  } else {
    // x86 drops the offending entry on a protection fault; a miss walks the table.
    if (e) c.tlb = c.tlb.filter((t) => t !== e);
    const pte = getPte(m, cfg, mm, va);
    // The effective permission is the AND of every level: a write-protected PMD (a COW-shared table) forbids writes.
    const writable = pte_write(pte) && !m.mms[mm].pmdWrprotect[Math.floor(va / cfg.ptrs)];
    if (!pte_present(pte) || (write && !writable)) {
      return call("do_user_addr_fault", { va, write }, { retry: true });
    }
    pfn = pte_pfn(pte);
    tlbFill(c, mm, va, pfn, writable);
    // The hardware walker sets the dirty bit on a write.
    if (write && !pte_dirty(pte)) setPte(m, cfg, mm, va, pte_mkdirty(pte));
  }
  if (write) {
    const value = String(f.l.value);
    m.pages[pfn].data = value;
    m.mms[mm].expect[va] = value;
    return ret(null);
  }
  return ret(m.pages[pfn].data);
}

definePath("user_store", {
  name: "user store",
  source: "user space",
  generation: "any",
  steps: [{ line: "*(long *)addr = value;   /* user mode: the MMU translates addr through the TLB */", run: (x) => access(x, true) }],
});

definePath("user_load", {
  name: "user load",
  source: "user space",
  generation: "any",
  steps: [{ line: "value = *(long *)addr;   /* user mode: the MMU translates addr through the TLB */", run: (x) => access(x, false) }],
});
