// The tutorial in levels/README.md ("Your first level in fifteen minutes") works as written:
// its level files lint clean, the output it shows is what lint prints, and its claims hold.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "dist", "src", "cli", "main.js");
const README = readFileSync(join(ROOT, "levels", "README.md"), "utf8");
const tutorial = README.slice(README.indexOf("## Your first level in fifteen minutes"));
const dir = mkdtempSync(join(tmpdir(), "faultline-tutorial-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: dir });

/** The YAML block after <!-- tutorial: FILE -->. */
function file(name: string): string {
  const m = new RegExp(`<!-- tutorial: ${name.replace(".", "\\.")} -->\\n\`\`\`yaml\\n([\\s\\S]*?)\`\`\``).exec(tutorial);
  if (!m) throw new Error(`no tutorial block for ${name}`);
  return m[1];
}

describe("levels/README.md tutorial", () => {
  it("the hunt lints as the tutorial shows, then clean with preemptions, and its schedule fires the goal", () => {
    writeFileSync(join(dir, "lab-vmsplice.yaml"), file("lab-vmsplice.yaml"));
    const shown = /```sh\nfaultline lint lab-vmsplice\.yaml\n```\n\n```\n([\s\S]*?)```/.exec(tutorial)?.[1];
    const r = cli("lint", "lab-vmsplice.yaml");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(shown);
    writeFileSync(join(dir, "lab-vmsplice.yaml"), file("lab-vmsplice.yaml").replace("goal: { oracle: cow-isolation }\n", "goal: { oracle: cow-isolation }\npreemptions: 0\n"));
    expect(cli("lint", "lab-vmsplice.yaml").stdout).toMatch(/lab-vmsplice\.yaml: ok\n$/);
    const run = cli("run", "lab-vmsplice.yaml", "--schedule", "1*24 0*19", "--json");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).oracle).toMatchObject({ id: "cow-isolation" });
  });

  it("the defend level lints clean; a wrong expect is named at its key", () => {
    const text = file("lab-vmsplice-fix.yaml");
    writeFileSync(join(dir, "lab-vmsplice-fix.yaml"), text);
    const r = cli("lint", "lab-vmsplice-fix.yaml");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/kernel=v4_19: reachable .*\n.*kernel=v5_8: safe \(\d+ states\).*\n.*kernel=v5_9: safe \(\d+ states\).*\n.*: ok\n$/);
    writeFileSync(join(dir, "lab-vmsplice-fix.yaml"), text.replace('label: "4.19: reuse when mapcount is 1", expect: reachable', 'label: "4.19: reuse when mapcount is 1", expect: safe'));
    const bad = cli("lint", "lab-vmsplice-fix.yaml");
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("knobs[0].options[0].expect: verdict reachable, but the level file expects safe");
  });
});
