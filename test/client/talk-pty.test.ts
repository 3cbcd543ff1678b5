// Issue 17: what another player types never drives this terminal. The built
// binary joins a room in a real pseudo-terminal; escape sequences (ESC ]0;...
// BEL sets the window title, ESC [2J clears the screen), bidi overrides and
// zero-width characters arrive in chat and in names, and the captured output
// shows them as visible text and never carries them. Two servers: ours (it
// normalises chat and refuses such names), and a hostile one that sends them
// raw, so the client's own guard is what stands between them and the terminal.

import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer, type WebSocket } from "ws";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ServerMessage } from "../../src/protocol/server.js";
import { player, server } from "../server/harness.js";
import { level, play, snapshot, step, welcome, ME } from "./fixtures.js";
import { KEY, PtySession } from "./pty.js";

const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const sessions: PtySession[] = [];
const closers: (() => void)[] = [];

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error("dist/ is missing: npm test builds it first (npm run build)");
});
afterEach(() => {
  for (const s of sessions.splice(0)) if (s.child.exitCode === null) s.kill();
  for (const c of closers.splice(0)) c();
});

function env(): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), "faultline-talk-pty-"));
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === "CI" || k === "CONTINUOUS_INTEGRATION" || k.startsWith("CI_") || k === "NO_COLOR" || k === "FORCE_COLOR") continue;
    e[k] = v;
  }
  return { ...e, TERM: "xterm-256color", FAULTLINE_HOME: home };
}

function join_(url: string, room: string): PtySession {
  const s = new PtySession(process.execPath, [BIN, "join", url, "--room", room, "--name", "bob"], { cols: 120, rows: 40, env: env() });
  sessions.push(s);
  return s;
}

const TITLE = "\u001b]0;pwned\u0007";
const CLEAR = "\u001b[2J";
/** What must never reach the terminal from another player. */
function expectDisarmed(raw: string): void {
  expect(raw).not.toContain("\u001b]0;pwned");
  expect(raw).not.toContain(`${CLEAR}wipe`);
  expect(raw).not.toMatch(/[\u202e\u200b\u2066]/);
}

describe("another player's text in a terminal", () => {
  it("chat with escape sequences, bidi and zero-width characters, through our server, shows as visible text and changes nothing", { timeout: 30_000 }, async () => {
    const s = await server();
    const ada = await player(s.url, "ada");
    const j = await ada.ok<"joined">({ type: "create", level: "basics-lost-update" });
    await ada.ok({ type: "claim", cpu: 0 });
    const t = join_(s.url, j.state.room.code);
    await t.waitFor("Press Enter to begin");
    let from = t.mark();
    t.type(KEY.enter);
    await t.waitFor("Event log", from);
    from = t.mark();
    await ada.ok({ type: "chat", text: `${TITLE}title ${CLEAR}wipe \u202Egnp.exe\u202C a\u200Bb\u2066c\u2069` });
    const screen = await t.waitFor("gnp.exe", from);
    expect(screen).toContain("ada: ␛]0;pwned␇title ␛[2Jwipe gnp.exe abc");
    expectDisarmed(t.raw);

    // And the other way: bob types a line in the chat panel (t opens it, Enter sends, Esc is not needed).
    from = t.mark();
    t.type("t");
    await t.waitFor("Enter sends · Esc leaves", from);
    t.type("hello ada");
    await t.waitFor("> hello ada", from);
    t.type(KEY.enter);
    const said = await ada.take("chat", (m) => m.entry.name === "bob");
    expect(said.entry.text).toBe("hello ada");
    await t.waitFor("you: hello ada", from);
    // The game's keys are back: Space steps the CPU shown.
    from = t.mark();
    t.type(KEY.space);
    await t.waitFor("#1 CPU1 (T1) counter_inc: tmp = READ_ONCE(counter);", from);
  });

  it("a hostile server's raw escapes in a name and in chat are shown as pictures by the client's own guard", { timeout: 30_000 }, async () => {
    const hostile = `${TITLE}Ada${CLEAR}\u202Eevil\u200B`;
    const l = level("basics-lost-update");
    const snap = snapshot(l, play(l, [step(0)]), { mine: [0], others: [1] });
    snap.room.members = snap.room.members.map((m) => (m.id === ME ? m : { ...m, name: hostile }));
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    closers.push(() => wss.close());
    await new Promise<void>((r) => wss.once("listening", () => r()));
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
    const send = (ws: WebSocket, m: ServerMessage) => ws.send(JSON.stringify(m));
    wss.on("connection", (ws) => {
      ws.on("message", (data) => {
        const m = JSON.parse(String(data)) as { type: string };
        if (m.type === "hello") send(ws, welcome());
        if (m.type === "join") {
          send(ws, { type: "joined", you: { member: ME, token: "t".repeat(32) }, state: snap });
          // No server of ours would send these: raw control characters, a C1 CSI, bidi and zero-width characters.
          send(ws, { type: "chat", entry: { n: 1, attempt: snap.game.attempt, step: 1, at: 0, from: "ada-1", name: hostile, text: `${TITLE}hi ${CLEAR}wipe \u009b2J \u202Etxt.exe` } });
        }
      });
    });
    const t = join_(url, "K7M2QX");
    const screen = await t.waitFor("txt.exe");
    // The name in the top bar and in the chat panel, and the chat text: every control as its picture.
    expect(screen).toContain("CPU1 T1: ␛]0;pwned␇Ada␛[2J�evil�");
    // The chat line wraps in its panel: its parts, each whole.
    for (const part of ["␛]0;pwned␇Ada␛[2J�evil�: ␛]0;pwned␇hi", "␛[2Jwipe", "�2J �txt.exe"]) expect(screen).toContain(part);
    expectDisarmed(t.raw);
    expect(t.raw).not.toContain("\u009b");
  });
});
