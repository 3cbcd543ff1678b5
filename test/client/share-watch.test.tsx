// Issue 17, item 4 in the client: the debrief's share line, and watching a room
// (faultline join URL --room CODE --watch). A real server, a player on a real
// socket, and the Ink app as a watcher: it sees every step, refuses the keys
// that would act without sending them, and shows the debrief with the command
// that, pasted into a shell, replays the attempt to the same end.

import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderToString } from "ink";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App, type AppActions } from "../../src/client/App.js";
import type { ClientStore } from "../../src/client/client-store.js";
import { initialUi } from "../../src/client/model/input.js";
import { shellLines } from "../../src/client/model/layout.js";
import { WATCH_ONLY } from "../../src/client/model/store.js";
import type { Connection } from "../../src/client/net/connection.js";
import { connectClient } from "../../src/client/run.js";
import { Debrief } from "../../src/client/screens/Debrief.js";
import type { ClientMessageInput } from "../../src/protocol/client.js";
import type { GameView } from "../../src/protocol/server.js";
import type { TestClient } from "../server/client.js";
import { player, server } from "../server/harness.js";
import { clientIn, step } from "./fixtures.js";
import { frameHas, inputReady, until } from "./ink.js";

const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");

const open: Connection[] = [];
const mounted: { unmount(): void }[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const m of mounted.splice(0)) m.unmount();
  await Promise.all(open.splice(0).map((c) => c.close(200)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Run `text` as a shell would, with `faultline` on the PATH as the built CLI. */
function shell(text: string): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "faultline-share-"));
  dirs.push(dir);
  const shim = join(dir, "faultline");
  writeFileSync(shim, `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  chmodSync(shim, 0o755);
  return spawnSync("sh", ["-c", text], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
}

/** The command as the screen shows it: from "faultline run" through each line a " \" continues. */
function commandOnScreen(frame: string): string {
  const lines = frame.split("\n").map((l) => l.trimEnd());
  const at = lines.findIndex((l) => l.startsWith("faultline run "));
  expect(at, frame).toBeGreaterThanOrEqual(0);
  let end = at;
  while (lines[end].endsWith(" \\")) end++;
  return lines.slice(at, end + 1).join("\n");
}

/** The Ink app as a watcher of `room`, with every request it sends recorded. */
function watcher(url: string, room: string, size = { cols: 80, rows: 40 }) {
  const c: { store: ClientStore; conn: Connection } = connectClient({ url, name: "eve", room, watch: true });
  open.push(c.conn);
  const sent: ClientMessageInput[] = [];
  const actions: AppActions = {
    send: (m) => {
      sent.push(m);
      return c.conn.send(m) !== null;
    },
    rename: () => {},
    left: () => {},
    flash: (text, kind = "info") => c.store.dispatch({ kind: "local", flash: { kind, text } }),
    quit: () => {},
  };
  const r = render(<App store={c.store} actions={actions} progress={{}} size={size} />);
  mounted.push(r);
  return { ...r, ...c, sent };
}

/** The player's latest game view. */
function gameOf(p: TestClient): GameView {
  for (let i = p.log.length - 1; i >= 0; i--) {
    const m = p.log[i];
    if (m.type === "update") return m.game;
    if (m.type === "joined" || m.type === "state") return m.state.game;
  }
  throw new Error("no game yet");
}

/** One game action by the player; true when the server took it. */
async function act(p: TestClient, m: Record<string, unknown> & { type: string }): Promise<boolean> {
  const r = await p.request({ ...m, seq: p.seq });
  if (r.type === "ack") await p.sees(r.seq!);
  return r.type === "ack";
}

/**
 * basics-fork-cow played by hand: a menu pick, a reset, then the two CPUs in
 * turn (a menu answered with its first choice), a rewind of two steps, one
 * press a run to the next decision, to the end.
 */
async function playForkCow(p: TestClient): Promise<GameView> {
  expect(await act(p, { type: "step", cpu: 1, choice: "store" })).toBe(true);
  expect(await act(p, { type: "reset" })).toBe(true);
  for (let i = 0; i < 200 && !gameOf(p).result; i++) {
    if (i === 4) expect(await act(p, { type: "rewind", steps: 2 })).toBe(true);
    const g = gameOf(p);
    const order = [i % 2, 1 - (i % 2)];
    for (const cpu of order) {
      const v = g.cpus[cpu];
      if (v.state === "done" || v.state === "unborn") continue;
      const choice = v.state === "menu" ? v.choices![0] : undefined;
      if (await act(p, { type: i === 24 ? "run" : "step", cpu, ...(choice ? { choice } : {}) })) break;
    }
  }
  const g = gameOf(p);
  expect(g.result, "the attempt ended").not.toBeNull();
  return g;
}

describe("watching a room in the client, and sharing its attempt", () => {
  it("the watcher sees every step, cannot act, and its debrief's command replays the attempt in a shell", async () => {
    const srv = await server();
    const ada = await player(srv.url, "ada");
    const j = await ada.ok<"joined">({ type: "create", level: "basics-fork-cow", policy: "manual" });
    const code = j.state.room.code;
    await ada.ok({ type: "claim", cpu: 0 });
    await ada.ok({ type: "claim", cpu: 1 });

    const app = watcher(srv.url, code);
    await until(() => app.store.get().you?.watch === true, "the watcher's joined");
    await frameHas(app.lastFrame, "You are watching (no seat)");
    expect(app.sent).toEqual([]); // the join went out from the connection itself, with watch (the server said so)
    await inputReady(app.stdin);
    app.stdin.write("\r");
    await frameHas(app.lastFrame, "WATCHING (no seat)");
    expect(app.lastFrame()).toContain("watching · Tab/0-9 look at a CPU");
    // The player's top bar counts the watcher, and their log says who came.
    await ada.take("room", (m) => (m.room.watchers ?? []).some((w) => w.name === "eve"));

    // Keys that would act are refused here, and never sent.
    for (const key of [" ", "\r", "c", "h", "u"]) {
      app.stdin.write(key);
      await frameHas(app.lastFrame, WATCH_ONLY.slice(0, 40));
    }
    expect(app.sent).toEqual([]);
    // Tab looks at every CPU, though the watcher holds none.
    app.stdin.write("\t");
    await frameHas(app.lastFrame, "▸ CPU1 (B1)");

    const end = await playForkCow(ada);
    const seq = ada.seq;
    await until(() => app.store.get().seq === seq, "the watcher at the player's last seq");
    // Every step of the attempt reached the watcher: its trace is the room's.
    const room = await ada.ok<"replay">({ type: "replay" });
    expect(app.store.get().trace).toEqual(room.trace);
    expect(app.store.get().game?.result).toEqual(end.result);
    // Watching a level is not playing it: nothing for the watcher's profile.
    expect(app.store.get().finished).toEqual([]);

    await frameHas(app.lastFrame, /DEBRIEF[\s\S]*Share: /);
    const frame = app.lastFrame()!;
    const r = end.result!;
    expect(r.share!.schedule).toMatch(/\+/); // the run is one N+ token
    expect(r.share!.schedule).toMatch(/^0 1:store /); // after the reset, with the menu's pick
    expect(frame).toContain(`Share: ${r.share!.schedule}`.slice(0, 70));
    expect(frame).toContain("p replay · g final machine · b lobby");
    app.stdin.write("r");
    await frameHas(app.lastFrame, WATCH_ONLY.slice(0, 40));
    expect(app.sent).toEqual([]);

    // Paste the command as it stands on the screen (broken over lines with " \") into a shell.
    const pasted = commandOnScreen(frame);
    expect(pasted.split("\n").length).toBeGreaterThan(1); // wider than 80 columns: it had to break
    const out = shell(pasted);
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    if (r.oracle) expect(out.stdout).toContain(`ORACLE ${r.oracle.id} fired at step ${r.oracle.step}:`);
    else expect(out.stdout).toContain("No oracle fired");
    // The same timeline as the debrief: every row of it, as the watcher's screen drew it.
    const rows = frame.split("\n").filter((l) => /^CPU\d /.test(l));
    expect(rows.length).toBe(2);
    for (const row of rows) expect(out.stdout).toContain(row.trimEnd());
    // And the same steps: the replay's JSON against the room's trace.
    const json = shell(`${r.share!.command} --json`);
    const replayed = JSON.parse(json.stdout) as { steps: { step: number; actor: string; line: string }[]; oracle: { id: string; step: number } | null };
    expect(replayed.steps.map((x) => `${x.step} ${x.actor} ${x.line}`)).toEqual(app.store.get().trace.map((e) => `${e.step} ${e.actor} ${e.line}`));
    expect(replayed.oracle ? { id: replayed.oracle.id, step: replayed.oracle.step } : null).toEqual(r.oracle ? { id: r.oracle.id, step: r.oracle.step } : null);
  });
});

describe("the debrief's share line", () => {
  it("shows the server's schedule and command; a long command breaks with shell continuations that join back", () => {
    const s = clientIn("basics-lost-update", [{ kind: "run", actor: 1 }, step(0), step(0), { kind: "run", actor: 1 }]);
    const r = s.game!.result!;
    expect(r.share).toEqual({ schedule: "1+ 0*2 1+", command: 'faultline run basics-lost-update --schedule "1+ 0*2 1+"' });
    const out = renderToString(<Debrief s={s} ui={{ ...initialUi, introDone: s.game!.attempt }} cols={80} rows={40} progress={{}} />, { columns: 80 });
    expect(out).toContain("Share: 1+ 0*2 1+");
    expect(out).toContain('faultline run basics-lost-update --schedule "1+ 0*2 1+"');
    // Forty tokens at 40 columns: every line fits, every break is continued, and the shell reads one command.
    const long = `faultline run r5-six-steps --schedule "${Array.from({ length: 40 }, (_, i) => (i % 2 ? "1" : "0:fork+")).join(" ")}" --knob a=b`;
    const lines = shellLines(long, 40);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(40);
    expect(lines.slice(0, -1).every((l) => l.endsWith(" \\"))).toBe(true);
    const echoed = shell(`printf '%s|' ${lines.join("\n").replace(/^faultline run /, "")}`);
    const args = echoed.stdout.split("|");
    expect([args[0], args[1], args[3], args[4], args[5]]).toEqual(["r5-six-steps", "--schedule", "--knob", "a=b", ""]);
    // Inside the quotes a break leaves only spaces, which the schedule's syntax skips: the same tokens.
    expect(args[2].split(/\s+/)).toEqual(long.match(/"(.*)"/)![1].split(" "));
  });
});
