// Custom levels (issue 18.3): serve --levels DIR offers the files that load and verify and names
// the broken ones; an instructor's workshop plays its own list; a room on a custom level plays to
// a result that faultline results exports.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { loadLevelsDir } from "../../src/level/custom.js";
import { loadCampaign } from "../../src/level/load.js";
import { player, server, track } from "./harness.js";
import { TestClient } from "./client.js";

const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const DIR = join(import.meta.dirname, "..", "fixtures", "custom-levels");

describe("custom levels", () => {
  it("loadLevelsDir keeps the level that verifies and names each broken file with its problem", () => {
    const campaign = loadCampaign().map((l) => l.id);
    const r = loadLevelsDir(DIR, campaign);
    expect(r.levels.map((l) => [l.id, l.source])).toEqual([["lab-vmsplice", "custom: lab-vmsplice.yaml"]]);
    expect(r.skipped).toEqual([
      { file: "broken-key.yaml", problems: ['machine: unknown key "colour"'] },
      { file: "broken-par.yaml", problems: ["verify: the fewest preemptions of a triggering schedule is 0, but the file's preemptions (par) is 2"] },
    ]);
    // A file whose id is already offered (here: the campaign's) is skipped too, not a crash.
    const clash = loadLevelsDir(DIR, [...campaign, "lab-vmsplice"], { verify: false });
    expect(clash.skipped.find((s) => s.file === "lab-vmsplice.yaml")?.problems).toEqual(["id: lab-vmsplice is already offered (a campaign level, or another file); rename it"]);
  });

  it("serve --levels: the good file is offered (source custom), the broken ones are named; a workshop on it plays to a result in faultline results", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-custom-"));
    const db = join(dir, "x.db");
    try {
      const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--db", db, "--levels", DIR], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const url = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no "serving" line: ${out} ${err}`)), 20_000);
        child.stdout.on("data", (d) => {
          out += d;
          const m = /serving on (ws:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(t);
            resolve(m[1]);
          }
        });
      });
      // The server runs on a worker thread: its stderr may arrive after the serving line.
      for (let i = 0; i < 200 && !err.includes("custom level from"); i++) await new Promise((r) => setTimeout(r, 25));
      expect(err).toContain('faultline: skipped broken-key.yaml: machine: unknown key "colour"');
      expect(err).toContain("faultline: skipped broken-par.yaml: verify: the fewest preemptions of a triggering schedule is 0, but the file's preemptions (par) is 2");
      expect(err).toContain(`faultline: 1 custom level from ${DIR}: lab-vmsplice (2 skipped)`);

      const teacher = track(await TestClient.connect(url));
      teacher.send({ type: "hello", protocol: [PROTOCOL_VERSION], name: "teacher" });
      const welcome = await teacher.take("welcome");
      const ids = welcome.levels.map((l) => l.id);
      expect(ids).toContain("lab-vmsplice");
      expect(ids).not.toContain("broken-key");
      expect(ids).not.toContain("broken-par");
      expect(welcome.levels.find((l) => l.id === "lab-vmsplice")).toMatchObject({ source: "custom: lab-vmsplice.yaml", mode: "hunt", race: "R7", parPreemptions: 0 });
      expect(welcome.levels[0].source).toBe("campaign");

      await teacher.refused({ type: "createWorkshop", title: "Lab", levels: ["no-such"] }, "no-such-level");
      const w = await teacher.ok<"workshop">({ type: "createWorkshop", title: "Lab", levels: ["lab-vmsplice"] });
      expect(w.workshop.levels).toEqual(["lab-vmsplice"]);
      const id = w.workshop.id;

      const team = track(await TestClient.hello(url, "ada"));
      const no = await team.refused({ type: "create", level: "basics-lost-update", workshop: id, team: "A" }, "no-such-level");
      expect(no.message).toBe(`workshop ${id} plays only lab-vmsplice`);
      const j = await team.ok<"joined">({ type: "create", level: "lab-vmsplice", workshop: id, team: "A" });
      expect(j.state.room.level.id).toBe("lab-vmsplice");
      await team.ok({ type: "claim", cpu: 0 });
      await team.ok({ type: "claim", cpu: 1 });
      // The schedule lint reports for the level: 1*24 0*19.
      // The real server's limit is 20 messages a second: pace the steps under it.
      for (const cpu of [...Array(24).fill(1), ...Array(19).fill(0)]) {
        await team.ok({ type: "step", seq: team.seq, cpu });
        await new Promise((r) => setTimeout(r, 55));
      }
      const over = await team.take("update", (m) => m.game.result !== null);
      expect(over.game.result).toMatchObject({ outcome: "won", reason: "oracle", preemptions: 0, parPreemptions: 0 });

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      const res = spawnSync(process.execPath, [BIN, "results", "--workshop", id, "--json", "--db", db], { encoding: "utf8" });
      expect(res.status).toBe(0);
      const rows = JSON.parse(res.stdout) as { level: string; outcome: string; team: string; steps: number }[];
      expect(rows).toEqual([expect.objectContaining({ level: "lab-vmsplice", outcome: "won", team: "A", steps: 43 })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("a room on a custom level", () => {
  it("works like any other: the knob, the adversary bot, hints, the result and debrief; next stays within the custom levels", async () => {
    const custom = loadLevelsDir(join(import.meta.dirname, "..", "fixtures", "custom-defend"), []);
    expect(custom.skipped).toEqual([]);
    const s = await server({ levels: [...loadCampaign(), ...custom.levels] });
    const p = await player(s.url, "ada");
    const j = await p.ok<"joined">({ type: "create", level: "lab-vmsplice-fix" });
    expect(j.state.room).toMatchObject({ policy: "adversary", level: { id: "lab-vmsplice-fix", mode: "defend" } });
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "knob", seq: p.seq, knob: "kernel", value: "v5_9" });
    await p.ok({ type: "start", seq: p.seq });
    await p.ok({ type: "hint", seq: p.seq });
    const hint = await p.take("update", (m) => m.event.kind === "hint");
    expect(hint.event).toMatchObject({ kind: "hint", index: 0, text: "The child's pipe keeps a reference to the page after the child unmaps it." });
    // Hand the CPU back: the adversary plays both against the 5.9 fix, which holds.
    await p.ok({ type: "release", cpu: 0 });
    const over = await p.take("update", (m) => m.game.result !== null, 20_000);
    expect(over.game.result).toMatchObject({ outcome: "won", reason: "finished" });
    expect(over.game.debrief).toContain("page_count is 1");
    expect(over.game.offers).toMatchObject({ next: null });
  }, 30_000);
});
