// Every kernel path on its own: what it does to PTEs, folios, locks, TLBs.
import { describe, expect, it } from "vitest";
import { step } from "../../src/sim/engine.js";
import { getPte, GUP_PIN_COUNTING_BIAS } from "../../src/sim/machine.js";
import { pte_pfn, pte_present, pte_write } from "../../src/sim/pte.js";
import { currentLine, fixture, runOp, runUntil } from "../helpers.js";

const A = 0;
const B = 1;

describe("user loads and stores", () => {
  it("a store to a writable page fills the TLB and writes the page", () => {
    const c = fixture({ cpus: `  - { name: A1, process: A, runs: [{ store: { page: 0, value: x } }] }` });
    const m = runOp(c, c.machine, 0);
    expect(m.pages[1].data).toBe("x");
    expect(m.cpus[0].tlb).toEqual([{ mm: A, va: 0, pfn: 1, write: true, cont: false }]);
    expect(m.mms[A].expect[0]).toBe("x");
  });

  it("a store through a stale writable TLB entry writes the old page, whatever the PTE says", () => {
    const c = fixture({ cpus: `  - { name: A1, process: A, tlb: [0], runs: [{ store: { page: 0, value: late } }] }` });
    // The PTE moves to another page; the TLB still says pfn 1, writable.
    const m0 = structuredClone(c.machine);
    m0.tables[0].ptes[0] = 0;
    const m = runOp(c, m0, 0);
    expect(m.pages[1].data).toBe("late");
  });

  it("a store to a never-touched page faults in a fresh zeroed page", () => {
    const c = fixture({ cpus: `  - { name: A1, process: A, runs: [{ store: { page: 1, value: y } }] }` });
    const m = runOp(c, c.machine, 0);
    const pte = getPte(m, c.cfg, A, 1);
    expect(pte_present(pte) && pte_write(pte)).toBe(true);
    expect(m.pages[pte_pfn(pte)].data).toBe("y");
    expect(m.pages[pte_pfn(pte)].mapcount).toBe(1);
    expect(m.mms[A].mmapLock).toEqual({ writer: -1, readers: [], waiters: [] });
  });

  it("a load of a never-touched page maps the shared zero page read-only", () => {
    const c = fixture({ cpus: `  - { name: A1, process: A, runs: [{ load: { page: 1 } }] }` });
    const m = runOp(c, c.machine, 0);
    const pte = getPte(m, c.cfg, A, 1);
    expect(pte_pfn(pte)).toBe(0);
    expect(pte_write(pte)).toBe(false);
  });

  it("a store outside every VMA kills the task with SIGSEGV", () => {
    const c = fixture({ cpus: `  - { name: A1, process: A, runs: [{ store: { page: 5, value: z } }] }` });
    let m = c.machine;
    for (let i = 0; i < 10 && !m.cpus[0].done; i++) m = step(c.cfg, m, { cpu: 0 }).m;
    expect(m.cpus[0].done).toBe(true);
    expect(m.cpus[0].segv).toBe(true);
    expect(m.mms[A].mmapLock.readers).toEqual([]);
  });

  it("two CPUs faulting the same page: the PTL re-check makes the loser drop its page", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [{ store: { page: 1, value: one } }] }
  - { name: A2, process: A, runs: [{ store: { page: 1, value: two } }] }`,
    });
    let m = runUntil(c, c.machine, 0, "pte_offset_map_lock(vma->vm_mm");
    m = runUntil(c, m, 1, "pte_offset_map_lock(vma->vm_mm");
    expect(m.pages.filter((p) => p.folio > 0).length).toBe(3); // hello + two fresh pages
    m = runOp(c, m, 0);
    m = runOp(c, m, 1);
    expect(m.pages.filter((p) => p.folio > 0).length).toBe(2); // the loser's page was put
    expect(m.pages[pte_pfn(getPte(m, c.cfg, A, 1))].data).toBe("two");
  });
});

describe("do_wp_page in its three generations", () => {
  // A page shared with a child that exited: mapcount 1, read-only PTE, plus an extra reference.
  const sharedThenExited = (generation: string) =>
    fixture({
      generation,
      cpus: `  - { name: A1, process: A, runs: [fork, wait_child, { get_user_pages: { page: 0, write: false } }, { store: { page: 0, value: w } }] }
  - { name: B, process: B, runs: [exit] }`,
    });

  function toStore(generation: string) {
    const c = sharedThenExited(generation);
    let m = runOp(c, c.machine, 0); // fork
    m = runOp(c, m, 1); // B exits
    m = runOp(c, m, 0); // wait4
    m = runOp(c, m, 0); // FOLL_GET reference (the vmsplice pipe of R7)
    expect(m.pages[1].mapcount).toBe(1);
    expect(m.folios[1]!.refcount).toBe(2);
    expect(pte_write(getPte(m, c.cfg, A, 0))).toBe(false);
    return { c, m: runOp(c, m, 0) };
  }

  it("before 5.9 the write reuses a page mapped once, although someone else holds a reference", () => {
    const { c, m } = toStore("4.19");
    const pte = getPte(m, c.cfg, A, 0);
    expect(pte_pfn(pte)).toBe(1);
    expect(pte_write(pte)).toBe(true);
    expect(m.pages[1].data).toBe("w");
  });

  it("from 5.9 the write copies unless page_count is 1", () => {
    const { c, m } = toStore("5.9");
    const pte = getPte(m, c.cfg, A, 0);
    expect(pte_pfn(pte)).not.toBe(1);
    expect(m.pages[pte_pfn(pte)].data).toBe("w");
    expect(m.pages[1].data).toBe("hello");
    expect(m.pages[1].mapcount).toBe(0);
    expect(m.folios[1]!.refcount).toBe(1); // only the GUP reference is left
  });

  it("from 5.19 an exclusive page is reused without looking at the refcount", () => {
    const c = fixture({
      generation: "5.19",
      cpus: `  - { name: A1, process: A, runs: [{ pin_user_pages: { page: 0, write: false } }, { store: { page: 0, value: w } }] }`,
    });
    let m = c.machine;
    // Make the PTE read-only while the page stays PageAnonExclusive (as uffd-wp or mprotect would).
    m = structuredClone(m);
    m.tables[0].ptes[0] &= ~2;
    m = runOp(c, m, 0);
    expect(m.folios[1]!.refcount).toBe(1 + GUP_PIN_COUNTING_BIAS);
    m = runOp(c, m, 0);
    expect(pte_pfn(getPte(m, c.cfg, A, 0))).toBe(1);
    expect(pte_write(getPte(m, c.cfg, A, 0))).toBe(true);
  });

  it("5.19: a R/O pin of a shared page unshares first (FAULT_FLAG_UNSHARE) and leaves the PTE read-only", () => {
    const c = fixture({
      generation: "5.19",
      cpus: `  - { name: A1, process: A, runs: [fork, { pin_user_pages: { page: 0, write: false } }] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runOp(c, c.machine, 0); // fork: X shared, PAE cleared
    expect(m.pages[1].anonExclusive).toBe(false);
    m = runOp(c, m, 0); // pin: gup_must_unshare -> unshare fault -> copy (refcount 2) -> pin the copy
    const pte = getPte(m, c.cfg, A, 0);
    const pfn = pte_pfn(pte);
    expect(pfn).not.toBe(1);
    expect(pte_write(pte)).toBe(false);
    expect(m.pages[pfn].anonExclusive).toBe(true);
    expect(m.folios[pfn]!.refcount).toBe(1 + GUP_PIN_COUNTING_BIAS);
    expect(m.pins).toEqual([{ mm: A, va: 0, pfn, write: false, foll_pin: true, by: 0, data: "hello" }]);
  });
});

