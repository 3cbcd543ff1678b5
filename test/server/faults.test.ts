// Issue 20: storage faults are named. A database that stops taking writes under a running
// server gives clients a typed `unavailable` (reads and watching go on), /health reports it,
// the log says it once per interval, and the server recovers when writes work again.
// The faults are real SQLite ones: query_only (SQLITE_READONLY) and max_page_count (SQLITE_FULL).
import { spawnSync } from "node:child_process";
import { request } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SqliteStorage } from "../../server/storage/sqlite.js";
import { player, server } from "./harness.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "faultline-faults-"));
  dirs.push(d);
  return d;
}

function health(port: number): Promise<{ status: number; body: { ok: boolean; storage: { ok: boolean; code?: string; error?: string } } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/health", agent: false }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the database stops taking writes", () => {
  it("read-only: unavailable to writers, reads and watching go on, /health 503, one log line, recovery", async () => {
    const lines: string[] = [];
    const s = await server({ db: join(tmp(), "f.db"), log: (l) => lines.push(l), timing: { storageProbeMs: 60_000 } });
    const db = (s.storage as SqliteStorage).db;
    const a = await player(s.url, "ada");
    const code = (await a.ok<"joined">({ type: "create", level: "basics-lost-update" })).state.room.code;
    await a.ok({ type: "claim", cpu: 0 });
    await a.ok({ type: "step", seq: a.seq, cpu: 0 });
    expect((await health(s.port)).status).toBe(200);

    db.pragma("query_only = ON");
    for (let i = 0; i < 5; i++) {
      const e = await a.refused({ type: "step", seq: a.seq, cpu: 0 }, "unavailable");
      expect(e.message).toMatch(/read-only \(SQLITE_READONLY/);
    }
    await a.refused({ type: "hint", seq: a.seq }, "unavailable");
    const h = await health(s.port);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ ok: false, storage: { ok: false, code: "SQLITE_READONLY" } });
    // Hello, join and watching need no write.
    const b = await player(s.url, "bob");
    const joined = await b.ok<"joined">({ type: "join", room: code });
    expect(joined.state.seq).toBe(a.seq);
    // A new room is a write.
    const c = await player(s.url, "cy");
    await c.refused({ type: "create", level: "basics-lost-update" }, "unavailable");
    // One line for six refusals, no stack traces.
    expect(lines.filter((l) => l.includes("storage-fault"))).toHaveLength(1);
    expect(lines.some((l) => /^\s+at /m.test(l))).toBe(false);

    db.pragma("query_only = OFF");
    expect((await health(s.port)).status).toBe(200);
    expect(lines.some((l) => l.startsWith("info storage-recovered"))).toBe(true);
    await a.ok({ type: "step", seq: a.seq, cpu: 0 });
    await b.sees(a.seq);
  });

  it("full: the refusal says the disk is full; writes work again once there is room", async () => {
    const s = await server({ db: join(tmp(), "f.db") });
    const db = (s.storage as SqliteStorage).db;
    const a = await player(s.url, "ada");
    // Fill the database to a page limit (SQLite's own "disk full"), from outside the server.
    db.exec("CREATE TABLE filler (x BLOB)");
    db.pragma(`max_page_count = ${(db.pragma("page_count", { simple: true }) as number) + 8}`);
    const fill = (sql: string, arg: (i: number) => unknown[]) => {
      try {
        for (let i = 0; ; i++) db.prepare(sql).run(...arg(i));
      } catch (e) {
        expect((e as { code: string }).code).toBe("SQLITE_FULL");
      }
    };
    fill("INSERT INTO filler VALUES (zeroblob(2000))", () => []);
    fill("INSERT INTO filler VALUES (zeroblob(20))", () => []);
    // And the rooms table's own pages, so the next room has nowhere to go.
    fill("INSERT INTO rooms (code, level, policy, versus, created_at) VALUES (?, 'x', 'manual', 0, 0)", (i) => [`FILL${i}`]);
    const e = await a.refused({ type: "create", level: "basics-lost-update" }, "unavailable");
    expect(e.message).toMatch(/the disk is full \(SQLITE_FULL/);
    db.exec("DELETE FROM filler");
    await a.ok<"joined">({ type: "create", level: "basics-lost-update" });
  });
});

describe("serve on a database it cannot open", () => {
  const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
  it("says which file and why, in one line, and exits 2", () => {
    const dir = tmp();
    const bad = join(dir, "corrupt.db");
    writeFileSync(bad, "this is not a database, whatever its name says".repeat(20));
    const r = spawnSync(process.execPath, [BIN, "serve", "--port", "0", "--db", bad], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([`faultline: cannot open the database ${bad}: the database file is damaged (SQLITE_NOTADB: file is not a database)`]);
  });
});
