// The arm64 contpte layer (arch/arm64/mm/contpte.c, v6.10 era; races.md R2):
// core mm writes plain PTEs and the arch decides where the CONT bit goes. A
// block changes shape (fold: set CONT on all entries; unfold: clear it) only
// through contpte_convert(): break (all entries invalid), TLBI, make. The
// other variants leave out a part of that, to show why each part is there.

import type { Config } from "../config.js";
import { broadcastFlush, getPte, setPte } from "../machine.js";
import { call, defineVariant, definePath, goto, num, ret, bool, type Ctx, type Outcome, type Step } from "../path.js";
import { CONT_PTES, contBlockStart, mk_pte, pte_cont, pte_dirty, pte_mkcont, pte_mkdirty, pte_mknoncont, pte_advance_pfn, pte_pfn, pte_present, pte_special, pte_write } from "../pte.js";
import type { Machine } from "../types.js";

/** Whether the arch (not core mm) manages CONT bits: transparent contpte, in one of its variants. */
export const archContpte = (cfg: Config): boolean => cfg.kernel.contpte !== "none" && cfg.kernel.contpte !== "vendor";

/** Record the first broken hardware rule; later ones add nothing (the oracle stops the run). */
export function hwFault(m: Machine, oracle: "tlb-conflict" | "cont-misprogrammed", message: string): void {
  if (!m.hw) m.hw = { oracle, message };
}

/**
 * races.md INV-CONT for the block at bs: null while it holds (no entry has
 * CONT, or all entries are valid, CONT, consecutive PFNs of one folio from an
 * aligned PFN, with the same permission; dirty excepted). With
 * `invalidAllowed`, invalid entries are skipped: the walker's view during a
 * break, when entries go invalid one at a time.
 */
export function contGroupProblem(m: Machine, ptes: readonly number[], bs: number, invalidAllowed: boolean, vaBase = 0): string | null {
  const group = ptes.slice(bs, bs + CONT_PTES);
  if (!group.some((p) => pte_present(p) && pte_cont(p))) return null;
  const first = group.find((p) => pte_present(p) && pte_cont(p))!;
  const base = pte_pfn(first) - group.indexOf(first);
  for (let i = 0; i < CONT_PTES; i++) {
    const p = group[i];
    if (!pte_present(p)) {
      if (invalidAllowed) continue;
      return `page ${vaBase + bs + i}'s entry is ${p === 0 ? "none" : "not present"} while entries of its block have CONT`;
    }
    if (!pte_cont(p)) return `page ${vaBase + bs + i}'s entry lacks CONT while others of its block have it`;
    if (pte_pfn(p) !== base + i || base % CONT_PTES !== 0) return `page ${vaBase + bs + i}'s entry maps pfn ${pte_pfn(p)}, not pfn ${base + i} of one aligned block`;
    if (m.pages[base + i]?.folio !== m.pages[base]?.folio) return `page ${vaBase + bs + i}'s entry maps a page of another folio`;
    if (pte_write(p) !== pte_write(first)) return `page ${vaBase + bs + i}'s entry is ${pte_write(p) ? "RW" : "RO"} while its block is ${pte_write(first) ? "RW" : "RO"}`;
  }
  return null;
}

/**
 * A write by the contpte layer of a valid entry at va. If some CPU's TLB
 * still caches va with the other shape (a block entry while the entry is now
 * a plain one, or the reverse), that TLB can end up with two entries for one
 * address: Ard Biesheuvel's "TLB conflict abort".
 */
export function contWrite(x: Ctx, mm: number, va: number, pte: number): void {
  if (pte_present(pte)) {
    x.m.cpus.forEach((c, i) => {
      const e = c.tlb.find((t) => t.mm === mm && (t.cont ? va >= t.va && va < t.va + CONT_PTES : t.va === va) && t.cont !== pte_cont(pte));
      if (e) {
        hwFault(
          x.m,
          "tlb-conflict",
          `CPU${i}'s TLB still caches ${x.m.mms[mm].name}'s page ${va} as ${e.cont ? `part of a block entry (pages ${e.va}-${e.va + CONT_PTES - 1})` : "a page entry"} while CPU${x.cpu} rewrote its PTE ${pte_cont(pte) ? "with" : "without"} CONT: that TLB can now hold two entries for one address (TLB conflict abort). The old translation had to be removed from every CPU first`,
        );
      }
    });
  }
  setPte(x.m, x.cfg, mm, va, pte);
}

