// Issue 15: what the outside review found wrong in what the game says, and what
// the model must refuse (one test per item that has behaviour to check).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileLevel } from "../src/level/compile.js";
import { LevelError, loadCampaign, parseLevel } from "../src/level/load.js";
import { verifyLevel } from "../src/level/verify.js";
import { cpuStatus, step } from "../src/sim/engine.js";
import { explore } from "../src/sim/explore.js";
import { runSchedule } from "../src/sim/runner.js";
import { getPte } from "../src/sim/machine.js";
import { checkOracles } from "../src/sim/oracles.js";
import { resolvePath } from "../src/sim/path.js";
import { pte_pfn, pte_write } from "../src/sim/pte.js";
import { parseSchedule } from "../src/sim/schedule.js";
import { fixture, runOp } from "./helpers.js";

const campaign = loadCampaign();
const level = (id: string) => campaign.find((l) => l.id === id)!;

describe("item 3: the status text puts IRQs off on the CPU that has them off", () => {
  it("R4's deadlock: C1 spins with IRQs off on the PTL that C0 holds (C0 has IRQs on)", () => {
    const lv = level("r4-spf-deadlock");
    const c = compileLevel(lv);
    const r = explore(c.cfg, c.machine, { oracles: c.oracles });
    expect(r.verdict).toBe("reachable");
    const run = runSchedule(c.cfg, c.machine, r.schedule!, c.oracles);
    expect(run.violation?.oracle).toBe("deadlock");
    const m = run.m;
    expect(m.cpus[0].irqsOff).toBe(false);
    expect(m.cpus[1].irqsOff).toBe(true);
    const c1 = cpuStatus(c.cfg, m, 1).text;
    expect(c1).toMatch(/^spinning with IRQs off on the PTL of table 0, held by CPU0 \(C0\)$/);
    expect(cpuStatus(c.cfg, m, 0).text).toMatch(/waiting for TLB-flush IPI acks from CPU1 \(C1\) \(IRQs off\)/);
    expect(run.violation!.message).not.toMatch(/held by CPU0 \(C0\) with IRQs off/);
  });
});

describe("item 2: R8's oracle and debrief say which rule broke, and do not claim the anon_vma case", () => {
  const lv = level("r8-per-vma-fork");
  const c = compileLevel(lv);

  it("the review's schedule (fork finishes the PTE, then an ordinary COW) fires the rule, named as a rule", () => {
    const run = runSchedule(c.cfg, c.machine, parseSchedule("0*20 1*25"), c.oracles);
    expect(run.violation?.oracle).toBe("fork-source-changed");
    const msg = run.violation!.message;
    expect(msg).toContain("We must not take any concurrent page faults on the source vma's as they are being processed");
    expect(msg).toContain("fb49c455323f");
    // Why it is harmful in general; it never says this copy lost data.
    expect(msg).toMatch(/anon_vma_fork\(\) before the copy/);
    expect(msg).toMatch(/stale TLB entry/);
    expect(msg).not.toMatch(/lost|corrupt/);
    // Nothing was lost here: A's page 0 holds A's data, the child still maps the original.
    expect(run.m.mms[0].vmas[0].anonVma).toBe(true);
  });

  it("the VMA had an anon_vma from the start, and 6.4 refuses a per-VMA fault without one: the debrief says so", () => {
    expect(c.machine.mms[0].vmas[0].anonVma).toBe(true);
    expect(lv.debrief).toMatch(/This machine cannot show that case/);
    expect(lv.debrief).toMatch(/6\.4\.3 shipped with the fork fixes and with\s+"mm: disable CONFIG_PER_VMA_LOCK until its fixed" \(f96c48670319\)/);
    expect(lv.debrief).not.toMatch(/6\.4\.2 was\s+briefly shipped/);
    expect(lv.seed).toBeNull();
  });

  it("r8-vma-start-write: 6.4.3 is the kernel with per-VMA locks off; 6.5 has them on with the fork fix", () => {
    const d = level("r8-vma-start-write");
    const opts = d.knobs[0].options;
    const v643 = opts.find((o) => o.value === "v6_4_3")!;
    expect(v643.set.kernel).toEqual({ per_vma_lock: false });
    expect(v643.label).toMatch(/BROKEN/);
    const v65 = opts.find((o) => o.value === "v6_5")!;
    const k = compileLevel(d, { fix: "v6_5" }).cfg.kernel;
    expect([k.per_vma_lock, k.fork_vma_start_write]).toEqual([true, true]);
    expect(v65.label).toMatch(/^6\.5/);
  });
});