describe("wp_page_copy and the TLB shootdown", () => {
  it("the copy's flush waits for a CPU with IRQs off, which cannot ack", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [fork, { store: { page: 0, value: w } }] }
  - { name: A2, process: A, irqs_off: true, tlb: [0], runs: [{ load: { page: 0 } }] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runUntil(c, c.machine, 0, "flush_tlb_mm(oldmm)");
    m = runUntil(c, m, 0, "csd_lock_wait");
    expect(m.cpus[0].waitAcks).toEqual([1]);
    expect(m.cpus[1].ipis.length).toBe(1);
    const r = step(c.cfg, m, { cpu: 0 });
    expect(r.ev.blocked).toBe(true);
    expect(r.m.cpus[0].wait).toEqual({ kind: "acks" });
  });

  it("the copy gets the data, the old page loses a mapping and a reference", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [fork, { store: { page: 0, value: w } }] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runOp(c, c.machine, 0);
    expect(m.pages[1].mapcount).toBe(2);
    expect(m.folios[1]!.refcount).toBe(2);
    m = runOp(c, m, 0);
    const pfn = pte_pfn(getPte(m, c.cfg, A, 0));
    expect(pfn).not.toBe(1);
    expect(m.pages[pfn].data).toBe("w");
    expect(m.pages[1]).toMatchObject({ mapcount: 1, data: "hello" });
    expect(m.folios[1]!.refcount).toBe(1);
    expect(pte_pfn(getPte(m, c.cfg, B, 0))).toBe(1);
  });
});

