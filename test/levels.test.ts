// Every level file, every knob setting: the explorer agrees with what the file claims.
import { describe, expect, it } from "vitest";
import { compileLevel, knobSettings } from "../src/level/compile.js";
import { loadCampaign } from "../src/level/load.js";
import { verifySetting } from "../src/level/verify.js";
import { allPaths, getPath, resolvePath } from "../src/sim/path.js";
import { runSchedule } from "../src/sim/runner.js";
import { parseSchedule } from "../src/sim/schedule.js";

const campaign = loadCampaign();

describe("the campaign", () => {
  it("starts with the tutorials and names a race and mode for every level", () => {
    expect(campaign[0].race).toBe("basics");
    for (const l of campaign) {
      expect(["basics", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "mixed"]).toContain(l.race);
      // A level from a thread names its seed; one whose source is not a seed thread cites it under thread.
      if (l.race !== "basics") expect(l.seed !== null || l.thread !== null, l.id).toBe(true);
      if (l.seed !== null) expect(l.seed).toMatch(/^\d{3}_[0-9a-f]+\.txt$/);
    }
  });

  for (const level of campaign) {
    for (const knobs of knobSettings(level)) {
      const name = `${level.id} ${JSON.stringify(knobs)}`;
      it(`${name}: verdict and par as the level file says`, () => {
        const row = verifySetting(level, knobs);
        expect(row.problems).toEqual([]);
        expect(row.verdict).toBe(row.expected);
        if (row.verdict === "reachable") {
          // The counterexample replays to the goal oracle through the public run path.
          const c = compileLevel(level, knobs);
          const r = runSchedule(c.cfg, c.machine, parseSchedule(row.schedule!), c.oracles);
          expect(r.violation?.oracle).toBe(row.oracle!.id);
          expect(r.violation?.step).toBe(row.steps);
        }
      });
    }
  }
});

describe("kernel paths shown to players", () => {
  it("every registered path names its function, source and generation, and every line is non-empty", () => {
    for (const p of allPaths()) {
      if (p.source === "test") continue;
      expect(p.name).toMatch(/\S/);
      expect(p.source).toMatch(/^(mm|kernel|arch|fs|include)\/|^user space$|^teaching example/);
      expect(p.generation).toMatch(/\S/);
      for (const s of p.steps) if (typeof s.line === "string") expect(s.line.trim().length).toBeGreaterThan(0);
    }
  });

  it("each generation resolves do_wp_page to the variant races.md describes (P14)", () => {
    // r7 runs on every one of these kernels (vmsplice, fork, munmap, stores); r5 pins, and 4.19 had no FOLL_PIN.
    const lv = campaign.find((l) => l.id === "r7-cow-either-way")!;
    const at = (generation: "4.19" | "5.9" | "5.19") => getPath(resolvePath("do_wp_page", compileLevel({ ...lv, kernel: { generation } }).cfg)).steps.map((s) => s.line).join("\n");
    expect(at("4.19")).toMatch(/reuse_swap_page/);
    expect(at("4.19")).not.toMatch(/page_count/);
    expect(at("5.9")).toMatch(/page_count\(page\) != 1\) goto copy/);
    expect(at("5.19")).toMatch(/PageAnonExclusive\(page\)\) goto reuse/);
    expect(at("5.19")).toMatch(/unshare/);
  });
});
