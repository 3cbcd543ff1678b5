// Race-specific behaviour the levels teach, step by step (races.md R3, R5, R6, R7).
import { describe, expect, it } from "vitest";
import { compileLevel } from "../src/level/compile.js";
import { loadCampaign } from "../src/level/load.js";
import { explore } from "../src/sim/explore.js";
import { getPte } from "../src/sim/machine.js";
import { getPath, resolvePath } from "../src/sim/path.js";
import { pte_pfn, pte_write } from "../src/sim/pte.js";
import { step } from "../src/sim/engine.js";
import { currentLine, runOp, runUntil } from "./helpers.js";

const campaign = loadCampaign();
const level = (id: string) => campaign.find((l) => l.id === id)!;
const A = 0;
const B = 1;

describe("R6: write_protect_seq closes all three timings (5.11)", () => {
  const c = compileLevel(level("r6-write-protect-seq"), { kernel: "v5_11" });
  const [A1, A2] = [0, 1];

  it("a pin before the copy: fork sees a maybe-pinned page and copies it for the child", () => {
    let m = runOp(c, c.machine, A1);
    m = runOp(c, m, A2);
    expect(pte_pfn(getPte(m, c.cfg, B, 0))).not.toBe(m.pins[0].pfn);
    expect(pte_pfn(getPte(m, c.cfg, A, 0))).toBe(m.pins[0].pfn);
    expect(pte_write(getPte(m, c.cfg, A, 0))).toBe(true);
  });

  it("a pin overlapping the copy sees the count change, unpins and retries through slow GUP after fork", () => {
    let m = runUntil(c, c.machine, A1, "local_irq_save"); // seq read while even
    m = runUntil(c, m, A2, "pte_t pte = *src_pte"); // fork holds both PTLs, seq is odd
    expect(m.mms[A].writeProtectSeq % 2).toBe(1);
    m = runUntil(c, m, A1, "read_seqcount_retry"); // A1 grabbed X (refcount 1025) ...
    expect(m.folios[1]!.refcount).toBeGreaterThanOrEqual(1025);
    m = step(c.cfg, m, { cpu: A1 }).m; // ... and now gives it back
    expect(m.folios[1]!.refcount).toBeLessThan(1024);
    expect(currentLine(c, m, A1)).toMatch(/__gup_longterm_unlocked/);
    // Slow GUP needs mmap_read_lock: it waits for fork to finish.
    m = step(c.cfg, m, { cpu: A1 }).m;
    expect(step(c.cfg, m, { cpu: A1 }).ev.blocked).toBe(true);
    m = runOp(c, m, A2);
    m = runOp(c, m, A1);
    const pin = m.pins[0];
    expect(pte_pfn(getPte(m, c.cfg, B, 0))).not.toBe(pin.pfn);
    expect(pte_pfn(getPte(m, c.cfg, A, 0))).toBe(pin.pfn);
  });

  it("a pin after the copy meets a read-only PTE, falls back, and the write fault copies first", () => {
    let m = runOp(c, c.machine, A2);
    m = runOp(c, m, A1);
    const pin = m.pins[0];
    expect(pin.pfn).not.toBe(1);
    expect(pte_pfn(getPte(m, c.cfg, B, 0))).toBe(1);
  });

  it("without the fix the same middle timing shares the pinned page", () => {
    const bad = compileLevel(level("r6-write-protect-seq"), { kernel: "v5_9" });
    expect(explore(bad.cfg, bad.machine, { oracles: bad.oracles }).verdict).toBe("reachable");
  });
});

describe("R7 on every later kernel", () => {
  for (const generation of ["5.8", "5.9", "5.19"] as const) {
    it(`${generation}: C's pipe never sees P's secret`, () => {
      const lv = level("r7-cow-either-way");
      const c = compileLevel({ ...lv, kernel: { generation } });
      expect(explore(c.cfg, c.machine, { oracles: c.oracles }).verdict).toBe("safe");
    });
  }
});

describe("R5 orders", () => {
  it("Jason's order is closed by the early COW of 5.9 (only a pin inside fork's copy remains, until 5.11); Peter's is not", () => {
    const rdma = level("r5-rdma-order");
    const c59 = compileLevel({ ...rdma, kernel: { generation: "5.9" } });
    const r59 = explore(c59.cfg, c59.machine, { oracles: c59.oracles });
    expect(r59.verdict).toBe("reachable");
    // The pin (CPU0) starts only after fork (CPU1) has begun, and fork still has work left after it.
    const s = r59.schedule!.map((a) => ("dma" in a ? -1 : a.cpu));
    const firstPin = s.indexOf(0);
    expect(s.slice(0, firstPin).every((x) => x === 1)).toBe(true);
    expect(s.slice(s.lastIndexOf(0)).includes(1)).toBe(true);
    const c511 = compileLevel({ ...rdma, kernel: { generation: "5.11" } });
    expect(explore(c511.cfg, c511.machine, { oracles: c511.oracles }).verdict).toBe("safe");
    const peter = compileLevel(level("r5-six-steps"));
    expect(peter.cfg.kernel.early_cow_pinned).toBe(true);
    expect(explore(peter.cfg, peter.machine, { oracles: peter.oracles }).verdict).toBe("reachable");
  });
});

