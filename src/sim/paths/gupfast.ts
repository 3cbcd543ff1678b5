// GUP-fast: the lockless page-table walk with IRQs off (races.md F7, R6, R7),
// falling back to slow GUP under mmap_read_lock when it cannot take a page.

import type { Config } from "../config.js";
import { folioOf, folioPut, getPte, GUP_PIN_COUNTING_BIAS, irqDisable, irqEnable } from "../machine.js";
import { kver } from "../era.js";
import { bool, call, defineVariant, definePath, goto, num, ret, type Ctx, type Step } from "../path.js";
import { pte_pfn, pte_present, pte_special, pte_write } from "../pte.js";
import { paeKernel } from "./fault.js";
import { registerPin, tryGrab } from "./gup.js";

type Gen = "4.19" | "5.8" | "5.9-rc" | "5.9" | "5.11" | "5.19" | "rfc-v2";

function ungrab(x: Ctx, pfn: number): void {
  const f = folioOf(x.m, pfn);
  if (!bool(x.f, "foll_pin")) folioPut(x.m, pfn, 1);
  else if (f.nr === 1) folioPut(x.m, pfn, GUP_PIN_COUNTING_BIAS);
  else {
    f.pincount -= 1;
    folioPut(x.m, pfn, 1);
  }
}

function gupFastSteps(g: Gen): Step[] {
  // The trial series of 5.9-rc is 5.9's GUP-fast without mm->has_pinned (008cfe4418b3, 5.9-rc7).
  const hasPinned = g !== "4.19" && g !== "5.8" && g !== "5.9-rc";
  const gen: Exclude<Gen, "5.9-rc"> = g === "5.9-rc" ? "5.9" : g;
  const seq = gen === "5.11" || gen === "5.19" || gen === "rfc-v2";
  const steps: Step[] = [];
  if (g === "5.9-rc") {
    // What stood where 5.9-rc7 put atomic_set(&current->mm->has_pinned, 1).
    steps.push({ line: "if (!(gup_flags & FOLL_FAST_ONLY)) might_lock_read(&current->mm->mmap_lock);", run: () => undefined });
  }
  if (hasPinned) {
    steps.push({
      line: (cfg) =>
        kver(cfg) < 515
          ? "if (gup_flags & FOLL_PIN) atomic_set(&current->mm->has_pinned, 1);"
          : "if (gup_flags & FOLL_PIN) mm_set_has_pinned_flag(&current->mm->flags);",
      run: (x) => {
        if (bool(x.f, "foll_pin")) x.m.mms[x.c.mm].hasPinned = true;
      },
    });
  }
  if (seq) {
    steps.push({
      line: "if (gup_flags & FOLL_PIN) { seq = raw_read_seqcount(&current->mm->write_protect_seq); if (seq & 1) return 0; }   /* fork is write-protecting: slow path */",
      run: (x) => {
        if (!bool(x.f, "foll_pin")) return;
        const s = x.m.mms[x.c.mm].writeProtectSeq;
        x.f.l.seq = s;
        if (s % 2 === 1) return goto("slow");
      },
    });
  }
  steps.push(
    {
      line: `${gen === "4.19" ? "local_irq_disable();" : "local_irq_save(flags);"}   /* hold off TLB-flush IPIs, so the page tables cannot be freed under us */`,
      run: (x) => irqDisable(x.m, x.cpu),
    },
    {
      line:
        gen === "5.8"
          ? "pte = gup_get_pte(ptep); if (!pte_access_permitted(pte, (gup_flags | FOLL_WRITE) & FOLL_WRITE)) goto pte_unmap;   /* the fast path requires FOLL_WRITE even for reads */"
          : gen === "4.19"
            ? "pte = gup_get_pte(ptep); if (!pte_access_permitted(pte, write)) goto pte_unmap;"
            : "pte = ptep_get_lockless(ptep); if (!pte_access_permitted(pte, flags & FOLL_WRITE)) goto pte_unmap;",
      run: (x) => {
        const pte = getPte(x.m, x.cfg, x.c.mm, num(x.f, "va"));
        x.f.l.pte = pte;
        const needWrite = gen === "5.8" || bool(x.f, "write");
        if (!pte_present(pte) || pte_special(pte) || (needWrite && !pte_write(pte))) return goto("pte_unmap");
      },
    },
    {
      line:
        gen === "4.19"
          ? "head = compound_head(pte_page(pte)); if (!page_cache_get_speculative(head)) goto pte_unmap;   /* +1 */"
          : gen === "5.19" || gen === "rfc-v2"
            ? "folio = try_grab_folio(page, 1, flags); if (!folio) goto pte_unmap;   /* FOLL_GET +1, FOLL_PIN +GUP_PIN_COUNTING_BIAS; fails on a freed page */"
            : "head = try_grab_compound_head(pte_page(pte), 1, flags); if (!head) goto pte_unmap;   /* FOLL_GET +1, FOLL_PIN +GUP_PIN_COUNTING_BIAS; fails on a freed page */",
      run: (x) => {
        const pfn = pte_pfn(num(x.f, "pte"));
        // The walk is lockless: without an IPI to wait for (arm64's broadcast TLBI), munmap may
        // have freed the page since the PTE was read. The grab refuses a refcount of zero.
        if (x.m.pages[pfn].folio < 0 || !x.m.folios[x.m.pages[pfn].folio]) return goto("pte_unmap");
        tryGrab(x, pfn);
        x.f.l.page = pfn;
      },
    },
    {
      line:
        gen === "4.19"
          ? "if (unlikely(pte_val(pte) != pte_val(*ptep))) { put_page(head); goto pte_unmap; }"
          : gen === "5.19" || gen === "rfc-v2"
            ? "if (unlikely(pte_val(pte) != pte_val(*ptep))) { gup_put_folio(folio, 1, flags); goto pte_unmap; }"
            : "if (unlikely(pte_val(pte) != pte_val(*ptep))) { put_compound_head(head, 1, flags); goto pte_unmap; }",
      run: (x) => {
        if (getPte(x.m, x.cfg, x.c.mm, num(x.f, "va")) === num(x.f, "pte")) return;
        ungrab(x, num(x.f, "page"));
        x.f.l.page = -1;
        return goto("pte_unmap");
      },
    },
  );
  if (gen === "5.19" || gen === "rfc-v2") {
    steps.push({
      line: "if (!pte_write(pte) && gup_must_unshare(flags, page)) { gup_put_folio(folio, 1, flags); goto pte_unmap; }",
      run: (x) => {
        const pfn = num(x.f, "page");
        const mustUnshare = bool(x.f, "foll_pin") && !bool(x.f, "write") && folioOf(x.m, pfn).anon && !x.m.pages[pfn].anonExclusive;
        if (pte_write(num(x.f, "pte")) || !mustUnshare) return;
        ungrab(x, pfn);
        x.f.l.page = -1;
        return goto("pte_unmap");
      },
    });
  }
  if (gen === "rfc-v2") {
    steps.push({
      line: "pmd_cow_pte_mkexclusive(&pmd);   /* RFC v2 6/9: mark the table COW_PTE_OWNER_EXCLUSIVE, after pinning */",
      run: (x) => {
        const t = x.m.mms[x.c.mm].pmd[Math.floor(num(x.f, "va") / x.cfg.ptrs)];
        if (t >= 0) x.m.tables[t].cowExclusive = true;
      },
    });
  }
  steps.push(
    {
      label: "pte_unmap",
      line: `${gen === "4.19" ? "local_irq_enable();" : "local_irq_restore(flags);"}   /* pending flush IPIs are taken now */`,
      run: (x) => irqEnable(x.m, x.cpu),
    },
  );
  if (seq) {
    steps.push({
      line: "if (gup_flags & FOLL_PIN) { if (read_seqcount_retry(&current->mm->write_protect_seq, seq)) { unpin_user_pages(pages, nr_pinned); return 0; } }",
      run: (x) => {
        if (!bool(x.f, "foll_pin") || typeof x.f.l.page !== "number" || x.f.l.page < 0) return;
        if (x.m.mms[x.c.mm].writeProtectSeq === num(x.f, "seq")) return;
        ungrab(x, num(x.f, "page"));
        x.f.l.page = -1;
        return goto("slow");
      },
    });
  }
  steps.push(
    {
      label: "slow",
      local: true,
      line:
        gen === "4.19"
          ? "if (nr < nr_pages) ret = get_user_pages_unlocked(start, nr_pages - nr, pages, write ? FOLL_WRITE : 0);   /* slow GUP under mmap_read_lock */"
          : "if (nr_pinned < nr_pages) ret = __gup_longterm_unlocked(start, nr_pages - nr_pinned, pages, gup_flags);   /* slow GUP under mmap_read_lock */",
      run: (x) => {
        if (typeof x.f.l.page === "number" && x.f.l.page >= 0) return;
        return call("__get_user_pages", { va: x.f.l.va, write: x.f.l.write, foll_pin: x.f.l.foll_pin }, { tail: true });
      },
    },
    {
      line: "return ret;",
      run: (x) => {
        registerPin(x, num(x.f, "page"));
        return ret(num(x.f, "page"));
      },
    },
  );
  return steps;
}

