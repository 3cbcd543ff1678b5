// Slow GUP: pin_user_pages (FOLL_PIN) and get_user_pages (FOLL_GET) under
// mmap_read_lock, following the PTE under the PTL and faulting in when needed.

import { findVma, folioOf, getPte, GUP_PIN_COUNTING_BIAS, isCowMapping, ptl, spinLock, spinUnlock, tableOf, upRead } from "../machine.js";
import { kver } from "../era.js";
import { bool, call, defineVariant, definePath, goto, num, ret, type Ctx, type Step, mmapLockStep } from "../path.js";
import { pte_pfn, pte_present, pte_write } from "../pte.js";
import { paeKernel } from "./fault.js";

const NO_PAGE = -1;

/** Record the reference GUP returned (and hand a FOLL_PIN page to the level's DMA device). */
export function registerPin(x: Ctx, pfn: number): void {
  x.m.pins.push({ mm: x.c.mm, va: num(x.f, "va"), pfn, write: bool(x.f, "write"), foll_pin: bool(x.f, "foll_pin"), by: x.cpu, data: x.m.pages[pfn].data });
  if (x.cfg.dmaPayload !== null && bool(x.f, "foll_pin") && x.m.dma.pin < 0) x.m.dma.pin = x.m.pins.length - 1;
}
const EMLINK = -31;

/** try_grab_page(): FOLL_PIN adds GUP_PIN_COUNTING_BIAS (or _pincount on a large folio), FOLL_GET adds 1. */
export function tryGrab(x: Ctx, pfn: number): void {
  const f = folioOf(x.m, pfn);
  if (bool(x.f, "foll_pin")) {
    if (f.nr === 1) f.refcount += GUP_PIN_COUNTING_BIAS;
    else {
      f.refcount += 1;
      f.pincount += 1;
    }
  } else f.refcount += 1;
}

function followPageSteps(gen519: boolean, rfc = false): Step[] {
  const steps: Step[] = [
    {
      line: "ptep = pte_offset_map_lock(mm, pmd, address, &ptl); pte = *ptep;",
      run: (x) => {
        const t = tableOf(x.m, x.cfg, x.c.mm, num(x.f, "va"));
        if (t < 0) return ret(NO_PAGE);
        const w = spinLock(x.m, x.cpu, ptl(t));
        if (w) return { wait: w };
        x.f.l.table = t;
        x.f.l.pte = getPte(x.m, x.cfg, x.c.mm, num(x.f, "va"));
      },
    },
    {
      local: true, line: "if (!pte_present(pte)) goto no_page;",
      run: (x) => (pte_present(num(x.f, "pte")) ? undefined : goto("no_page")),
    },
    {
      line: "if ((flags & FOLL_WRITE) && !can_follow_write_pte(pte, flags)) { pte_unmap_unlock(ptep, ptl); return NULL; }",
      run: (x) => {
        if (bool(x.f, "write") && !pte_write(num(x.f, "pte"))) {
          spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));
          return ret(NO_PAGE);
        }
      },
    },
  ];
  if (gen519) {
    steps.push({
      line: "page = vm_normal_page(vma, address, pte); if (!pte_write(pte) && gup_must_unshare(flags, page)) { page = ERR_PTR(-EMLINK); goto out; }",
      run: (x) => {
        const pfn = pte_pfn(num(x.f, "pte"));
        const pg = x.m.pages[pfn];
        // gup_must_unshare(): a R/O FOLL_PIN of an anon page that is not exclusive.
        const mustUnshare = bool(x.f, "foll_pin") && !bool(x.f, "write") && folioOf(x.m, pfn).anon && !pg.anonExclusive;
        if (!pte_write(num(x.f, "pte")) && mustUnshare) {
          x.f.l.page = EMLINK;
          return goto("out");
        }
      },
    });
  }
  steps.push(
    {
      line: gen519
        ? "VM_BUG_ON_PAGE((flags & FOLL_PIN) && PageAnon(page) && !PageAnonExclusive(page), page); try_grab_page(page, flags);   /* FOLL_PIN: +1024 */"
        : "page = vm_normal_page(vma, address, pte); if (unlikely(!try_grab_page(page, flags))) { ... }   /* FOLL_PIN: refcount += 1024 */",
      run: (x) => {
        const pfn = pte_pfn(num(x.f, "pte"));
        if (gen519 && bool(x.f, "foll_pin") && folioOf(x.m, pfn).anon && !x.m.pages[pfn].anonExclusive) {
          throw new Error(`VM_BUG_ON_PAGE: FOLL_PIN of a non-exclusive anon page (pfn ${pfn})`);
        }
        tryGrab(x, pfn);
        x.f.l.page = pfn;
      },
    },
    {
      label: "out",
      line: rfc
        ? "out: if (!IS_ERR(page)) pmd_cow_pte_mkexclusive(pmd);   /* RFC v2 6/9: mark the table, after pinning */  pte_unmap_unlock(ptep, ptl); return page;"
        : "pte_unmap_unlock(ptep, ptl); return page;",
      run: (x) => {
        if (rfc && num(x.f, "page") >= 0) x.m.tables[num(x.f, "table")].cowExclusive = true;
        spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));
        return ret(num(x.f, "page"));
      },
    },
    {
      label: "no_page",
      line: "no_page: pte_unmap_unlock(ptep, ptl); return NULL;   /* let faultin_page() populate it */",
      run: (x) => {
        spinUnlock(x.m, x.cpu, ptl(num(x.f, "table")));
        return ret(NO_PAGE);
      },
    },
  );
  return steps;
}