describe("displayed lines carry what races.md verified", () => {
  const cfgOf = (id: string, knobs = {}) => compileLevel(level(id), knobs).cfg;
  const lines = (name: string, cfg: ReturnType<typeof cfgOf>) => getPath(resolvePath(name, cfg)).steps.map((s) => (typeof s.line === "string" ? s.line : s.line(cfg)));

  it("5.8 GUP-fast demands write access even for reads; 4.19 does not", () => {
    const r7 = level("r7-cow-either-way");
    expect(lines("gup_fast", compileLevel({ ...r7, kernel: { generation: "5.8" } }).cfg).join("\n")).toMatch(/\(gup_flags \| FOLL_WRITE\) & FOLL_WRITE/);
    expect(lines("gup_fast", compileLevel(r7).cfg).join("\n")).not.toMatch(/FOLL_WRITE\) & FOLL_WRITE/);
  });

  it("5.11+ GUP-fast brackets its walk with the write_protect_seq read side; fork with the write side", () => {
    const cfg = cfgOf("r6-write-protect-seq", { kernel: "v5_11" });
    const g = lines("gup_fast", cfg);
    const begin = g.findIndex((l) => l.includes("raw_read_seqcount"));
    const retry = g.findIndex((l) => l.includes("read_seqcount_retry"));
    const grab = g.findIndex((l) => l.includes("try_grab"));
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(begin < grab && grab < retry).toBe(true);
    const cp = lines("copy_page_range", cfg).join("\n");
    expect(cp).toMatch(/raw_write_seqcount_begin/);
    expect(cp).toMatch(/raw_write_seqcount_end/);
  });

  it("fork flushes the parent's TLB once, at the end, before mmap_write_unlock (F5, P11)", () => {
    const d = lines("dup_mmap", cfgOf("r5-six-steps"));
    expect(d.findIndex((l) => l.includes("flush_tlb_mm(oldmm)"))).toBe(d.findIndex((l) => l.includes("mmap_write_unlock(oldmm)")) - 1);
  });

  it("the RFC marks the table only after pinning", () => {
    const g = lines("gup_fast", cfgOf("r3-cow-page-tables"));
    expect(g.findIndex((l) => l.includes("pmd_cow_pte_mkexclusive"))).toBeGreaterThan(g.findIndex((l) => l.includes("try_grab")));
  });

  it("copy_pte_range keeps the kernel's weights and checks only at the loop head (R1)", () => {
    const cpr = lines("copy_pte_range", cfgOf("r5-six-steps")).join("\n");
    expect(cpr).toMatch(/if \(progress >= 32\)/);
    expect(cpr).toMatch(/progress\+\+; continue;/);
    expect(cpr).toMatch(/progress \+= 8;/);
  });

  it("munmap frees the pages only after the TLB flush (mmu_gather)", () => {
    const u = lines("__do_munmap", cfgOf("r5-six-steps"));
    expect(u.findIndex((l) => l.includes("put_page()"))).toBeGreaterThan(u.findIndex((l) => l.includes("tlb_finish_mmu")));
  });
});

describe("R4 and R8 mechanics", () => {
  it("with any trylock variant the speculative fault never deadlocks against munmap's flush", () => {
    const lv = level("r4-spf-trylock");
    for (const v of ["abort", "retry", "max_try", "fail"]) {
      const c = compileLevel(lv, { take_ptl: v });
      expect(explore(c.cfg, c.machine, { oracles: ["deadlock"] }).verdict, v).toBe("safe");
    }
  });

  it("a per-VMA-lock fault falls back to mmap_lock on a VMA without an anon_vma (6.4 refuses the first fault)", () => {
    const c = compileLevel(level("r8-per-vma-fork"));
    const m0 = structuredClone(c.machine);
    m0.mms[0].vmas[0].anonVma = false;
    m0.tables[0].ptes[0] &= ~2; // read-only, so the store faults
    const m = runUntil(c, m0, 1, "lock_mmap: mmap_read_lock");
    expect(m.mms[0].vmas[0].lockReaders).toEqual([]);
  });

  it("with vma_start_write() in fork, a fault that arrives during the copy waits for mmap_lock", () => {
    const c = compileLevel(level("r8-vma-start-write"), { fix: "v6_5" });
    let m = runUntil(c, c.machine, 0, "spin_unlock(src_ptl)"); // page 0 is write-protected now
    m = runUntil(c, m, 1, "lock_mmap: mmap_read_lock");
    const r = step(c.cfg, m, { cpu: 1 });
    expect(r.ev.blocked).toBe(true);
    expect(r.ev.wait).toMatch(/sleeping on mmap_lock of A for read, held by CPU0 \(A1\) \(write\)/);
  });
});
