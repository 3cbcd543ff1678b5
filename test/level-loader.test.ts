// Level files are validated on load; every error names the file, the key and what was expected.
import { describe, expect, it } from "vitest";
import { parseLevel } from "../src/level/load.js";
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
    expect(load(fixtureYaml(base).replace("mode: hunt", "mode: attack"))).toThrow(/bad\.yaml: mode: Invalid option: expected one of "hunt"\|"defend"/);
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
    expect(load(fixtureYaml(base).replace("par: 1\n", ""))).toThrow("bad.yaml: par: a hunt level needs par");
  });

  it("reports YAML syntax errors with their line", () => {
    expect(load("id: x\n  bad: [")).toThrow(/bad\.yaml: YAML error: .*line/);
  });
});
