// The machine's boot lives in sim/ (issue 16): a plain-data spec becomes the
// starting Machine without anything from level/, and what it refuses names the
// spec's field.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileLevel } from "../../src/level/compile.js";
import { findLevel, loadCampaign } from "../../src/level/load.js";
import { BootError, bootMachine, type MachineSpec } from "../../src/sim/boot.js";
import { pte_pfn, pte_present, pte_write } from "../../src/sim/pte.js";
import { getPte } from "../../src/sim/machine.js";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

// A config for two processes and two CPUs (CPU0 in the parent, CPU1 in the child), from a campaign level that has them.
const { cfg } = compileLevel(findLevel(loadCampaign(), "basics-fork-cow")!);

const spec = (over: Partial<MachineSpec> = {}): MachineSpec => ({
  frames: 8,
  counter: null,
  locks: 1,
  processes: [
    { name: "parent", unborn: false, forkedFrom: null, vmas: [{ start: 0, pages: 2, write: true, uffdWp: false }], pages: [{ page: 0, data: "A", nr: 1, refs: 2 }] },
    { name: "child", unborn: false, forkedFrom: 0, vmas: [], pages: [] },
  ],
  cpus: cfg.cpus.map((_, i) => ({ name: `CPU${i}`, irqsOff: false, needResched: false, tlb: [] })),
  ...over,
});

describe("booting a machine from its spec", () => {
  it("sim/ imports nothing from level/, game/, server/ or the client", () => {
    const root = join(import.meta.dirname, "..", "..", "src", "sim");
    const offenders = files(root).filter((f) => /from ["'](\.\.\/)+(level|game|client|cli|protocol)\//.test(readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });

  it("maps populated pages writable and exclusive, and a process forked at boot shares them read-only", () => {
    const m = bootMachine(spec(), cfg);
    const parent = getPte(m, cfg, 0, 0);
    const child = getPte(m, cfg, 1, 0);
    expect(pte_present(parent) && pte_present(child)).toBe(true);
    expect(pte_pfn(parent)).toBe(pte_pfn(child));
    expect(pte_write(parent) || pte_write(child)).toBe(false);
    const pfn = pte_pfn(parent);
    // Two mappings, the file's two extra references, and the child's.
    expect(m.pages[pfn].mapcount).toBe(2);
    expect(m.folios[pfn]!.refcount).toBe(1 + 2 + 1);
    expect(m.pages[pfn].data).toBe("A");
    expect(m.mms[1].vmas.map((v) => [v.start, v.end])).toEqual([[0, 2]]);
    // The zero page is pfn 0, and a spinlock per name starts free.
    expect(m.pages[0].data).toBe("0");
    expect(m.spinlocks).toEqual([-1]);
  });

  it("refuses too few frames and a TLB entry for an unmapped page, naming the field", () => {
    expect(() => bootMachine(spec({ frames: 1 }), cfg)).toThrow(new BootError("machine.frames", "1 frames are too few for the populated pages"));
    const cpus = spec().cpus.map((c, i) => (i === 1 ? { ...c, tlb: [1] } : c));
    expect(() => bootMachine(spec({ cpus }), cfg)).toThrow(/^cpus\[1\]\.tlb: page 1 is not mapped/);
  });
});
