// User-mode loads and stores. The MMU translates through the CPU's TLB; only a
// miss walks the page table. A stale TLB entry is therefore used as it is,
// whatever the PTE now says: that is what TLB shootdown exists to prevent.

import { getPte, setPte, tableOf, tlbFill, tlbLookup } from "../machine.js";
import { call, definePath, num, ret, type Ctx, type Outcome } from "../path.js";
import { CONT_PTES, contBlockStart, pte_cont, pte_dirty, pte_mkdirty, pte_pfn, pte_present, pte_write } from "../pte.js";
import { contGroupProblem, hwFault } from "./contpte.js";

/**
 * The arm64 walker meets a CONT entry: it may cache one entry for the whole
 * block, trusting that every entry of the block agrees (races.md INV-CONT).
 */
function walkCont(x: Ctx, va: number, pfn: number, writable: boolean): void {
  const { m, cfg, c } = x;
  const mm = c.mm;
  const t = tableOf(m, cfg, mm, va);
  const vaBase = va - (va % cfg.ptrs);
  const problem = contGroupProblem(m, m.tables[t].ptes, contBlockStart(va % cfg.ptrs), true, vaBase);
  if (problem) {
    hwFault(m, "cont-misprogrammed", `CPU${x.cpu}'s page-table walk for page ${va} read a CONT entry, but ${problem}: the Arm ARM calls this a misprogrammed Contiguous bit (the translation "might be corrupted", or a TLB conflict abort)`);
  }
  const bs = contBlockStart(va);
  const other = c.tlb.find((e) => e.mm === mm && !e.cont && e.va >= bs && e.va < bs + CONT_PTES);
  tlbFill(c, mm, va, pfn, writable, true);
  if (other) {
    hwFault(m, "tlb-conflict", `CPU${x.cpu}'s TLB now holds a block entry for pages ${bs}-${bs + CONT_PTES - 1} and still the page entry for page ${other.va} it cached before the block was folded: two entries translate page ${other.va} (TLB conflict abort)`);
  }
}

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
    if (e) c.tlb = c.tlb.filter((t) => t !== e.entry);
    const pte = getPte(m, cfg, mm, va);
    // The effective permission is the AND of every level: a write-protected PMD (a COW-shared table) forbids writes.
    const writable = pte_write(pte) && !m.mms[mm].pmdWrprotect[Math.floor(va / cfg.ptrs)];
    if (!pte_present(pte) || (write && !writable)) {
      return call("do_user_addr_fault", { va, write }, { retry: true });
    }
    pfn = pte_pfn(pte);
    if (pte_cont(pte) && cfg.kernel.contpte !== "none") walkCont(x, va, pfn, writable);
    else tlbFill(c, mm, va, pfn, writable);
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
