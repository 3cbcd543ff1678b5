// The sandbox end to end over a real socket, driven by the client's own keys (issue 18, part 4):
// compose a scenario in the composer, create its room, ask the explorer, hunt to the oracle,
// save it as a level file (the client's shell writes it), lint it, and play it again as a
// custom level of another server.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connectClient, saveLevelIn } from "../../src/client/run.js";
import type { Connection } from "../../src/client/net/connection.js";
import { handleKey, initialUi, type UiState } from "../../src/client/model/input.js";
import type { KeyPress } from "../../src/client/model/keys.js";
import { compileLevel } from "../../src/level/compile.js";
import { loadLevelsDir } from "../../src/level/custom.js";
import { lintFile } from "../../src/level/lint.js";
import { loadCampaign } from "../../src/level/load.js";
import { sandboxLevel, type SandboxScenario } from "../../src/level/sandbox.js";
import { fewestPreemptions } from "../../src/sim/preempt.js";
import { solve } from "../../src/sim/solve.js";
import { player, server } from "../server/harness.js";
import { until } from "./ink.js";

const open: Connection[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close(200)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("the sandbox, end to end", () => {
  it("composes, creates, asks the explorer, hunts to cow-isolation, saves a file that lints and plays as a custom level", async () => {
    const srv = await server();
    const dir = mkdtempSync(join(tmpdir(), "faultline-sandbox-"));
    dirs.push(dir);
    const { store, conn } = connectClient({ url: srv.url, name: "ada", saveLevel: saveLevelIn(dir) });
    open.push(conn);
    let ui: UiState = initialUi;
    const press = (k: KeyPress) => {
      const out = handleKey({ s: store.get() }, ui, k);
      ui = out.ui;
      for (const m of out.send) conn.send(m);
      return out;
    };
    const type = (text: string) => {
      for (const ch of text) press({ input: ch });
    };
    await until(() => store.get().player !== null, "welcome");

    // Compose: the catalogue's example (the vmsplice attack on 4.19), with the parent writing "y".
    press({ input: "s" });
    await until(() => store.get().sandbox !== null, "the catalogue", 5000);
    for (let i = 0; i < 9; i++) press({ input: "", downArrow: true }); // CPU0's store: its value
    press({ input: "", rightArrow: true });
    const scenario = ui.composer!.scenario as SandboxScenario;
    expect(scenario.cpus[0].runs[0]).toEqual({ op: "store", args: { page: 0, value: "y" } });
    press({ input: "c" });
    await until(() => store.get().room !== null, "the sandbox room", 5000);
    expect(store.get().room!.level.source).toBe("sandbox");
    press({ input: "", return: true }); // the intro: start

    // The explorer, once the scenario is solved (on the server's worker pool).
    await until(() => store.get().room?.solver.state === "ready", "the solved scenario", 15_000);
    press({ input: "e" });
    await until(() => store.get().explorer !== null, "the explorer's answer", 5000);
    expect(store.get().explorer!.oracles).toEqual([expect.objectContaining({ id: "cow-isolation", preemptions: 0 })]);
    expect(store.get().flash?.text).toMatch(/^The explorer: from here 1 of the 13 oracles watched can still fire: COW broke the wrong way \(cow-isolation\) in 0 preemptions\./);

    // Hunt along a best road, asking the explorer again on the way.
    const c = compileLevel(sandboxLevel(scenario));
    const road = fewestPreemptions(solve(c.cfg, c.machine, { oracles: c.oracles }), c.cfg.cpus.length)!.schedule;
    for (const [i, a] of road.entries()) {
      const before = store.get().seq;
      conn.send({ type: "step", seq: before, cpu: "cpu" in a ? a.cpu : "dma" });
      await until(() => store.get().seq > before, `step ${i + 1}`, 5000);
      if (i === 10) {
        const asked = store.get().explorer;
        press({ input: "e" });
        await until(() => store.get().explorer !== asked, "the explorer mid-hunt", 5000);
        expect(store.get().explorer!.oracles.map((o) => [o.id, o.preemptions])).toEqual([["cow-isolation", 0]]);
        expect(store.get().explorer!.seq).toBe(store.get().seq);
      }
    }
    expect(store.get().game!.result).toMatchObject({ outcome: "won", oracle: { id: "cow-isolation" } });

    // Save: S, the id, Enter; the shell writes lab-sandbox.yaml into the folder.
    press({ input: "S" });
    type("lab-sandbox");
    press({ input: "", return: true });
    await until(() => store.get().flash?.text.startsWith("Saved ") === true, "the saved file", 5000);
    const file = join(dir, "lab-sandbox.yaml");
    expect(store.get().flash!.text).toBe(`Saved ${file} (reachable, par 0 preemptions): faultline lint lab-sandbox.yaml checks it; faultline serve --levels DIR offers it.`);
    expect(readFileSync(file, "utf8")).toContain("id: lab-sandbox");
    // Never over an existing file.
    press({ input: "S" });
    type("lab-sandbox");
    press({ input: "", return: true });
    await until(() => store.get().flash?.kind === "error", "the refusal", 5000);
    expect(store.get().flash!.text).toBe(`The level file was not saved: ${file} exists: save under another id`);

    // The file lints clean, and a server offers it as a custom level that plays to the same win.
    const lint = lintFile(file, { campaignIds: loadCampaign().map((l) => l.id) });
    expect(lint.problems).toEqual([]);
    expect(lint.ok).toBe(true);
    const custom = loadLevelsDir(dir, loadCampaign().map((l) => l.id));
    expect(custom.skipped).toEqual([]);
    expect(custom.levels.map((l) => [l.id, l.source])).toEqual([["lab-sandbox", "custom: lab-sandbox.yaml"]]);
    const srv2 = await server({ levels: [...loadCampaign(), ...custom.levels] });
    const p = await player(srv2.url, "bo");
    await p.ok({ type: "create", level: "lab-sandbox" });
    await p.ok({ type: "claim", cpu: 0 });
    await p.ok({ type: "claim", cpu: 1 });
    let seq = 0;
    for (const a of road) seq = (await p.ok({ type: "step", seq, cpu: "cpu" in a ? a.cpu : "dma" })).seq!;
    const over = await p.take("update", (m) => m.game.phase === "over");
    expect(over.game.result).toMatchObject({ outcome: "won", reason: "oracle", oracle: { id: "cow-isolation" }, parPreemptions: 0 });
    expect(existsSync(join(dir, "lab-sandbox.yaml"))).toBe(true);
  });
});
