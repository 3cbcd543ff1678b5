// Issue 18.2: the format's gaps closed: if: !param, conditional menu choices, knobs that set
// machine properties, a page's refs as a $param. And 18.1: faultline lint's key paths and lines,
// and faultline new.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileLevel } from "../src/level/compile.js";
import { lintText } from "../src/level/lint.js";
import { parseLevel } from "../src/level/load.js";
import { verifyLevel } from "../src/level/verify.js";

const BIN = join(import.meta.dirname, "..", "dist", "src", "cli", "main.js");
const cli = (args: string[], cwd?: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd });

// The tutorial level of basics-tlb-shootdown, with the shootdown as a knob: x86 against arm64.
const SHOOTDOWN = `id: lab-shootdown
title: Who has to answer?
race: basics
mode: defend
seed: null
thread: null
label: teaching
kernel: { generation: "6.x" }
machine:
  shootdown: ipi-ack
  frames: 4
  processes:
    - name: A
      vmas: [{ start: 0, pages: 2 }]
      pages: [{ page: 0, data: old }, { page: 1, data: buf }]
cpus:
  - { name: A1, process: A, tlb: [0], runs: [{ munmap: { page: 0, pages: 1 } }] }
  - { name: A2, process: A, runs: [{ pin_user_pages_fast: { page: 1, write: true } }] }
knobs:
  - id: arch
    prompt: Which machine?
    options:
      - { value: x86, label: "x86: flush IPIs, acked", expect: reachable }
      - { value: arm64, label: "arm64: TLBI broadcast", expect: safe, set: { machine: { shootdown: broadcast } } }
goal: { oracle: ipi-wait }
hints: [one, two]
intro: fixture
debrief: fixture
`;

describe("the format's knobs and conditions", () => {
  it("a knob sets machine.shootdown: x86 and arm64 in one file, each verified", () => {
    const lv = parseLevel("lab-shootdown.yaml", SHOOTDOWN);
    expect(compileLevel(lv, { arch: "x86" }).cfg.shootdown).toBe("ipi-ack");
    expect(compileLevel(lv, { arch: "arm64" }).cfg.shootdown).toBe("broadcast");
    const rows = verifyLevel(lv);
    expect(rows.map((r) => [r.knobs.arch, r.verdict, r.problems])).toEqual([
      ["x86", "reachable", []],
      ["arm64", "safe", []],
    ]);
  });

  it("if: !param runs an operation when the parameter is not true; a menu choice may be conditional", () => {
    const text = SHOOTDOWN.replace("mode: defend", "mode: defend\nparams: { pin: true }")
      .replace(
        "runs: [{ pin_user_pages_fast: { page: 1, write: true } }]",
        "runs: [{ choose: [{ pin_user_pages_fast: { page: 1, write: true }, if: pin }, { load: { page: 1 }, label: peek }, { store: { page: 1, value: z }, if: \"!pin\" }] }]",
      )
      .replace("set: { machine: { shootdown: broadcast } }", "set: { params: { pin: false } }");
    const lv = parseLevel("lab-shootdown.yaml", text);
    const a = compileLevel(lv, { arch: "x86" }).cfg.cpus[1].program[0];
    const b = compileLevel(lv, { arch: "arm64" }).cfg.cpus[1].program[0];
    expect("choose" in a && a.choose.map((c) => c.label)).toEqual(["pin_user_pages_fast", "peek"]);
    expect("choose" in b && b.choose.map((c) => c.label)).toEqual(["peek", "store"]);
    // A menu left with one choice is that operation.
    const one = parseLevel("lab-shootdown.yaml", text.replace("{ load: { page: 1 }, label: peek }, ", ""));
    const c = compileLevel(one, { arch: "x86" }).cfg.cpus[1].program[0];
    expect("choose" in c ? null : c.label).toBe("pin_user_pages_fast");
  });

  it("a page's refs may be a $param a knob sets (an extra page reference)", () => {
    const text = SHOOTDOWN.replace("mode: defend", "mode: defend\nparams: { lru: 0 }")
      .replace("{ page: 1, data: buf }", "{ page: 1, data: buf, refs: $lru }")
      .replace("set: { machine: { shootdown: broadcast } }", "set: { params: { lru: 1 } }");
    const lv = parseLevel("lab-shootdown.yaml", text);
    const refcount = (arch: string) => {
      const c = compileLevel(lv, { arch });
      const pfn = c.machine.pages.findIndex((p) => p.data === "buf");
      return c.machine.folios[pfn]!.refcount;
    };
    expect([refcount("x86"), refcount("arm64")]).toEqual([1, 2]);
  });
});