const gens: Record<Gen, string> = {
  "4.19": "4.x-5.7",
  "5.8": "5.8 (17839856fd58)",
  "5.9-rc": "5.9-rc (the trial series, before has_pinned)",
  "5.9": "5.9-5.10",
  "5.11": "5.11-5.18 (57efa1fe5957)",
  "5.19": "5.19+",
  "rfc-v2": "RFC v2 COW page tables (6.0-rc base)",
};
for (const [g, label] of Object.entries(gens)) {
  definePath(`gup_fast@${g}`, {
    name: g === "4.19" || g === "5.8" ? "get_user_pages_fast" : "internal_get_user_pages_fast",
    source: "mm/gup.c",
    generation: label,
    steps: gupFastSteps(g as Gen),
  });
}

export function gupFastVariant(cfg: Config): string {
  if (cfg.kernel.cow_pte === "rfc-v2") return "gup_fast@rfc-v2";
  if (paeKernel(cfg)) return "gup_fast@5.19";
  if (cfg.kernel.write_protect_seq) return "gup_fast@5.11";
  if (cfg.kernel.gup_force_cow_break) return "gup_fast@5.8";
  if (cfg.kernel.do_wp_page === "page_count") return kver(cfg) >= 509 ? "gup_fast@5.9" : "gup_fast@5.9-rc";
  return "gup_fast@4.19";
}
defineVariant("gup_fast", gupFastVariant);

definePath("vmsplice_to_pipe", {
  name: "vmsplice_to_pipe",
  source: "fs/splice.c",
  generation: "5.x",
  steps: [
    {
      local: true, line: "copied = iov_iter_get_pages(from, pages, maxsize, maxpages, &start);   /* -> get_user_pages_fast(addr, n, 0 /* read */, pages) */",
      run: (x) => call("gup_fast", { va: x.f.l.va, write: false, foll_pin: false }),
    },
    {
      local: true, line: "add_to_pipe(pipe, &buf);   /* the pipe keeps the page reference until it is read */",
      run: () => ret(0),
    },
  ],
});
