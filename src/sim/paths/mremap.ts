// mremap moving a range (mm/mremap.c, 6.x), Barry Song's third case in
// races.md R2: clearing the first source entry of a CONT block unfolds it;
// writing the last entry of an aligned destination block folds it, and an
// unaligned destination never folds.

import { findVma, getPte, ptl, pteAlloc, setPte, spinLock, spinUnlock, tableOf, upWrite } from "../machine.js";
import { call, definePath, goto, mmapLockStep, num, ret } from "../path.js";
import { pte_mknoncont, pte_none, pte_present } from "../pte.js";
import { tryFold, unfoldFirst } from "./contpte.js";
import { splitVmas } from "./unmap.js";

definePath("mremap", {
  name: "mremap",
  source: "mm/mremap.c",
  generation: "6.x (MREMAP_MAYMOVE | MREMAP_FIXED)",
  steps: [
    mmapLockStep("if (mmap_write_lock_killable(current->mm)) return -EINTR;", true),
    {
      line: "vma_start_write(vma);   /* move_vma(): per-VMA-lock faults must leave it first */",
      run: (x) => {
        if (!x.cfg.kernel.per_vma_lock) return;
        const v = findVma(x.m.mms[x.c.mm], num(x.f, "old"));
        if (!v) throw new Error(`mremap: no VMA covers page ${num(x.f, "old")}`);
        return call("vma_start_write", { mm: x.c.mm, start: v.start });
      },
    },
    {
      line: "new_vma = copy_vma(&vma, new_addr, new_len, new_pgoff, &need_rmap_locks);   /* the destination VMA */",
      run: (x) => {
        const mm = x.m.mms[x.c.mm];
        const old = num(x.f, "old");
        const len = num(x.f, "len");
        const to = num(x.f, "new");
        if (mm.vmas.some((v) => !v.detached && v.start < to + len && v.end > to)) throw new Error(`mremap: pages ${to}-${to + len - 1} are already mapped (the level must leave the destination free)`);
        const [src] = splitVmas(mm, old, old + len);
        if (!src) throw new Error(`mremap: no VMA covers page ${old}`);
        mm.vmas.push({ ...src, start: to, end: to + len, lockReaders: [], lockWriter: -1 });
        mm.vmas.sort((a, b) => a.start - b.start);
      },
    },
    {
      local: true, line: "moved_len = move_page_tables(vma, old_addr, new_vma, new_addr, old_len, need_rmap_locks);   /* -> move_ptes() */",
      run: (x) => call("move_ptes", { old: x.f.l.old, new: x.f.l.new, len: x.f.l.len }),
    },
    {
      line: "do_vmi_munmap(&vmi, mm, old_addr, old_len, uf_unmap, false);   /* the old range: its PTEs have moved already */",
      run: (x) => {
        const mm = x.m.mms[x.c.mm];
        const old = num(x.f, "old");
        const len = num(x.f, "len");
        const to = num(x.f, "new");
        mm.vmas = mm.vmas.filter((v) => !(v.start === old && v.end === old + len));
        // The process's own view of its memory moves with the mapping.
        while (mm.expect.length < to + len) mm.expect.push(null);
        for (let i = 0; i < len; i++) {
          mm.expect[to + i] = mm.expect[old + i];
          mm.expect[old + i] = null;
        }
      },
    },
    {
      line: "mmap_write_unlock(current->mm);",
      run: (x) => {
        upWrite(x.m, x.cpu, x.c.mm);
        return ret(0);
      },
    },
  ],
});

definePath("move_ptes", {
  name: "move_ptes",
  source: "mm/mremap.c",
  generation: "6.x",
  steps: [
    {
      line: "old_pte = pte_offset_map_lock(mm, old_pmd, old_addr, &old_ptl);",
      run: (x) => {
        const t = tableOf(x.m, x.cfg, x.c.mm, num(x.f, "old"));
        const w = spinLock(x.m, x.cpu, ptl(t));
        if (w) return { wait: w };
        x.f.l.otable = t;
        x.f.l.i = 0;
        x.f.l.flush = false;
      },
    },
    {
      line: "new_pte = pte_offset_map(new_pmd, new_addr); new_ptl = pte_lockptr(mm, new_pmd); if (new_ptl != old_ptl) spin_lock_nested(new_ptl, SINGLE_DEPTH_NESTING);",
      run: (x) => {
        const t = pteAlloc(x.m, x.cfg, x.c.mm, num(x.f, "new"));
        if (t !== num(x.f, "otable")) {
          const w = spinLock(x.m, x.cpu, ptl(t));
          if (w) return { wait: w };
        }
        x.f.l.ntable = t;
      },
    },
    {
      label: "loop",
      line: "if (pte_none(ptep_get(old_pte))) continue;",
      run: (x) => (pte_none(getPte(x.m, x.cfg, x.c.mm, num(x.f, "old") + num(x.f, "i"))) ? goto("next") : undefined),
    },
    {
      line: "pte = ptep_get_and_clear(mm, old_addr, old_pte);   /* arm64: contpte_try_unfold() first if the entry is CONT */ if (pte_present(pte)) force_flush = true;",
      run: (x) => {
        const va = num(x.f, "old") + num(x.f, "i");
        const unfold = unfoldFirst(x, x.c.mm, va);
        if (unfold) return unfold;
        const pte = getPte(x.m, x.cfg, x.c.mm, va);
        setPte(x.m, x.cfg, x.c.mm, va, 0);
        x.f.l.pte = pte;
        if (pte_present(pte)) x.f.l.flush = true;
      },
    },
    {
      line: "pte = move_pte(pte, old_addr, new_addr); set_pte_at(mm, new_addr, new_pte, pte);   /* arm64: contpte_try_fold() if this is the last entry of an aligned block */",
      run: (x) => {
        const va = num(x.f, "new") + num(x.f, "i");
        setPte(x.m, x.cfg, x.c.mm, va, pte_mknoncont(num(x.f, "pte")));
        return tryFold(x, x.c.mm, va);
      },
    },
    {
      label: "next",
      local: true, line: "} for (; old_addr < old_end; old_pte++, old_addr += PAGE_SIZE, new_pte++, new_addr += PAGE_SIZE)",
      run: (x) => {
        x.f.l.i = num(x.f, "i") + 1;
        if (num(x.f, "i") < num(x.f, "len")) return goto("loop");
      },
    },
    {
      local: true, line: "if (force_flush) flush_tlb_range(vma, old_end - len, old_end);   /* before the PTLs drop */",
      run: (x) => {
        if (x.f.l.flush !== true) return;
        return call("flush_tlb", { mm: x.c.mm, start: x.f.l.old, end: num(x.f, "old") + num(x.f, "len") });
      },
    },
    {
      line: "if (new_ptl != old_ptl) spin_unlock(new_ptl); pte_unmap_unlock(old_pte - 1, old_ptl);",
      run: (x) => {
        if (num(x.f, "ntable") !== num(x.f, "otable")) spinUnlock(x.m, x.cpu, ptl(num(x.f, "ntable")));
        spinUnlock(x.m, x.cpu, ptl(num(x.f, "otable")));
        return ret(0);
      },
    },
  ],
});