describe("fork", () => {
  it("shares anonymous pages read-only with the child and flushes the parent's TLB at the end", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [fork] }
  - { name: A2, process: A, tlb: [0], runs: [{ load: { page: 0 } }] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runUntil(c, c.machine, 0, "flush_tlb_mm(oldmm)");
    // P11: write-protected, but A2's writable TLB entry survives until the flush.
    expect(pte_write(getPte(m, c.cfg, A, 0))).toBe(false);
    expect(m.cpus[1].tlb[0].write).toBe(true);
    m = runOp(c, m, 0);
    expect(m.cpus[1].tlb).toEqual([]);
    expect(m.mms[B].state).toBe("alive");
    expect(pte_pfn(getPte(m, c.cfg, B, 0))).toBe(1);
    expect(m.pages[1].mapcount).toBe(2);
  });

  it("skips a VM_DONTCOPY VMA (MADV_DONTFORK)", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [{ madvise: { page: 0, pages: 2, advice: dontfork } }, fork] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runOp(c, c.machine, 0);
    expect(m.mms[A].vmas[0].flags & 0x20000).toBeTruthy();
    m = runOp(c, m, 0);
    expect(m.mms[B].vmas).toEqual([]);
    expect(pte_write(getPte(m, c.cfg, A, 0))).toBe(true);
  });

  it("madvise on part of a VMA splits it", () => {
    const c = fixture({ cpus: `  - { name: A1, process: A, runs: [{ madvise: { page: 1, pages: 1, advice: dontfork } }] }` });
    const m = runOp(c, c.machine, 0);
    expect(m.mms[A].vmas.map((v) => [v.start, v.end, (v.flags & 0x20000) !== 0])).toEqual([
      [0, 1, false],
      [1, 2, true],
    ]);
  });

  it("5.9 early COW: a maybe-pinned page is copied for the child (after -EAGAIN and a prealloc), the parent keeps it writable", () => {
    const c = fixture({
      generation: "5.9",
      cpus: `  - { name: A1, process: A, runs: [{ pin_user_pages: { page: 0, write: false } }, fork] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runOp(c, c.machine, 0);
    expect(m.mms[A].hasPinned).toBe(true);
    m = runUntil(c, m, 0, "page_copy_prealloc");
    m = step(c.cfg, m, { cpu: 0 }).m;
    expect(m.pages.filter((p) => p.folio > 0).length).toBe(2); // the prealloc page
    m = runOp(c, m, 0);
    const childPfn = pte_pfn(getPte(m, c.cfg, B, 0));
    expect(childPfn).not.toBe(1);
    expect(m.pages[childPfn].data).toBe("hello");
    expect(pte_write(getPte(m, c.cfg, A, 0))).toBe(true);
    expect(m.pages[1].mapcount).toBe(1);
  });

  it("before 70e806e4e645 a pinned page is shared read-only like any other", () => {
    const c = fixture({
      generation: "5.9-rc",
      cpus: `  - { name: A1, process: A, runs: [{ pin_user_pages: { page: 0, write: false } }, fork] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runOp(c, c.machine, 0);
    m = runOp(c, m, 0);
    expect(pte_pfn(getPte(m, c.cfg, B, 0))).toBe(1);
    expect(pte_write(getPte(m, c.cfg, A, 0))).toBe(false);
  });

  it("5.11+: write_protect_seq is odd exactly while copy_page_range runs", () => {
    const c = fixture({
      generation: "5.11",
      cpus: `  - { name: A1, process: A, runs: [fork] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runUntil(c, c.machine, 0, "copy_pte_range(dst_vma");
    expect(m.mms[A].writeProtectSeq % 2).toBe(1);
    m = runOp(c, m, 0);
    expect(m.mms[A].writeProtectSeq).toBe(2);
  });

  it("copy_pte_range drops both PTLs at the progress threshold when need_resched is set, then resumes at the same address", () => {
    const c = fixture({
      kernel: "progress_threshold: 8",
      processes: `    - name: A
      vmas: [{ start: 0, pages: 4 }]
      pages: [{ page: 0, data: a }, { page: 1, data: b }, { page: 3, data: d }]
    - { name: B, child_of: A }`,
      cpus: `  - { name: A1, process: A, need_resched: true, runs: [fork] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runUntil(c, c.machine, 0, "spin_unlock(src_ptl)");
    // One present PTE (progress 8) was copied; the loop head saw need_resched and broke out.
    expect(pte_present(getPte(m, c.cfg, B, 0))).toBe(true);
    expect(pte_present(getPte(m, c.cfg, B, 1))).toBe(false);
    m = step(c.cfg, m, { cpu: 0 }).m;
    expect(m.tables.map((t) => t.ptl)).toEqual([-1, -1]);
    expect(m.cpus[0].needResched).toBe(false); // cond_resched() ran
    m = runOp(c, m, 0);
    expect([0, 1, 2, 3].map((va) => pte_present(getPte(m, c.cfg, B, va)))).toEqual([true, true, false, true]);
    expect([1, 2, 3].map((pfn) => m.pages[pfn].mapcount)).toEqual([2, 2, 2]);
  });
});

describe("GUP", () => {
  it("5.9: a R/O pin of a read-only PTE takes no fault and adds GUP_PIN_COUNTING_BIAS", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [fork, wait_child, { pin_user_pages: { page: 0, write: false } }] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runOp(c, c.machine, 0);
    m = runOp(c, m, 1);
    m = runOp(c, m, 0);
    m = runOp(c, m, 0);
    expect(m.folios[1]!.refcount).toBe(1 + GUP_PIN_COUNTING_BIAS);
    expect(pte_write(getPte(m, c.cfg, A, 0))).toBe(false);
  });

  it("a FOLL_WRITE pin breaks COW first, then pins the writable page", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [fork, { pin_user_pages: { page: 0, write: true } }] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runOp(c, c.machine, 0);
    m = runOp(c, m, 0);
    const pte = getPte(m, c.cfg, A, 0);
    expect(pte_write(pte)).toBe(true);
    expect(pte_pfn(pte)).not.toBe(1);
    expect(m.folios[pte_pfn(pte)]!.refcount).toBe(1 + GUP_PIN_COUNTING_BIAS);
  });

  it("hands a FOLL_PIN page to the DMA device, which writes that pfn", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [{ pin_user_pages: { page: 0, write: true } }] }`,
      device: "device: { dma: { writes: payload } }",
    });
    let m = runOp(c, c.machine, 0);
    expect(m.dma.pin).toBe(0);
    m = step(c.cfg, m, { dma: true }).m;
    expect(m.pages[1].dmabuf).toBe("payload");
    expect(m.dma.done).toBe(true);
  });
});

describe("exit and munmap", () => {
  it("exit drops the child's mappings and references and frees its tables", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [fork] }
  - { name: B, process: B, runs: [exit] }`,
    });
    let m = runOp(c, c.machine, 0);
    m = runOp(c, m, 1);
    expect(m.mms[B].state).toBe("dead");
    expect(m.pages[1].mapcount).toBe(1);
    expect(m.folios[1]!.refcount).toBe(1);
    expect(m.cpus[1].done).toBe(true);
  });

  it("munmap zaps the PTEs, flushes the TLBs, then frees the pages", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [{ munmap: { page: 0, pages: 1 } }] }
  - { name: A2, process: A, tlb: [0], runs: [{ load: { page: 0 } }] }`,
    });
    let m = runUntil(c, c.machine, 0, "tlb_finish_mmu");
    expect(getPte(m, c.cfg, A, 0)).toBe(0);
    expect(m.folios[1]!.refcount).toBe(1); // gathered, not yet freed
    m = runOp(c, m, 0);
    expect(m.cpus[1].tlb).toEqual([]);
    expect(m.pages[1].folio).toBe(-1);
    expect(m.mms[A].vmas.map((v) => [v.start, v.end])).toEqual([[1, 2]]);
    expect(currentLine(c, m, 0)).toBe("");
  });
});