describe("item 8: 6.9's batched fork copies a page pinned before fork for the child (no internal error)", () => {
  const pinThenFork = (pages: string) =>
    fixture({
      generation: "6.9",
      frames: 16,
      processes: `    - name: A
      vmas: [{ start: 0, pages: 4 }]
      pages: [${pages}]
    - { name: B, child_of: A }`,
      cpus: `  - { name: A1, process: A, runs: [{ pin_user_pages: { page: 0, write: true } }, fork] }`,
      goal: "pin-shared",
    });

  for (const [what, pages] of [
    ["a small folio", "{ page: 0, data: x }"],
    ["a 4-page large folio (the batch fails with -EAGAIN, the retry copies one page)", "{ page: 0, data: x, nr: 4 }"],
  ] as const) {
    it(what, () => {
      const c = pinThenFork(pages);
      expect(resolvePath("copy_pte_range", c.cfg)).toBe("copy_pte_range@6.9");
      let m = runOp(c, c.machine, 0); // pin
      const pinned = m.pins[0].pfn;
      m = runOp(c, m, 0); // fork, to the end
      const parent = getPte(m, c.cfg, 0, 0);
      const child = getPte(m, c.cfg, 1, 0);
      expect(pte_pfn(parent)).toBe(pinned);
      expect(pte_write(parent)).toBe(true); // the parent keeps its pinned page, writable
      expect(pte_pfn(child)).not.toBe(pinned); // the child got a copy ...
      expect(m.pages[pte_pfn(child)].data).toBe("x"); // ... of the data
      expect(m.pages[pinned].anonExclusive).toBe(true);
      expect(checkOracles(c.cfg, m, ["pin-shared", "pin-cowed-away"])).toBeNull();
      // A large folio is maybe-pinned as a whole (_pincount): each of its exclusive pages fails the
      // batch again and is copied on the retry, so the parent keeps all four, writable.
      if (pages.includes("nr: 4")) {
        for (let va = 1; va < 4; va++) {
          expect(pte_pfn(getPte(m, c.cfg, 0, va))).toBe(pinned + va);
          expect(pte_write(getPte(m, c.cfg, 0, va))).toBe(true);
          expect(pte_pfn(getPte(m, c.cfg, 1, va))).not.toBe(pinned + va);
        }
      }
      const ex = explore(c.cfg, c.machine, { oracles: ["pin-shared", "pin-cowed-away"] });
      expect(ex.verdict).toBe("safe");
    });
  }
});

describe("item 9: what the model cannot say is refused at load time, by key and version", () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "anachronisms");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

  it("has a level file per refused anachronism", () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const f of files) {
    it(f, () => {
      const text = readFileSync(join(dir, f), "utf8");
      const m = /^# refused: (.+?) \| (.+)$/m.exec(text)!;
      expect(m, "the file says what it expects").not.toBeNull();
      let err: unknown = null;
      try {
        parseLevel(`anachronisms/${f}`, text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LevelError);
      const msg = (err as Error).message;
      expect(msg.startsWith(`anachronisms/${f}: `)).toBe(true);
      expect(msg).toContain(m[1]); // the key (or the knob option) that brings it
      expect(msg).toContain(m[2]); // the version or the reason
    });
  }

  it("every campaign level loads, and compiling a setting checks it too (no internal error during play)", () => {
    expect(campaign.length).toBeGreaterThan(20);
    const lv = level("r5-six-steps");
    expect(() => compileLevel({ ...lv, kernel: { generation: "4.19" } })).toThrow(/cpus\[0\]\.runs\[0\]\.pin_user_pages: pin_user_pages\(\) and FOLL_PIN arrived in 5\.6/);
  });
});

describe("item 9: verify reports a failing setting as an error row and goes on", () => {
  it("a setting that throws is an error row; the others are explored; the exit code is non-zero", () => {
    const lv = level("r8-vma-start-write");
    // A setting the file cannot make (a broken level object), among good ones.
    const broken = { ...lv, knobs: [{ ...lv.knobs[0], options: [...lv.knobs[0].options, { ...lv.knobs[0].options[0], value: "bad", set: { kernel: { generation: "5.15" as const, per_vma_lock: true } } }] }] };
    const rows = verifyLevel(broken);
    expect(rows.map((r) => r.verdict)).toEqual(["reachable", "safe", "safe", "error"]);
    expect(rows[3].problems[0]).toMatch(/per_vma_lock|arrived in 6\.4/);
    expect(rows.slice(0, 3).every((r) => r.problems.length === 0)).toBe(true);
  });
});

describe("item 4: r3 says what its shortest schedule shows, and the concurrent window it describes is reachable", () => {
  it("pin first, fork checks the mark and shares, mark too late: the pin ends in the shared table", () => {
    const lv = level("r3-cow-page-tables");
    const c = compileLevel(lv);
    expect(lv.debrief).toMatch(/What the shortest schedule shows is not a race/);
    let m = c.machine;
    let fired: string | null = null;
    const go = (cpu: number, k: number) => {
      for (let i = 0; i < k && !fired; i++) {
        if (m.cpus[cpu].done) return;
        const r = step(c.cfg, m, { cpu });
        if (r.ev.blocked) return;
        m = r.m;
        fired = checkOracles(c.cfg, m, c.oracles)?.message ?? null;
      }
    };
    go(0, 5); // A1: GUP-fast has pinned (refcount 1025) and not yet marked the table
    expect(m.folios[1]!.refcount).toBeGreaterThanOrEqual(1025);
    expect(m.tables[0].cowExclusive).toBeFalsy();
    go(1, 13); // A2: fork checks the mark (unset) and shares the table
    expect(m.tables[0].refcount).toBe(2);
    for (let r = 0; r < 10 && !fired; r++) {
      go(0, 200);
      go(1, 200);
    }
    expect(fired).toMatch(/pinned by A .* shared by A and B/);
  });
});
