// A PTE is a number, as in the kernel it is a machine word: flag bits low,
// the page frame number above them. Helpers carry the kernel's names.

export const _PAGE_PRESENT = 1;
export const _PAGE_RW = 2;
export const _PAGE_DIRTY = 4;
export const _PAGE_CONT = 8;
/** A non-present swap entry (kept for the non-present copy path). */
export const _PAGE_SWP = 16;
export const _PAGE_SPECIAL = 32;
const PFN_SHIFT = 8;

export const pte_none = (pte: number): boolean => pte === 0;
export const pte_present = (pte: number): boolean => (pte & _PAGE_PRESENT) !== 0;
export const pte_write = (pte: number): boolean => (pte & _PAGE_RW) !== 0;
export const pte_dirty = (pte: number): boolean => (pte & _PAGE_DIRTY) !== 0;
export const pte_cont = (pte: number): boolean => (pte & _PAGE_CONT) !== 0;
export const pte_special = (pte: number): boolean => (pte & _PAGE_SPECIAL) !== 0;
export const pte_pfn = (pte: number): number => pte >>> PFN_SHIFT;

export const mk_pte = (pfn: number, write: boolean): number =>
  (pfn << PFN_SHIFT) | _PAGE_PRESENT | (write ? _PAGE_RW : 0);
export const pte_mkwrite = (pte: number): number => pte | _PAGE_RW;
export const pte_wrprotect = (pte: number): number => pte & ~_PAGE_RW;
export const pte_mkdirty = (pte: number): number => pte | _PAGE_DIRTY;
export const pte_mkspecial = (pte: number): number => pte | _PAGE_SPECIAL;
/** pte_advance_pfn(): the same entry for the page nr frames further on (set_ptes() maps a folio this way). */
export const pte_advance_pfn = (pte: number, nr: number): number => pte + nr * (1 << PFN_SHIFT);
export const pte_mkcont = (pte: number): number => pte | _PAGE_CONT;
export const pte_mknoncont = (pte: number): number => pte & ~_PAGE_CONT;
/** A swap entry: not present, not none (what try_to_unmap leaves behind). */
export const mk_swp_pte = (): number => _PAGE_SWP;

/**
 * Entries in one arm64 contiguous block. The kernel uses 16 (64 KiB of 4 KiB
 * pages); races.md "Simplifications" 1 allows 4, as contpte_convert()'s own
 * comment does "for clarity". Blocks are naturally aligned in VA and PFN.
 */
export const CONT_PTES = 4;
export const contBlockStart = (va: number): number => va - (va % CONT_PTES);

/** Short human form, e.g. "pfn 3 RW D" or "none". */
export function pteString(pte: number): string {
  if (pte_none(pte)) return "none";
  if (!pte_present(pte)) return pte & _PAGE_SWP ? "swap" : "non-present";
  const bits = [pte_write(pte) ? "RW" : "RO"];
  if (pte_dirty(pte)) bits.push("D");
  if (pte_cont(pte)) bits.push("CONT");
  if (pte_special(pte)) bits.push("special");
  return `pfn ${pte_pfn(pte)} ${bits.join(" ")}`;
}

/** A TLB entry in short form: "P:3->pfn 5 RW", or for a block entry "P:0-3->pfn 4-7 RW CONT". */
export function tlbEntryString(mm: string, e: { va: number; pfn: number; write: boolean; cont?: boolean }): string {
  const rw = e.write ? "RW" : "RO";
  if (e.cont) return `${mm}:${e.va}-${e.va + CONT_PTES - 1}->pfn ${e.pfn}-${e.pfn + CONT_PTES - 1} ${rw} CONT`;
  return `${mm}:${e.va}->pfn ${e.pfn} ${rw}`;
}
