// The server's commands as users run them: usage errors are one line and exit 2.
import { spawnSync } from "node:child_process";
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

  it("CSV quotes what needs quoting and defuses cells a spreadsheet would run", () => {
    const row = { workshop: "W", team: '=HYPERLINK("x")', room: "R", attempt: "R-1", level: "l", knobs: "a=b c=d", outcome: "won", reason: "oracle", steps: 4, par: 4, hints: 0, rewinds: 0, resets: 0, durationMs: 10, score: 1000, players: "ann; bo, jr", startedAt: "t0", endedAt: "t1" } satisfies ResultRow;
    const [head, line] = toCsv([row]).split("\r\n");
    expect(head.split(",")).toHaveLength(18);
    expect(line).toBe(`W,"'=HYPERLINK(""x"")",R,R-1,l,a=b c=d,won,oracle,4,4,0,0,0,10,1000,"ann; bo, jr",t0,t1`);
  });
});
