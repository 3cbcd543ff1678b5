// The arm64 contpte layer (races.md R2) and fork's copy of large folios (R1).
import { describe, expect, it } from "vitest";
import { compileLevel } from "../../src/level/compile.js";
import { join } from "node:path";
import { levelsDir, loadLevelFile } from "../../src/level/load.js";

const loadLevel = (id: string) => loadLevelFile(join(levelsDir(), `${id}.yaml`));
import { step } from "../../src/sim/engine.js";
import { getPte } from "../../src/sim/machine.js";
import { checkOracles } from "../../src/sim/oracles.js";
import { pte_cont, pte_none, pte_pfn, pte_present, pte_write } from "../../src/sim/pte.js";
import type { Machine } from "../../src/sim/types.js";
import { fixture, runOp, runUntil } from "../helpers.js";

const P = 0;
const block = (m: Machine, c: { cfg: Parameters<typeof getPte>[1] }, mm: number, from: number) => [0, 1, 2, 3].map((i) => getPte(m, c.cfg, mm, from + i));

function arm64(cpus: string, contpte = "convert") {
  return fixture({
    generation: "6.9",
    kernel: `contpte: ${contpte}`,
    shootdown: "broadcast",
    frames: 12,
    processes: `    - name: P
      vmas: [{ start: 0, pages: 4 }]
      pages: [{ page: 0, data: blk, nr: 4 }]`,
    cpus,
    goal: "[tlb-conflict, cont-misprogrammed]",
    extra: "",
  });
}