/**
 * contpte_try_unfold(): before core mm changes part of a CONT block (one
 * entry, or a range that does not cover the block), the arch unfolds it.
 * Returns the call to make (the caller's line runs again after it), or
 * undefined when nothing needs unfolding. A change covering whole blocks
 * keeps them folded (contpte_wrprotect_ptes, clear_full_ptes: races.md P3).
 */
export function unfoldFirst(x: Ctx, mm: number, start: number, end = start + 1): Outcome | undefined {
  if (!archContpte(x.cfg)) return undefined;
  for (const va of [start, end - 1]) {
    const bs = contBlockStart(va);
    if (!pte_cont(getPte(x.m, x.cfg, mm, va)) || !pte_present(getPte(x.m, x.cfg, mm, va))) continue;
    if (bs >= start && bs + CONT_PTES <= end) continue;
    return call("contpte_convert", { mm, va: bs, cont: false }, { retry: true });
  }
  return undefined;
}

/**
 * contpte_try_fold(): after set_ptes(nr = 1) wrote va, fold its block if va
 * is the block's last entry and the whole block maps consecutive pages of one
 * folio from an aligned PFN with one permission.
 */
export function tryFold(x: Ctx, mm: number, va: number): Outcome | undefined {
  if (!archContpte(x.cfg) || (va + 1) % CONT_PTES !== 0) return undefined;
  const pte = getPte(x.m, x.cfg, mm, va);
  if (!pte_present(pte) || pte_cont(pte) || pte_special(pte) || (pte_pfn(pte) + 1) % CONT_PTES !== 0) return undefined;
  const bs = contBlockStart(va);
  const base = pte_pfn(pte) - (CONT_PTES - 1);
  for (let i = 0; i < CONT_PTES; i++) {
    const p = getPte(x.m, x.cfg, mm, bs + i);
    if (!pte_present(p) || pte_cont(p) || pte_pfn(p) !== base + i || pte_write(p) !== pte_write(pte)) return undefined;
    if (x.m.pages[base + i].folio !== x.m.pages[base].folio || x.m.pages[base].folio < 0) return undefined;
  }
  return call("contpte_convert", { mm, va: bs, cont: true });
}

/**
 * set_ptes(mm, addr, ptep, pte, nr) on entries that are not present: the arch
 * (contpte_set_ptes) marks CONT on every block the range covers whole, with
 * the VA and PFN aligned. `pte` maps the first page; the rest follow.
 */
export function setPtes(x: Ctx, mm: number, va: number, pte: number, nr: number): void {
  for (let i = 0; i < nr; i++) {
    const a = va + i;
    const e = pte_advance_pfn(pte, i);
    const bs = contBlockStart(a);
    const whole = archContpte(x.cfg) && bs >= va && bs + CONT_PTES <= va + nr && (pte_pfn(e) - (a - bs)) % CONT_PTES === 0;
    setPte(x.m, x.cfg, mm, a, whole ? pte_mkcont(e) : pte_mknoncont(e));
  }
}

// ---------------------------------------------------------------- contpte_convert and its broken cousins

/** The entries the block at va (its first page) should have after the change, as one template for the first page. */
function template(x: Ctx): number {
  const mm = num(x.f, "mm");
  const bs = num(x.f, "va");
  let dirty = false;
  let first = -1;
  for (let i = 0; i < CONT_PTES; i++) {
    const p = getPte(x.m, x.cfg, mm, bs + i);
    if (pte_present(p) && first < 0) first = i;
    if (pte_dirty(p)) dirty = true;
  }
  if (first < 0) throw new Error(`contpte_convert on pages ${bs}-${bs + CONT_PTES - 1}: no valid entry`);
  const p = getPte(x.m, x.cfg, mm, bs + first);
  let t = mk_pte(pte_pfn(p) - first, pte_write(p));
  if (dirty) t = pte_mkdirty(t);
  return bool(x.f, "cont") ? pte_mkcont(t) : t;
}


