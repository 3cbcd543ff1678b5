// End to end in a real pseudo-terminal: the built binary (what `npm start`
// runs) with no arguments starts its embedded server, shows the lobby, and is
// played to a win on the first tutorial with keystrokes; the debrief is
// checked; q then y quits cleanly. Also: NO_COLOR, and a resize below the
// minimum size and back.

import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { KEY, PtySession } from "./pty.js";

const BIN = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const sessions: PtySession[] = [];

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error("dist/ is missing: npm test builds it first (npm run build)");
});

afterEach(() => {
  for (const s of sessions.splice(0)) if (s.child.exitCode === null) s.kill();
});

/** A clean environment: a temporary home for the profile and the database, no CI (Ink draws only the last frame under CI). */
function env(extra: Record<string, string> = {}): { env: NodeJS.ProcessEnv; home: string } {
  const home = mkdtempSync(join(tmpdir(), "faultline-e2e-"));
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === "CI" || k === "CONTINUOUS_INTEGRATION" || k.startsWith("CI_") || k === "NO_COLOR" || k === "FORCE_COLOR") continue;
    e[k] = v;
  }
  return { env: { ...e, TERM: "xterm-256color", FAULTLINE_HOME: home, FAULTLINE_DB: join(home, "faultline.db"), ...extra }, home };
}

function start(e: NodeJS.ProcessEnv, alt?: { cols: number; rows: number }): PtySession {
  const s = new PtySession(process.execPath, [BIN], { cols: 120, rows: 40, env: e, ...(alt ? { alt } : {}) });
  sessions.push(s);
  return s;
}

/** Press a key and wait for what it should bring to the screen. */
async function press(s: PtySession, key: string, expect: string | RegExp): Promise<string> {
  const from = s.mark();
  s.type(key);
  return s.waitFor(expect, from);
}

async function quit(s: PtySession): Promise<number> {
  await press(s, "q", "Quit Faultline?");
  s.type("y");
  return s.exited;
}

describe("faultline in a terminal", () => {
  it("plays basics-lost-update to a win with keystrokes and shows the debrief; n brings the defend level's adversary; the versus intro shows the room code", { timeout: 60_000 }, async () => {
    const { env: e, home } = env();
    const s = start(e);
    await s.waitFor("Campaign");
    await s.waitFor("▸    1. Two CPUs, one counter");
    await press(s, KEY.enter, "Press Enter to begin");
    await press(s, KEY.enter, "▸ CPU0 (T0) [you]");
    // Space steps one line; Enter runs to the next decision (here: the next line that races with the other CPU's).
    await press(s, KEY.tab, "▸ CPU1 (T1) [manual]");
    await press(s, KEY.space, "#1 CPU1 (T1) counter_inc: tmp = READ_ONCE(counter);");
    await press(s, KEY.tab, "▸ CPU0 (T0) [you]");
    await press(s, KEY.enter, "#2 CPU0 (T0) counter_inc: tmp = READ_ONCE(counter);");
    await press(s, KEY.enter, "#3 CPU0 (T0) counter_inc: WRITE_ONCE(counter, tmp + 1);");
    await press(s, KEY.tab, "▸ CPU1 (T1) [manual]");
    const debrief = await press(s, KEY.enter, /DEBRIEF[\s\S]*b lobby · \? help · q quit/);
    expect(debrief).toContain("✓ You broke it: counter is 1 after 2 completed increments: an update was lost");
    expect(debrief).toMatch(/Score 1000 · 1 preemption \(par 1, on par\) · 4 steps/);
    expect(debrief).toContain("CPU0 T0 · ● ● ·");
    expect(debrief).toContain("CPU1 T1 ● · · ✖");
    expect(debrief).toContain("The breaking step: #4 CPU1 (T1) counter_inc: WRITE_ONCE(counter, tmp + 1);");
    expect(debrief).toContain("atomic_inc()");
    // The share line: Space stepped CPU1, one Enter ran CPU0's read and write (they commute here), Enter ran CPU1.
    expect(debrief).toContain("Share: 1 0+ 1+");
    expect(debrief).toContain('faultline run basics-lost-update --schedule "1 0+ 1+"');

    // n: the defend level next, with its own bots (the adversary), not the hunt's manual ones (issue 14).
    await press(s, "n", /Take the lock · defend · basics · room [2-9A-Z]{6}/);
    await press(s, KEY.enter, "CPU1 T1: adversary bot");
    // The default fix (no lock) loses to the adversary; step CPU0 until the debrief.
    let end = "";
    for (let i = 0; i < 12 && !end; i++) {
      const at = s.mark();
      s.type(KEY.space);
      end = await s.waitFor(/DEBRIEF · Take the lock[\s\S]*Why your fix failed \(No lock \(as in the last level\)\)/, at, 3000).catch(() => "");
    }
    if (!end) throw new Error(`no debrief; the screen said:\n${s.text().slice(-2500)}`);
    expect(end).toContain("Why your fix failed (No lock (as in the last level))");
    // Back to the lobby, its cursor on the level just played; End reaches the versus level; its intro shows the room code.
    await press(s, "b", "▸ ◐  2. Take the lock");
    await press(s, KEY.end, /▸ +25\. Versus: pin it while fork looks away/);
    // Wait for the whole frame (the seat lines come last), not only its first lines.
    const intro = await press(s, KEY.enter, /Room [2-9A-Z]{6}: others join with j [2-9A-Z]{6}[\s\S]*free \(guard bot\)[\s\S]*Pick your side/);
    expect(intro).toContain("free (adversary bot)");
    expect(intro).toContain("free (guard bot)");

    const from = s.mark();
    expect(await quit(s)).toBe(0);
    // Ink shows the cursor again on the way out: the terminal is left as it was found.
    expect(s.raw.slice(from)).toContain("\x1b[?25h");
    // The win is on this computer's profile, and the embedded server used its database file.
    const profile = JSON.parse(readFileSync(join(home, "profile.json"), "utf8"));
    expect(profile.progress["basics-lost-update"]).toEqual({ won: true, best: 1000, played: 1 });
    expect(existsSync(join(home, "faultline.db"))).toBe(true);
  });

  it("honours NO_COLOR: no colour or style sequences at all", async () => {
    const { env: e } = env({ NO_COLOR: "1" });
    const s = start(e);
    await s.waitFor("Campaign");
    await press(s, KEY.down, "▸    2. Take the lock");
    expect(s.raw).not.toMatch(/\x1b\[[0-9;]*m/);
    expect(await quit(s)).toBe(0);

    const { env: coloured } = env();
    const c = start(coloured);
    await c.waitFor("Campaign");
    await press(c, KEY.down, "▸    2. Take the lock");
    // The same screen with colour allowed does use SGR sequences (inverse for the cursor): the check above can fail.
    expect(c.raw).toMatch(/\x1b\[[0-9;]*m/);
    expect(await quit(c)).toBe(0);
  });

  it("says when the terminal is too small, and redraws when it grows back", async () => {
    const { env: e } = env();
    const s = start(e, { cols: 60, rows: 20 });
    await s.waitFor("Campaign");
    let from = s.mark();
    s.resize();
    await s.waitFor("The terminal is 60×20; Faultline needs at least 80×24.", from);
    from = s.mark();
    s.resize();
    await s.waitFor("Campaign", from);
    expect(await quit(s)).toBe(0);
  });
});