describe("contiguous blocks", () => {
  it("a populated 4-page folio is one aligned CONT block, one reference per PTE", () => {
    const c = arm64(`  - { name: R, process: P, runs: [{ load: { page: 2 } }] }`);
    const ptes = block(c.machine, c, P, 0);
    expect(ptes.every((p) => pte_present(p) && pte_cont(p))).toBe(true);
    expect(ptes.map(pte_pfn)).toEqual([4, 5, 6, 7]);
    expect(c.machine.folios[4]).toMatchObject({ nr: 4, refcount: 4 });
  });

  it("the walker caches one block entry for a CONT entry and translates every page of the block through it", () => {
    const c = arm64(`  - { name: R, process: P, runs: [{ load: { page: 2 } }, { load: { page: 0 } }] }`);
    let m = runOp(c, c.machine, 0);
    expect(m.cpus[0].tlb).toEqual([{ mm: P, va: 0, pfn: 4, write: true, cont: true }]);
    m = runOp(c, m, 0);
    expect(m.cpus[0].tlb).toHaveLength(1);
    expect(m.hw).toBeNull();
  });

  it("MADV_DONTNEED on part of a block unfolds it with break-before-make and flushes the cached block entry", () => {
    const c = arm64(`  - { name: M, process: P, runs: [{ madvise: { page: 1, pages: 1, advice: dontneed } }] }
  - { name: R, process: P, tlb: [3], runs: [{ load: { page: 3 } }] }`);
    expect(c.machine.cpus[1].tlb[0].cont).toBe(true);
    const m = runOp(c, c.machine, 0);
    const ptes = block(m, c, P, 0);
    expect(pte_none(ptes[1])).toBe(true);
    expect([0, 2, 3].every((i) => pte_present(ptes[i]) && !pte_cont(ptes[i]))).toBe(true);
    expect(m.cpus[1].tlb).toEqual([]);
    expect(m.hw).toBeNull();
    expect(checkOracles(c.cfg, m, ["cont-misprogrammed", "tlb-conflict"])).toBeNull();
  });

  it("try_to_unmap_one on one page unfolds the block and leaves a swap entry", () => {
    const c = arm64(`  - { name: K, process: P, runs: [{ try_to_unmap: { page: 1 } }] }`);
    const m = runOp(c, c.machine, 0);
    const ptes = block(m, c, P, 0);
    expect(!pte_present(ptes[1]) && !pte_none(ptes[1])).toBe(true);
    expect([0, 2, 3].every((i) => !pte_cont(ptes[i]))).toBe(true);
    expect(m.folios[4]!.refcount).toBe(3);
  });

  it("mremap to an aligned address folds the block again at its last entry; an unaligned one never folds", () => {
    const aligned = arm64(`  - { name: M, process: P, runs: [{ mremap: { page: 0, pages: 4, to: 8 } }] }`);
    const m1 = runOp(aligned, aligned.machine, 0);
    expect(block(m1, aligned, P, 8).every((p) => pte_present(p) && pte_cont(p))).toBe(true);
    expect(block(m1, aligned, P, 0).every(pte_none)).toBe(true);
    expect(m1.mms[P].vmas.map((v) => [v.start, v.end])).toEqual([[8, 12]]);
    const unaligned = arm64(`  - { name: M, process: P, runs: [{ mremap: { page: 0, pages: 4, to: 9 } }] }`);
    const m2 = runOp(unaligned, unaligned.machine, 0);
    const moved = block(m2, unaligned, P, 9);
    expect(moved.every((p) => pte_present(p) && !pte_cont(p))).toBe(true);
    expect(moved.map(pte_pfn)).toEqual([4, 5, 6, 7]);
  });

  it("rewriting CONT in place while another CPU caches the block is a TLB conflict", () => {
    const c = arm64(
      `  - { name: M, process: P, runs: [{ madvise: { page: 1, pages: 1, advice: dontneed } }] }
  - { name: R, process: P, tlb: [3], runs: [{ load: { page: 3 } }] }`,
      "in_place",
    );
    let m = runUntil(c, c.machine, 0, "__set_pte(ptep + i");
    m = step(c.cfg, m, { cpu: 0 }).m;
    expect(checkOracles(c.cfg, m, ["tlb-conflict"])?.oracle).toBe("tlb-conflict");
  });

  it("a walk in the middle of an in-place rewrite reads a misprogrammed block", () => {
    const c = arm64(
      `  - { name: M, process: P, runs: [{ madvise: { page: 1, pages: 1, advice: dontneed } }] }
  - { name: R, process: P, runs: [{ load: { page: 2 } }] }`,
      "in_place",
    );
    let m = runUntil(c, c.machine, 0, "__set_pte(ptep + i");
    m = step(c.cfg, m, { cpu: 0 }).m; // entry 0 loses CONT; 1-3 keep it
    m = step(c.cfg, m, { cpu: 1 }).m;
    expect(checkOracles(c.cfg, m, ["cont-misprogrammed"])?.oracle).toBe("cont-misprogrammed");
  });

  it("INV-CONT: a CONT entry beside an empty one, with the PTL free, breaks the rule", () => {
    const c = arm64(`  - { name: R, process: P, runs: [{ load: { page: 0 } }] }`);
    const m = structuredClone(c.machine);
    m.tables[0].ptes[0] = 0;
    expect(checkOracles(c.cfg, m, ["cont-misprogrammed"])?.message).toMatch(/page 0's entry is none/);
  });
});

describe("fork's copy resumes inside a block formed while the PTLs were dropped (races.md R1)", () => {
  // Drive the schedule of races.md R1: the faulter waits for the parent's PTL, the copy lets go at page 6,
  // the faulter maps pages 4-7 as one block, the copy resumes at page 6.
  function breakInsideBlock(copy: string): Machine {
    const c = compileLevel(loadLevel("r1-aligned-or-batch"), { copy });
    let m = runUntil(c, c.machine, 0, "if (progress >=");
    m = runUntil(c, m, 1, "pte_offset_map_lock");
    m = step(c.cfg, m, { cpu: 1 }).m;
    expect(m.cpus[1].wait?.kind).toBe("spin");
    m = runUntil(c, m, 0, "spin_unlock(src_ptl)");
    m = step(c.cfg, m, { cpu: 0 }).m;
    m = runOp(c, m, 1);
    return m;
  }

  it("vendor: the child gets CONT on pages 6-7 beside empty pages 4-5", () => {
    const c = compileLevel(loadLevel("r1-aligned-or-batch"), { copy: "vendor" });
    let m = breakInsideBlock("vendor");
    expect(block(m, c, P, 4).every(pte_cont)).toBe(true);
    m = runOp(c, m, 0);
    const child = block(m, c, 1, 4);
    expect(child.map((p) => pte_cont(p))).toEqual([false, false, true, true]);
    expect(checkOracles(c.cfg, m, ["cont-misprogrammed"])?.oracle).toBe("cont-misprogrammed");
  });

  it("mainline: the partial write-protect unfolds the parent's block; the child's two entries get no CONT", () => {
    const c = compileLevel(loadLevel("r1-aligned-or-batch"), { copy: "mainline" });
    let m = breakInsideBlock("mainline");
    expect(block(m, c, P, 4).every(pte_cont)).toBe(true);
    m = runOp(c, m, 0);
    const parent = block(m, c, P, 4);
    expect(parent.some(pte_cont)).toBe(false); // the cost: the parent lost its contiguous mapping
    expect(parent.map(pte_write)).toEqual([true, true, false, false]);
    const child = block(m, c, 1, 4);
    expect(child.map((p) => (pte_present(p) ? pte_pfn(p) : -1))).toEqual([-1, -1, pte_pfn(parent[2]), pte_pfn(parent[3])]);
    expect(child.some(pte_cont)).toBe(false);
    expect(checkOracles(c.cfg, m, ["cont-misprogrammed", "tlb-conflict"])).toBeNull();
  });
});
