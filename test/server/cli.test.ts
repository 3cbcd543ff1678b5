// The server's commands as users run them: usage errors are one line and exit 2.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toCsv } from "../../src/cli/results.js";
import type { ResultRow } from "../../server/storage/port.js";

const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });

describe("faultline serve and results", () => {
  it("refuse bad arguments with one line and exit code 2", () => {
    const port = cli("serve", "--port", "99999");
    expect(port.status).toBe(2);
    expect(port.stderr).toMatch(/^faultline: bad --port "99999": expected 0-65535/);
    const results = cli("results", "--db", "/nonexistent/x.db", "--workshop", "ABCDEFGH");
    expect(results.status).toBe(2);
    expect(results.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^faultline: no database at \/nonexistent\/x\.db/)]);
  });

  it("serve --trust-proxy (and FAULTLINE_TRUST_PROXY) refuses what is not an address or ADDR/PREFIX", () => {
    const flag = cli("serve", "--port", "0", "--trust-proxy", "127.0.0.1,proxy.local");
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/^faultline: bad --trust-proxy: not an IP address or ADDR\/PREFIX: "proxy.local"/);
    const env = spawnSync(process.execPath, [BIN, "serve", "--port", "0"], { encoding: "utf8", env: { ...process.env, FAULTLINE_TRUST_PROXY: "10.0.0.0/99" } });
    expect(env.status).toBe(2);
    expect(env.stderr).toMatch(/^faultline: bad FAULTLINE_TRUST_PROXY: bad prefix length in "10.0.0.0\/99"/);
  });

  it("serve --trust-proxy says which proxies it trusts, and serves", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-serve-"));
    try {
      const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--db", join(dir, "x.db"), "--trust-proxy", "127.0.0.1, 10.0.0.0/8"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no "serving" line: ${out} ${err}`)), 10_000);
        child.stdout.on("data", (d) => {
          out += d;
          if (/serving on ws:\/\//.test(out)) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(err).toContain("clients are counted by the X-Forwarded-For of connections from 127.0.0.1, 10.0.0.0/8 (trusted proxies)");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The default (a worker thread) is what test/server/crash.test.ts runs; this is the other branch.
  it("serve with the user's own heap flags runs on the main thread and stops cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-serve-"));
    try {
      const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--db", join(dir, "x.db")], {
        env: { ...process.env, NODE_OPTIONS: "--max-semi-space-size=8" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no "serving" line: ${out} ${err}`)), 10_000);
        child.stdout.on("data", (d) => {
          out += d;
          if (/serving on ws:\/\//.test(out)) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(err).toContain("server stopped; rooms and results are saved");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("CSV quotes what needs quoting and defuses cells a spreadsheet would run", () => {
    const row = { workshop: "W", team: '=HYPERLINK("x")', room: "R", attempt: "R-1", level: "l", knobs: "a=b c=d", outcome: "won", reason: "oracle", steps: 4, par: 4, hints: 0, hintsReleased: 0, rewinds: 0, resets: 0, durationMs: 10, score: 1000, players: "ann; bo, jr", startedAt: "t0", endedAt: "t1" } satisfies ResultRow;
    const [head, line] = toCsv([row]).split("\r\n");
    expect(head.split(",")).toHaveLength(19);
    expect(line).toBe(`W,"'=HYPERLINK(""x"")",R,R-1,l,a=b c=d,won,oracle,4,4,0,0,0,0,10,1000,"ann; bo, jr",t0,t1`);
  });
});