definePath("follow_page_pte@5.9", { name: "follow_page_pte", source: "mm/gup.c", generation: "5.9-5.18", steps: followPageSteps(false) });
definePath("follow_page_pte@5.19", { name: "follow_page_pte", source: "mm/gup.c", generation: "5.19+", steps: followPageSteps(true) });
definePath("follow_page_pte@rfc-v2", { name: "follow_page_pte", source: "mm/gup.c", generation: "RFC v2 COW page tables (6.0-rc base)", steps: followPageSteps(true, true) });
defineVariant("follow_page_pte", (cfg) =>
  cfg.kernel.cow_pte === "rfc-v2" ? "follow_page_pte@rfc-v2" : paeKernel(cfg) ? "follow_page_pte@5.19" : "follow_page_pte@5.9",
);

const gupArgs = (x: Ctx) => ({ va: x.f.l.va, write: x.f.l.write, foll_pin: x.f.l.foll_pin });

function gupSteps(cfgGen: "4.x" | "5.8" | "5.9" | "5.19"): Step[] {
  const steps: Step[] = [mmapLockStep("mmap_read_lock(mm);", false)];
  // mm->has_pinned came with the early COW (008cfe4418b3, 5.9-rc7); 5.15 made it MMF_HAS_PINNED.
  // Before it, the line at that place in __get_user_pages_locked() sets FOLL_GET.
  if (cfgGen === "4.x" || cfgGen === "5.8") {
    steps.push({
      line: (cfg) => (kver(cfg) < 506 ? "if (pages) flags |= FOLL_GET;" : "if (pages && !(flags & FOLL_PIN)) flags |= FOLL_GET;   /* FOLL_PIN and FOLL_GET are mutually exclusive */"),
      run: () => undefined,
    });
  }
  if (cfgGen === "5.9" || cfgGen === "5.19") {
    steps.push({
      line: (cfg) =>
        kver(cfg) >= 515
          ? "if (gup_flags & FOLL_PIN) mm_set_has_pinned_flag(&mm->flags);   /* MMF_HAS_PINNED, never cleared */"
          : "if (gup_flags & FOLL_PIN) atomic_set(&mm->has_pinned, 1);",
      run: (x) => {
        if (bool(x.f, "foll_pin")) x.m.mms[x.c.mm].hasPinned = true;
      },
    });
  }
  if (cfgGen === "5.8") {
    steps.push({
      line: "if (should_force_cow_break(vma, foll_flags)) foll_flags |= FOLL_WRITE;   /* 17839856fd58: break COW for any GUP on a COW mapping */",
      run: (x) => {
        const vma = findVma(x.m.mms[x.c.mm], num(x.f, "va"));
        if (vma && isCowMapping(vma.flags)) x.f.l.write = true;
      },
    });
  }
  steps.push(
    {
      label: "retry",
      local: true, line: "page = follow_page_mask(vma, start, foll_flags, &ctx);   /* -> follow_page_pte() */",
      run: (x) => call("follow_page_pte", gupArgs(x)),
    },
    {
      line:
        cfgGen === "5.19"
          ? "if (!page || PTR_ERR(page) == -EMLINK) { ret = faultin_page(vma, start, &foll_flags, PTR_ERR(page) == -EMLINK, locked); goto retry; }"
          : "if (!page) { ret = faultin_page(vma, start, &foll_flags, locked); goto retry; }",
      run: (x) => {
        const rv = num(x.f, "rv");
        if (rv >= 0) {
          x.f.l.pfn = rv;
          return;
        }
        if (!findVma(x.m.mms[x.c.mm], num(x.f, "va"))) {
          x.f.l.pfn = -1;
          return goto("unlock");
        }
        // faultin_page(): FAULT_FLAG_WRITE for FOLL_WRITE, FAULT_FLAG_UNSHARE for -EMLINK; then goto retry.
        x.f.l.retries = (typeof x.f.l.retries === "number" ? x.f.l.retries : 0) + 1;
        if (x.f.l.retries > 16) throw new Error("GUP retried 16 times: a fault path does not make progress");
        return call("handle_pte_fault", { va: x.f.l.va, write: x.f.l.write, unshare: rv === EMLINK }, { then: "retry" });
      },
    },
    {
      label: "unlock",
      line: "mmap_read_unlock(mm);",
      run: (x) => upRead(x.m, x.cpu, x.c.mm),
    },
    {
      line: "return i;   /* pages[] hold the references: a driver DMA-maps them for its device, vmsplice() puts them in a pipe */",
      run: (x) => {
        const pfn = num(x.f, "pfn");
        if (pfn < 0) return ret(-14);
        registerPin(x, pfn);
        return ret(pfn);
      },
    },
  );
  return steps;
}

definePath("__get_user_pages@5.8", { name: "__get_user_pages", source: "mm/gup.c", generation: "5.8 (17839856fd58)", steps: gupSteps("5.8") });
definePath("__get_user_pages@4.x", { name: "__get_user_pages", source: "mm/gup.c", generation: "4.x-5.9-rc6 (before has_pinned)", steps: gupSteps("4.x") });
definePath("__get_user_pages@5.9", { name: "__get_user_pages", source: "mm/gup.c", generation: "5.9-5.18 (has_pinned; MMF_HAS_PINNED from 5.15)", steps: gupSteps("5.9") });
definePath("__get_user_pages@5.19", { name: "__get_user_pages", source: "mm/gup.c", generation: "5.19+", steps: gupSteps("5.19") });
defineVariant("__get_user_pages", (cfg) =>
  paeKernel(cfg) ? "__get_user_pages@5.19" : cfg.kernel.gup_force_cow_break ? "__get_user_pages@5.8" : kver(cfg) >= 509 ? "__get_user_pages@5.9" : "__get_user_pages@4.x",
);
