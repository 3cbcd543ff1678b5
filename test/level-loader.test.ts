// Level files are validated on load; every error names the file, the key and what was expected.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadLevelFile, parseLevel } from "../src/level/load.js";
import { verifySetting } from "../src/level/verify.js";
import { fixtureYaml } from "./helpers.js";

const base = { cpus: `  - { name: A1, process: A, runs: [{ pin_user_pages: { page: 0, write: false } }] }`, device: "device: { dma: { writes: payload } }" };
const load = (text: string) => () => parseLevel("bad.yaml", text);

describe("level loader", () => {
  it("accepts the fixture", () => {
    expect(parseLevel("ok.yaml", fixtureYaml(base)).id).toBe("fixture");
  });

  it("rejects an unknown key, naming the file and where", () => {
    expect(load(fixtureYaml({ ...base, extra: "colour: blue" }))).toThrow('bad.yaml: (top level): unknown key "colour"');
    const t = fixtureYaml(base).replace("shootdown: ipi-ack", "shootdown: ipi-ack\n  cache: big");
    expect(load(t)).toThrow('bad.yaml: machine: unknown key "cache"');
  });

  it("rejects a bad value with what was expected", () => {
    expect(load(fixtureYaml(base).replace("mode: hunt", "mode: attack"))).toThrow(/bad\.yaml: mode: Invalid option: expected one of "hunt"\|"defend"\|"versus"/);
    expect(load(fixtureYaml(base).replace("frames: 8", "frames: 1"))).toThrow(/bad\.yaml: machine\.frames: Too small/);
    expect(load(fixtureYaml({ ...base, generation: "5.10" }))).toThrow(/bad\.yaml: kernel\.generation: Invalid option/);
  });

  it("rejects unknown operations and arguments", () => {
    expect(load(fixtureYaml({ ...base, cpus: `  - { name: A1, process: A, runs: [forkk] }` }))).toThrow('bad.yaml: cpus[0].runs[0]: unknown operation "forkk"');
    expect(load(fixtureYaml({ ...base, cpus: `  - { name: A1, process: A, runs: [{ store: { page: 0 } }] }` }))).toThrow("bad.yaml: cpus[0].runs[0].store.value: missing");
    expect(load(fixtureYaml({ ...base, cpus: `  - { name: A1, process: A, runs: [{ store: { page: 0, value: x, size: 8 } }] }` }))).toThrow('bad.yaml: cpus[0].runs[0].store: unknown key "size"');
    expect(load(fixtureYaml({ ...base, cpus: `  - { name: A1, process: A, runs: [{ pin_user_pages: { page: 0, write: $w } }] }` }))).toThrow("parameter $w is not declared under params");
  });

  it("checks references between sections", () => {
    expect(load(fixtureYaml({ ...base, cpus: `  - { name: A1, process: Z, runs: [fork] }` }))).toThrow("bad.yaml: cpus[0].process: no process called Z");
    expect(load(fixtureYaml({ ...base, cpus: `  - { name: A1, process: A, runs: [exit, fork] }` }))).toThrow("exit must be the last operation");
    expect(
      load(fixtureYaml({ ...base, cpus: `  - { name: A1, process: A, runs: [exit] }\n  - { name: A2, process: A, runs: [fork] }`, device: "" })),
    ).toThrow("exit tears down the whole mm");
    expect(load(fixtureYaml({ ...base, cpus: `  - { name: A1, process: A, runs: [fork] }` }))).toThrow("device.dma: no CPU ever pins a page");
    expect(load(fixtureYaml(base).replace("par: 1\n", "preemptions: -1\n"))).toThrow("bad.yaml: preemptions:");
  });

  it("reports YAML syntax errors with their line", () => {
    expect(load("id: x\n  bad: [")).toThrow(/bad\.yaml: YAML error: .*line/);
  });
});

describe("versus levels", () => {
  const sided = (a: string, b: string) => `  - { name: A1, process: A, ${a}runs: [{ pin_user_pages: { page: 0, write: false } }] }\n  - { name: A2, process: A, ${b}runs: [{ store: { page: 0, value: x } }] }`;
  const versus = (cpus: string) => fixtureYaml({ ...base, cpus }).replace("mode: hunt", "mode: versus");

  it("accepts a versus level whose CPUs all have a side, red and blue", () => {
    const lv = parseLevel("ok.yaml", versus(sided("side: red, ", "side: blue, ")));
    expect(lv.mode).toBe("versus");
    expect(lv.cpus.map((c) => c.side)).toEqual(["red", "blue"]);
  });

  it("rejects a CPU without a side, naming the file, the CPU and the key", () => {
    expect(load(versus(sided("side: red, ", "")))).toThrow("bad.yaml: cpus[1].side: a versus level gives every CPU a side (red or blue); A2 has none");
  });

  it("rejects a versus level with only one side", () => {
    expect(load(versus(sided("side: red, ", "side: red, ")))).toThrow("bad.yaml: cpus: a versus level needs at least one blue CPU (side: blue)");
    expect(load(versus(sided("side: blue, ", "side: blue, ")))).toThrow("bad.yaml: cpus: a versus level needs at least one red CPU (side: red)");
  });

  it("rejects a bad side, and asks for no knobs as a hunt does", () => {
    expect(load(versus(sided("side: green, ", "side: blue, ")))).toThrow(/bad\.yaml: cpus\[0\]\.side: Invalid option: expected one of "red"\|"blue"/);
    expect(load(versus(sided("side: red, ", "side: blue, ")).replace("goal: { oracle: lost-dma-write }", "goal: { oracle: lost-dma-write, expect: safe }"))).toThrow(
      "bad.yaml: goal.expect: a versus level's race must be reachable",
    );
  });

  it("is verified like a hunt: the goal is reachable and par is the shortest schedule", () => {
    const lv = loadLevelFile(join(import.meta.dirname, "fixtures", "versus-lost-update.yaml"));
    const row = verifySetting(lv, {});
    expect(row).toMatchObject({ verdict: "reachable", expected: "reachable", steps: 4, preemptions: 1, par: 4, shortest: 4, problems: [] });
    const wrong = parseLevel("fixtures/versus-lost-update.yaml", readFileSync(join(import.meta.dirname, "fixtures", "versus-lost-update.yaml"), "utf8").replace("par: 4", "par: 3"));
    expect(verifySetting(wrong, {}).problems).toEqual(["the shortest schedule takes 4 steps, but par (steps) is 3"]);
  });
});
