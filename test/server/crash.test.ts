// kill -9 of a real server process mid-play: what was acknowledged is in the
// database, `faultline results` exports it, and a restarted server rebuilds the rooms.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SqliteStorage } from "../../server/storage/sqlite.js";
import { TestClient } from "./client.js";
import { track } from "./harness.js";

const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const dir = mkdtempSync(join(tmpdir(), "faultline-crash-"));
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error("dist/ is missing: npm test builds it first (npm run build)");
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Start `faultline serve` on a free port; resolve with its URL once it is listening. */
function serve(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--db", db], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const t = setTimeout(() => reject(new Error(`server did not start: ${out} ${err}`)), 10_000);
    child.stderr!.on("data", (d) => (err += d));
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /serving on (ws:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ child, url: m[1] });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
}

const kill9 = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | null>((resolve) => {
    child.once("exit", (_code, signal) => resolve(signal));
    child.kill("SIGKILL");
  });

const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });

describe("kill -9 during play", () => {
  it("loses nothing acknowledged: results export, and rooms come back on restart", async () => {
    const db = join(dir, "crash.db");
    const first = await serve(db);
    const teacher = track(await TestClient.hello(first.url, "teacher"));
    const w = await teacher.ok<"workshop">({ type: "createWorkshop", title: "Crash course" });
    const id = w.workshop.id;

    // Team 1 wins; the last step's ack means its result is committed.
    const t1 = track(await TestClient.hello(first.url, "ann"));
    const r1 = (await t1.ok<"joined">({ type: "create", level: "basics-lost-update", workshop: id, team: "winners" })).state.room.code;
    await t1.ok({ type: "claim", cpu: 0 });
    await t1.ok({ type: "claim", cpu: 1 });
    for (const [seq, cpu] of [0, 1, 0, 1].entries()) await t1.ok({ type: "step", seq, cpu });
    const won = await t1.take("update", (m) => m.game.result !== null);
    // Team 2 is mid-play when the server dies.
    const t2 = track(await TestClient.hello(first.url, "bo"));
    const r2 = (await t2.ok<"joined">({ type: "create", level: "basics-lost-update", workshop: id, team: "halfway" })).state.room.code;
    await t2.ok({ type: "claim", cpu: 0 });
    await t2.ok({ type: "step", seq: 0, cpu: 0 });
    await t2.ok({ type: "step", seq: 1, cpu: 0 });

    expect(await kill9(first.child)).toBe("SIGKILL");
    await t1.closed;

    const json = cli("results", "--workshop", id, "--db", db, "--json");
    expect(json.stderr).toBe("");
    const rows = JSON.parse(json.stdout);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ workshop: id, team: "winners", room: r1, outcome: "won", steps: 4, par: 4, score: won.game.result!.score, players: "ann" });
    const csv = cli("results", "--workshop", id.toLowerCase(), "--db", db, "--csv").stdout.trim().split("\r\n");
    expect(csv[0]).toMatch(/^workshop,team,room,attempt,level,/);
    expect(csv[1]).toContain(`${id},winners,${r1},${r1}-1,basics-lost-update,`);
    expect(cli("results", "--workshop", id, "--db", db).stdout).toMatch(/winners\s+\S+\s+basics-lost-update\s+won\s+4\/4/);

    // Restart: the rooms are rebuilt from their action logs.
    const second = await serve(db);
    const back1 = track(await TestClient.hello(second.url, "ann"));
    const j1 = await back1.ok<"joined">({ type: "join", room: r1 });
    expect(j1.state.game.result).toEqual(won.game.result);
    expect(j1.state.seq).toBe(4);
    const back2 = track(await TestClient.hello(second.url, "bo"));
    const j2 = await back2.ok<"joined">({ type: "join", room: r2 });
    expect(j2.state.seq).toBe(2);
    expect(j2.state.trace.map((t) => t.cpu)).toEqual([0, 0]);
    // Play on from where it stopped (seats are claimed again: tokens do not outlive a server).
    await back2.ok({ type: "claim", cpu: 0 });
    await back2.ok({ type: "claim", cpu: 1 });
    await back2.ok({ type: "step", seq: 2, cpu: 1 });
    await back2.ok({ type: "step", seq: 3, cpu: 1 });
    const lost = await back2.take("update", (m) => m.game.result !== null);
    expect(lost.game.result).toMatchObject({ outcome: "lost", reason: "finished" });
    // A clean stop (SIGTERM) closes clients with 4001.
    second.child.kill("SIGTERM");
    const exited = new Promise<number | null>((r) => second.child.once("exit", (code) => r(code)));
    expect((await back2.closed).code).toBe(4001);
    // The server (on its worker thread) closed cleanly and the process ended with 0.
    expect(await exited).toBe(0);
    const st = new SqliteStorage(db, { mustExist: true });
    expect(st.results(id).map((r) => [r.team, r.outcome])).toEqual([
      ["winners", "won"],
      ["halfway", "lost"],
    ]);
    st.close();
  });
});