describe("faultline lint", () => {
  it("reports every problem with its key path and line", () => {
    const bad = SHOOTDOWN.replace("frames: 4", "frames: 4\n  colour: red")
      .replace("runs: [{ munmap: { page: 0, pages: 1 } }]", "runs: [{ munmap: { page: 0, pagez: 1 } }]")
      .replace("runs: [{ pin_user_pages_fast: { page: 1, write: true } }]", "runs: [{ pin_user_pages_fast: { page: 1, write: maybe } }]");
    // The schema stops first (an unknown key), with its line.
    expect(lintText("lab-shootdown.yaml", bad).problems).toEqual([{ severity: "error", path: "machine", line: 12, column: 3, message: 'unknown key "colour"' }]);
    // Then every operation's problem at once.
    const r = lintText("lab-shootdown.yaml", bad.replace("\n  colour: red", ""));
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ["cpus[0].runs[0].munmap", 17, 'unknown key "pagez" (expected page, pages)'],
      ["cpus[1].runs[0].pin_user_pages_fast.write", 18, 'expected true or false, got "maybe"'],
    ]);
  });

  it("reports independent problems of the level's meaning together", () => {
    const bad = SHOOTDOWN.replace("seed: null\nthread: null", "seed: 004_2ca8e14a342d9231.txt\nthread: null").replace("goal: { oracle: ipi-wait }", "goal: { oracle: ipi-wait }\npar: 5");
    const r = lintText("lab-shootdown.yaml", bad);
    expect(r.problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ["par", 26, "a defend level is not scored against a triggering schedule (verify never checks it); leave par out"],
      ["thread", 6, "a level with a seed cites the message it comes from (subject, date, message_id)"],
    ]);
  });

  it("reports verify's findings at the key they contradict, and a file name that is not the id", () => {
    const wrong = SHOOTDOWN.replace('label: "arm64: TLBI broadcast", expect: safe', 'label: "arm64: TLBI broadcast", expect: reachable');
    const r = lintText("lab-shootdown.yaml", wrong);
    expect(r.problems).toEqual([
      { severity: "error", path: "knobs[0].options[1].expect", line: 24, column: 57, message: "verdict safe, but the level file expects reachable", knobs: { arch: "arm64" } },
    ]);
    expect(lintText("other.yaml", SHOOTDOWN, { verify: false }).problems).toEqual([
      { severity: "error", path: "id", line: 1, column: 1, message: '"lab-shootdown" must match the file name "other" (the server finds levels by id)' },
    ]);
    expect(lintText("lab-shootdown.yaml", SHOOTDOWN)).toMatchObject({ ok: true, problems: [] });
  });

  it("warns of what is allowed but rarely meant: an access off every VMA, a knob's kernel preset dropping the file's flags", () => {
    const text = SHOOTDOWN.replace("runs: [{ pin_user_pages_fast: { page: 1, write: true } }]", "runs: [{ pin_user_pages_fast: { page: 7, write: true } }]")
      .replace('kernel: { generation: "6.x" }', 'kernel: { generation: "6.x", zap_force_flush: true }')
      .replace("set: { machine: { shootdown: broadcast } }", 'set: { machine: { shootdown: broadcast }, kernel: { generation: "5.15" } }');
    const r = lintText("lab-shootdown.yaml", text, { verify: false });
    expect(r.ok).toBe(true);
    expect(r.problems.map((p) => [p.severity, p.path, p.message])).toEqual([
      ["warning", "cpus[1].runs[0].pin_user_pages_fast.page", "page 7 is in no VMA of A: A2 dies of SIGSEGV here (if that is the point, say so in the intro)"],
      ["warning", "knobs[0].options[1].set.kernel.generation", "this setting runs the 5.15 kernel preset, so the file's kernel flags zap_force_flush do not apply under it; repeat the ones it needs in set.kernel"],
    ]);
    // An mremap destination is memory the level maps during play: no warning there.
    const moved = SHOOTDOWN.replace("runs: [{ munmap: { page: 0, pages: 1 } }]", "runs: [{ mremap: { page: 0, pages: 1, to: 5 } }, { load: { page: 5 } }]");
    expect(lintText("lab-shootdown.yaml", moved, { verify: false }).problems).toEqual([]);
  });

  it("too few page frames is reported at machine.frames, whether the start or the play runs out", () => {
    // 2 frames cannot hold the two pages; 3 can, until the store to page 2 faults one in.
    const grown = SHOOTDOWN.replace("vmas: [{ start: 0, pages: 2 }]", "vmas: [{ start: 0, pages: 3 }]").replace("runs: [{ pin_user_pages_fast: { page: 1, write: true } }]", "runs: [{ pin_user_pages_fast: { page: 1, write: true } }, { store: { page: 2, value: x } }]");
    for (const frames of [2, 3]) {
      const r = lintText("lab-shootdown.yaml", grown.replace("frames: 4", `frames: ${frames}`));
      expect(r.ok).toBe(false);
      expect(r.problems.map((p) => [p.path, p.line])).toContainEqual(["machine.frames", 11]);
    }
  });

  it("reports only the first YAML error, which the others follow from", () => {
    const r = lintText("lab-shootdown.yaml", SHOOTDOWN.replace("cpus:\n", "cpus:\n  - { name: A1, [\n"));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0].message).toMatch(/^YAML error: .*\(and \d+ more that may follow from it: fix this one first\)$/);
  });

  it("lint --json and the exit code; new starts a level from a race and a kernel that lint accepts", () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-new-"));
    try {
      const made = cli(["new", "my-vmsplice", "--race", "R7", "--kernel", "4.19"], dir);
      expect(made.status).toBe(0);
      expect(made.stdout).toBe("faultline: wrote my-vmsplice.yaml from r7-cow-either-way; edit it, then: faultline lint my-vmsplice.yaml\n");
      const text = readFileSync(join(dir, "my-vmsplice.yaml"), "utf8");
      expect(text).toMatch(/^# my-vmsplice: started by faultline new from r7-cow-either-way/);
      expect(text).toContain("id: my-vmsplice\n");
      expect(cli(["new", "my-vmsplice", "--race", "R7"], dir).stderr).toBe("faultline: my-vmsplice.yaml exists (pass --force to overwrite it, or --out FILE)\n");
      const lint = cli(["lint", "my-vmsplice.yaml", "--json"], dir);
      expect(lint.status).toBe(0);
      expect(JSON.parse(lint.stdout)).toEqual([expect.objectContaining({ file: "my-vmsplice.yaml", level: "my-vmsplice", ok: true, problems: [] })]);
      // A kernel without the bug: lint says the claim no longer holds, at goal (exit 1).
      cli(["new", "fixed-vmsplice", "--race", "R7", "--kernel", "5.9"], dir);
      const fixed = cli(["lint", "fixed-vmsplice.yaml"], dir);
      expect(fixed.status).toBe(1);
      expect(fixed.stdout).toMatch(/^fixed-vmsplice\.yaml:\d+:1: error: goal: verdict safe, but the level file expects reachable$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