const breakStep: Step = {
  line: "for (i = 0; i < CONT_PTES; i++, ptep++) { pte_t ptent = __ptep_get_and_clear(mm, addr, ptep); if (pte_dirty(ptent)) pte = pte_mkdirty(pte); if (pte_young(ptent)) pte = pte_mkyoung(pte); }   /* break: every entry invalid */",
  run: (x) => {
    x.f.l.tmpl = template(x);
    const mm = num(x.f, "mm");
    for (let i = 0; i < CONT_PTES; i++) setPte(x.m, x.cfg, mm, num(x.f, "va") + i, 0);
  },
};
const tlbiStep: Step = {
  line: "__flush_tlb_range(&vma, start_addr, addr, PAGE_SIZE, true, 3);   /* broadcast TLBI: every CPU drops what it cached for the block */",
  run: (x) => {
    const bs = num(x.f, "va");
    broadcastFlush(x.m, num(x.f, "mm"), bs, bs + CONT_PTES);
  },
};
const makeStep: Step = {
  line: "__set_ptes(mm, start_addr, start_ptep, pte, CONT_PTES);   /* make: all entries valid again, CONT set or cleared on every one */",
  run: (x) => {
    const tmpl = num(x.f, "tmpl");
    for (let i = 0; i < CONT_PTES; i++) contWrite(x, num(x.f, "mm"), num(x.f, "va") + i, pte_advance_pfn(tmpl, i));
    return ret(0);
  },
};
const inPlaceStep = (last: boolean): Step => ({
  label: "each",
  line: "for (i = 0; i < CONT_PTES; i++) __set_pte(ptep + i, cont ? pte_mkcont(ptep[i]) : pte_mknoncont(ptep[i]));   /* rewrite each entry where it is: no break, no TLBI */",
  run: (x) => {
    const mm = num(x.f, "mm");
    const i = typeof x.f.l.i === "number" ? x.f.l.i : 0;
    const va = num(x.f, "va") + i;
    const p = getPte(x.m, x.cfg, mm, va);
    contWrite(x, mm, va, bool(x.f, "cont") ? pte_mkcont(p) : pte_mknoncont(p));
    x.f.l.i = i + 1;
    if (i + 1 < CONT_PTES) return goto("each");
    return last ? ret(0) : undefined;
  },
});

const source = "arch/arm64/mm/contpte.c";
definePath("contpte_convert", {
  name: "contpte_convert",
  source,
  generation: "6.9+ (v6.10 era)",
  steps: [breakStep, tlbiStep, makeStep],
});
definePath("contpte_convert@in_place", {
  name: "contpte_convert (rewritten in place)",
  source: `${source}: what it would be without break-before-make (not a real kernel)`,
  generation: "teaching",
  steps: [inPlaceStep(true)],
});
definePath("contpte_convert@in_place_tlbi", {
  name: "contpte_convert (in place, then TLBI)",
  source: `${source}: what it would be without the break (not a real kernel)`,
  generation: "teaching",
  steps: [
    inPlaceStep(false),
    {
      ...tlbiStep,
      run: (x) => {
        tlbiStep.run(x);
        return ret(0);
      },
    },
  ],
});
definePath("contpte_convert@no_tlbi", {
  name: "contpte_convert (break and make, no TLBI)",
  source: `${source}: what it would be without the TLB invalidation (not a real kernel)`,
  generation: "teaching",
  steps: [breakStep, makeStep],
});
defineVariant("contpte_convert", (cfg) => (cfg.kernel.contpte === "convert" ? "contpte_convert" : `contpte_convert@${cfg.kernel.contpte}`));

