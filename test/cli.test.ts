// The faultline binary as users run it (the built dist/, as `npm start` runs it).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const BIN = join(import.meta.dirname, "..", "dist", "src", "cli", "main.js");

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectUsageError(r: ReturnType<typeof cli>, text: string | RegExp) {
  expect(r.code).toBe(2);
  expect(r.out).toBe("");
  const lines = r.err.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^faultline: /);
  expect(lines[0]).toMatch(text);
  expect(r.err).not.toMatch(/\n\s+at /);
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error("dist/ is missing: npm test builds it first (npm run build)");
});

describe("faultline levels", () => {
  it("--json lists the campaign in order with id, title, mode, race and seed", () => {
    const r = cli("levels", "--json");
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out);
    expect(list[0]).toEqual({ id: "basics-lost-update", title: "Two CPUs, one counter", mode: "hunt", race: "basics", seed: null });
    expect(list.find((l: { id: string }) => l.id === "r5-six-steps")).toEqual({
      id: "r5-six-steps",
      title: "The pinned page that moved",
      mode: "hunt",
      race: "R5",
      seed: "004_2ca8e14a342d9231.txt",
    });
    for (const l of list) expect(Object.keys(l).sort()).toEqual(["id", "mode", "race", "seed", "title"]);
  });
});

describe("faultline verify", () => {
  it("--json gives one row per knob setting with the schedule in run syntax", () => {
    const r = cli("verify", "basics-spinlock", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([
      {
        level: "basics-spinlock",
        knobs: { lock: "none" },
        verdict: "reachable",
        expected: "reachable",
        states: 12,
        schedule: "0 1 0 1",
        steps: 4,
        preemptions: null,
        parPreemptions: null,
        par: null,
        shortest: null,
        problems: [],
      },
      {
        level: "basics-spinlock",
        knobs: { lock: "spin_lock" },
        verdict: "safe",
        expected: "safe",
        states: 24,
        schedule: null,
        steps: null,
        preemptions: null,
        parPreemptions: null,
        par: null,
        shortest: null,
        problems: [],
      },
    ]);
  });

  it("checks a versus level like a hunt: the goal reachable, par the shortest schedule", () => {
    const r = cli("verify", join(import.meta.dirname, "fixtures", "versus-lost-update.yaml"), "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([
      {
        level: "versus-lost-update",
        knobs: {},
        verdict: "reachable",
        expected: "reachable",
        states: expect.any(Number),
        schedule: "1 0*2 1",
        steps: 4,
        preemptions: 1,
        parPreemptions: null,
        par: 4,
        shortest: 4,
        problems: [],
      },
    ]);
    const run = cli("run", join(import.meta.dirname, "fixtures", "versus-lost-update.yaml"), "--schedule", "0 1 0 1");
    expect(run.code).toBe(0);
    expect(run.out).toContain("(versus-lost-update: versus, basics");
  });

  it("exits 1 and says why when a level file's claim is wrong", () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-"));
    const src = readFileSync(join(import.meta.dirname, "..", "levels", "basics-lost-update.yaml"), "utf8");
    const file = join(dir, "basics-lost-update.yaml");
    writeFileSync(file, src.replace("par: 4", "par: 3"));
    const r = cli("verify", file);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/MISMATCH/);
    expect(r.err).toBe("faultline: basics-lost-update -: the shortest schedule takes 4 steps, but par (steps) is 3\n");
    writeFileSync(file, src.replace("preemptions: 1", "preemptions: 0"));
    const p = cli("verify", file);
    expect(p.code).toBe(1);
    expect(p.err).toBe("faultline: basics-lost-update -: the fewest preemptions of a triggering schedule is 1, but the file's preemptions (par) is 0\n");
  });

  it("a level the model cannot say is an ERROR row; the other levels are still verified; exit 1 (issue 15)", () => {
    const bad = join(import.meta.dirname, "fixtures", "anachronisms", "pin-user-pages-before-56.yaml");
    const r = cli("verify", bad, "basics-lost-update");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/pin-user-pages-before-56\.yaml .*ERROR/);
    expect(r.out).toMatch(/basics-lost-update .*reachable .*ok/);
    expect(r.err).toContain("cpus[0].runs[0].pin_user_pages: pin_user_pages() and FOLL_PIN arrived in 5.6 (eddb1c228f79); this level runs kernel 4.19");
  });
});

