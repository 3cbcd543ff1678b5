// Each oracle on its own: silent while the invariant holds, a precise message when it breaks.
import { describe, expect, it } from "vitest";
import { checkOracles, ORACLES, waitCycle } from "../../src/sim/oracles.js";
import { mk_pte } from "../../src/sim/pte.js";
import { compileLevel } from "../../src/level/compile.js";
import { loadCampaign } from "../../src/level/load.js";
import { fixture, runOp } from "../helpers.js";

const pinFixture = () =>
  fixture({
    cpus: `  - { name: A1, process: A, runs: [{ pin_user_pages: { page: 0, write: true } }] }`,
    device: "device: { dma: { writes: payload } }",
  });

describe("oracles", () => {
  it("lost-update fires when the counter is below the completed increments", () => {
    const lv = loadCampaign().find((l) => l.id === "basics-lost-update")!;
    const c = compileLevel(lv);
    const m = structuredClone(c.machine);
    expect(m.vars).toEqual([0, 0]);
    m.vars = [1, 1];
    expect(ORACLES["lost-update"].check(c.cfg, m)).toBeNull();
    m.vars = [1, 2];
    expect(ORACLES["lost-update"].check(c.cfg, m)).toBe("counter is 1 after 2 completed increments: an update was lost");
  });

  it("lost-dma-write fires only when the pinner's address maps a page without the device's data", () => {
    const c = pinFixture();
    const m = runOp(c, c.machine, 0);
    m.pages[1].dmabuf = "payload";
    m.dma.done = true;
    expect(ORACLES["lost-dma-write"].check(c.cfg, m)).toBeNull();
    // The address moves to pfn 2 (a COW), which never saw the DMA.
    m.pages[2] = { folio: 2, mapcount: 1, anonExclusive: false, data: "hello", dmabuf: "" };
    m.folios[2] = { nr: 1, refcount: 1, pincount: 0, locked: false, anon: true };
    m.tables[0].ptes[0] = mk_pte(2, true);
    expect(ORACLES["lost-dma-write"].check(c.cfg, m)).toMatch(/device wrote "payload" into pfn 1, but A's page 0 maps pfn 2/);
    // A copy that carried the DMA data along is fine.
    m.pages[2].dmabuf = "payload";
    expect(ORACLES["lost-dma-write"].check(c.cfg, m)).toBeNull();
  });

  it("pin-cowed-away fires when the pinned address maps another page", () => {
    const c = pinFixture();
    const m = runOp(c, c.machine, 0);
    expect(ORACLES["pin-cowed-away"].check(c.cfg, m)).toBeNull();
    m.pages[2] = { folio: 2, mapcount: 1, anonExclusive: false, data: "x", dmabuf: "" };
    m.folios[2] = { nr: 1, refcount: 1, pincount: 0, locked: false, anon: true };
    m.tables[0].ptes[0] = mk_pte(2, true);
    expect(ORACLES["pin-cowed-away"].check(c.cfg, m)).toMatch(/pfn 1 is pinned for A's page 0, but that address now maps pfn 2/);
  });

  it("pin-shared fires when another mm maps the pinned page", () => {
    const c = fixture({
      generation: "5.9-rc",
      cpus: `  - { name: A1, process: A, runs: [{ pin_user_pages: { page: 0, write: true } }, fork] }
  - { name: B, process: B, runs: [exit] }`,
      goal: "pin-shared",
    });
    let m = runOp(c, c.machine, 0);
    expect(ORACLES["pin-shared"].check(c.cfg, m)).toBeNull();
    m = runOp(c, m, 0);
    expect(ORACLES["pin-shared"].check(c.cfg, m)).toMatch(/pfn 1 is pinned by A but also mapped read-only by B \(page 0\)/);
  });

  it("lost-user-write fires when a process's address no longer holds its last store", () => {
    const c = fixture({ cpus: `  - { name: A1, process: A, runs: [{ store: { page: 0, value: mine } }] }`, goal: "lost-user-write" });
    const m = runOp(c, c.machine, 0);
    expect(ORACLES["lost-user-write"].check(c.cfg, m)).toBeNull();
    m.pages[1].data = "other";
    expect(ORACLES["lost-user-write"].check(c.cfg, m)).toBe(`A's page 0 was last written "mine", but it now maps pfn 1 holding "other": the write was lost`);
  });

  it("deadlock: a CPU spinning with IRQs off on a PTL whose holder waits for its IPI ack", () => {
    const c = fixture({
      cpus: `  - { name: A1, process: A, runs: [{ load: { page: 0 } }] }
  - { name: A2, process: A, runs: [{ load: { page: 0 } }] }`,
      goal: "deadlock",
    });
    const m = structuredClone(c.machine);
    m.tables[0].ptl = 0;
    m.cpus[0].waitAcks = [1];
    m.cpus[0].wait = { kind: "acks" };
    m.cpus[1].irqsOff = true;
    m.cpus[1].ipis = [{ from: 0, mm: 0, start: 0, end: 1 }];
    m.cpus[1].wait = { kind: "spin", lock: { kind: "ptl", table: 0 } };
    expect(waitCycle(m)).toEqual([0, 1]);
    expect(checkOracles(c.cfg, m, ["deadlock"])?.message).toBe(
      "deadlock: CPU0 (A1) is waiting for TLB-flush IPI acks from CPU1 (A2) (IRQs off); CPU1 (A2) is spinning with IRQs off on the PTL of table 0, held by CPU0 (A1)",
    );
    // With IRQs on the IPI would have been taken: no cycle.
    m.cpus[0].waitAcks = [];
    expect(waitCycle(m)).toBeNull();
  });
});
