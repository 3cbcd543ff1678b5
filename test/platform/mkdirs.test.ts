// mkdirs(): mkdir -p that ends. The case Node's recursive mkdir never returns
// from (a parent that exists but cannot hold children) runs in a child process
// with a deadline, so a regression fails the test instead of hanging the suite.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mkdirs } from "../../src/platform/mkdirs.js";

const dir = mkdtempSync(join(tmpdir(), "faultline-mkdirs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");

describe("mkdirs", () => {
  it("makes every missing level and accepts what exists", () => {
    const deep = join(dir, "a", "b", "c");
    mkdirs(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    mkdirs(deep);
    mkdirs(join(dir, "a"));
    expect(statSync(join(dir, "a", "b")).isDirectory()).toBe(true);
  });

  it("throws ENOTDIR under a file", () => {
    writeFileSync(join(dir, "file"), "");
    expect(() => mkdirs(join(dir, "file", "sub"))).toThrow(expect.objectContaining({ code: "ENOTDIR" }));
  });

  it("faultline serve with a database under a dangling symlink says so and exits 2 (Node's own mkdir -p spins there forever)", () => {
    symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
    const db = join(dir, "dangling", "data", "faultline.db");
    const r = spawnSync(process.execPath, [BIN, "serve", "--port", "0", "--db", db], { encoding: "utf8", timeout: 15_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`faultline: cannot open the database ${db}: ENOENT`);
  });
});