describe("faultline run", () => {
  it("--json reports every step and the oracle that fired", () => {
    const r = cli("run", "basics-lost-update", "--schedule", "0 1 0 1", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.level).toBe("basics-lost-update");
    expect(j.steps).toHaveLength(4);
    expect(j.steps[0]).toMatchObject({ step: 1, actor: "CPU0 (T0)", cpu: 0, fn: "counter_inc", line: "tmp = READ_ONCE(counter);", blocked: false });
    // counter stays 1 (no change listed): that is the lost update.
    expect(j.steps[3].changes).toEqual(["increments = 2", "CPU1 finished"]);
    expect(j.oracle).toEqual({ id: "lost-update", message: "counter is 1 after 2 completed increments: an update was lost", step: 4 });
  });

  it("N+ runs a CPU to its next decision, as the game's Enter key does", () => {
    const r = cli("run", "basics-lost-update", "--schedule", "1+ 0+ 1+", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.steps.map((s: { cpu: number }) => s.cpu)).toEqual([1, 0, 0, 1]);
    expect(j.oracle).toMatchObject({ id: "lost-update", step: 4 });
    const bad = cli("run", "basics-lost-update", "--schedule", "d+");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/the DMA device writes once; it has no run/);
  });

  it("prints a readable trace, with knobs", () => {
    const r = cli("run", "basics-spinlock", "--knob", "lock=spin_lock", "--schedule", "0 1 1 0 0 0 1 1 1 1");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/blocked: spinning on counter_lock, held by CPU0 \(T0\)/);
    expect(r.out).toMatch(/No oracle fired; every CPU finished/);
  });

  // One test per input: each spawns the CLI, which takes seconds on a loaded machine.
  const bad: [string[], string | RegExp][] = [
    [["run", "no-such-level", "--schedule", "0"], 'unknown level "no-such-level"'],
    [["run", "basics-lost-update", "--schedule", "0 x"], 'bad schedule token "x"'],
    [["run", "basics-lost-update", "--schedule", "0 0 0"], "step 3: CPU0 (T0) has finished"],
    [["run", "basics-lost-update", "--schedule", "5"], "step 1: there is no CPU5: this level has CPUs 0-1"],
    [["run", "basics-lost-update", "--schedule", "0:fork"], "step 1: CPU0 (T0) has no menu here"],
    [["run", "r5-six-steps", "--schedule", "2"], "step 1: CPU2 (B) cannot run: B has not been forked yet"],
    [["run", "basics-spinlock", "--knob", "lock=maybe", "--schedule", "0"], 'knob lock has no value "maybe" (values: none, spin_lock)'],
    [["run", "basics-lost-update", "--knob", "x=y", "--schedule", "0"], "level basics-lost-update has no knobs"],
    [["run", "basics-lost-update"], "run needs --schedule"],
    [["run", "basics-lost-update", "--schedule", "0", "--bogus"], /unknown option '--bogus'/],
    [["frobnicate"], 'unknown command "frobnicate"'],
  ];
  for (const [args, why] of bad) {
    it(`rejects bad input with one line on stderr and exit 2: ${args.join(" ")}`, () => expectUsageError(cli(...args), why));
  }
});

describe("faultline with no arguments", () => {
  it("without a terminal on stdin, exits 2 with a message pointing to faultline run", () => {
    const r = cli();
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^faultline: the game needs a terminal, and standard input is not one\./);
    expect(r.err).toContain("faultline run LEVEL --schedule S");
    expect(r.err).not.toMatch(/\n\s+at /);
    const j = cli("join", "ws://127.0.0.1:9");
    expect(j.code).toBe(2);
    expect(j.err).toContain("faultline run LEVEL --schedule S");
    const help = cli("--help");
    expect(help.out).toMatch(/^ {2}faultline +play solo: an embedded server, bots, and the game in this terminal$/m);
    expect(help.out).toContain("faultline join URL [--room CODE [--watch]] [--name NAME]");
  });

  it("demo still plays the first tutorial to its lost update and exits 0", () => {
    const r = cli("demo");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Two CPUs, one counter/);
    expect(r.out).toMatch(/ORACLE lost-update fired at step 4/);
    expect(r.out).toMatch(/faultline levels/);
  });

  it("--help lists the commands", () => {
    const r = cli("--help");
    expect(r.code).toBe(0);
    for (const c of ["levels", "verify", "run"]) expect(r.out).toContain(`faultline ${c}`);
  });
});
