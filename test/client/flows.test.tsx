// Issue 14 in the client: the versus result counts for the player's side
// (score, profile, lobby mark), the status line says who the game waits for,
// and a player steps only their side.
import { describe, expect, it } from "vitest";
import { drivable, myResult } from "../../src/client/model/game.js";
import { progressMark, recordAttempts } from "../../src/client/model/progress.js";
import { reduce, type ClientState } from "../../src/client/model/store.js";
import { statusFlash } from "../../src/client/screens/Game.js";
import { clientIn, level, ME, play, roomInfo, snapshot, step, VERSUS } from "./fixtures.js";

const RACE = [step(0), step(1), step(0), step(1)];
const SAFE = [step(0), step(0), step(1), step(1)];

/** A versus client that holds `mine` and saw the attempt end with `cmds` (the last step as an update). */
function ended(cmds: ReturnType<typeof step>[], mine: number[]): ClientState {
  const l = level(VERSUS);
  let st = clientIn(VERSUS, cmds.slice(0, -1), { mine, versus: true });
  const s = play(l, cmds, true);
  const snap = snapshot(l, s, { mine, versus: true });
  st = reduce(st, { kind: "message", msg: { type: "update", seq: cmds.length, event: { kind: "step", by: ME, entry: s.trace.at(-1)! }, game: snap.game } });
  return st;
}

describe("versus results follow the player's side", () => {
  it("blue wins: a blue player's attempt is a win with blue's score, a ✓ in the lobby", () => {
    const st = ended(SAFE, [1]);
    const f = st.finished.at(-1)!;
    expect(f.result).toMatchObject({ outcome: "won", score: 1000, winner: "blue" });
    expect(progressMark(recordAttempts({}, st.finished, new Set())[VERSUS])).toBe("✓");
  });

  it("blue loses to red: a blue player's attempt is a loss scoring 0 (no ✓)", () => {
    const st = ended(RACE, [1]);
    expect(st.finished.at(-1)!.result).toMatchObject({ outcome: "lost", score: 0, winner: "red" });
    const p = recordAttempts({}, st.finished, new Set());
    expect(progressMark(p[VERSUS])).toBe("◐");
    expect(p[VERSUS].best).toBeNull();
  });

  it("red wins: a red player's win scores red's score; playing both sides counts as played", () => {
    expect(ended(RACE, [0]).finished.at(-1)!.result).toMatchObject({ outcome: "won", winner: "red" });
    expect(ended(RACE, [0]).finished.at(-1)!.result.score).toBeGreaterThan(0);
    const r = play(level(VERSUS), RACE, true).result!;
    expect(myResult(r, ["red", "blue"])).toMatchObject({ outcome: "lost", score: 0 });
  });
});

describe("waiting and sides in the client", () => {
  it("the status line shows who the game waits for, over an old hint, under a refusal", () => {
    const waiting = "Waiting for me (blue) to step CPU1 (T1) (the red bot waits: each of its moves would lose the race).";
    expect(statusFlash(null, waiting)).toEqual({ kind: "info", text: waiting });
    expect(statusFlash({ kind: "info", text: "Hint 1: ..." }, waiting)?.text).toBe(waiting);
    expect(statusFlash({ kind: "error", text: "no" }, waiting)?.text).toBe("no");
    expect(statusFlash({ kind: "info", text: "Hint 1" }, null)?.text).toBe("Hint 1");
  });

  it("in a manual versus room a player may step only their side's free CPUs", () => {
    const room = roomInfo(level(VERSUS), { mine: [1], versus: true, policy: "manual" });
    expect(drivable(room, ME)).toEqual([1]);
    const plain = roomInfo(level("basics-lost-update"), { mine: [0], policy: "manual" });
    expect(drivable(plain, ME)).toEqual([0, 1]);
  });
});

describe("nothing leaks from one level to the next", () => {
  it("n: the new attempt starts with a clean log and status line", () => {
    const lost = level("basics-lost-update");
    let st = clientIn("basics-lost-update", [step(0), step(1), step(0), step(1)], { mine: [0, 1] });
    st = reduce(st, { kind: "local", flash: { kind: "info", text: "CPU1 (T1) has finished: Tab to a CPU that can still run." } });
    st = reduce(st, { kind: "message", msg: { type: "update", seq: 5, event: { kind: "hint", by: "instructor", index: 0, text: "old hint", free: true }, game: snapshot(lost, play(lost, RACE), { mine: [0, 1] }).game } });
    expect(st.log.length).toBeGreaterThan(3);
    const spin = level("basics-spinlock");
    const game = { ...snapshot(spin, play(spin, []), { mine: [0, 1] }).game, attempt: "K7M2QX-2" };
    st = reduce(st, { kind: "message", msg: { type: "update", seq: 6, event: { kind: "attempt", by: ME, attempt: "K7M2QX-2", level: "basics-spinlock" }, game } });
    expect(st.flash).toBeNull();
    expect(st.log.map((l) => l.text)).toEqual(["You started attempt K7M2QX-2: basics-spinlock"]);
  });
});

describe("smaller things a player notices (item 9) and the dashboard (item 10)", () => {
  it("b goes back to the lobby with the cursor on the level just played", async () => {
    const { handleKey, initialUi } = await import("../../src/client/model/input.js");
    const s = clientIn("basics-spinlock", [], { policy: "adversary" });
    const out = handleKey({ s }, { ...initialUi, introDone: s.game!.attempt }, { input: "b" });
    expect(out.send).toEqual([{ type: "leave" }]);
    expect(out.ui.lobbyCursor).toBe(s.levels.findIndex((l) => l.id === "basics-spinlock"));
    expect(out.ui.lobbyCursor).toBeGreaterThan(0);
  });

  it("the lobby cursor takes Home, End, PgUp and PgDn", async () => {
    const { handleKey, initialUi } = await import("../../src/client/model/input.js");
    const { clientInLobby } = await import("./fixtures.js");
    const s = clientInLobby();
    const n = s.levels.length;
    expect(handleKey({ s }, initialUi, { input: "", end: true }).ui.lobbyCursor).toBe(n - 1);
    expect(handleKey({ s }, { ...initialUi, lobbyCursor: 12 }, { input: "", home: true }).ui.lobbyCursor).toBe(0);
    expect(handleKey({ s }, initialUi, { input: "", pageDown: true }).ui.lobbyCursor).toBe(10);
    expect(handleKey({ s }, { ...initialUi, lobbyCursor: 12 }, { input: "", pageUp: true }).ui.lobbyCursor).toBe(2);
  });

  it("a caller frame shows the line that made the call, and a function's note stays outside its ()", async () => {
    const { fnCall } = await import("../../src/client/model/listing.js");
    expect(fnCall("contpte_convert (rewritten in place)")).toBe("contpte_convert() (rewritten in place)");
    expect(fnCall("dup_mmap")).toBe("dup_mmap()");
    const { compileLevel } = await import("../../src/level/compile.js");
    const { explore } = await import("../../src/sim/explore.js");
    const { getPath, lineOf } = await import("../../src/sim/path.js");
    let checked = 0;
    for (const id of ["r5-six-steps", "basics-fork-cow", "r6-gup-fast-fork"]) {
      const l = level(id);
      const c = compileLevel(l);
      const sched = explore(c.cfg, c.machine, { oracles: c.oracles }).schedule!;
      for (let i = 1; i <= sched.length; i++) {
        const cmds = sched.slice(0, i).map((a) => ("dma" in a ? step("dma") : step(a.cpu, a.choice)));
        const game = snapshot(l, play(l, cmds), { mine: l.cpus.map((_, k) => k) }).game;
        for (const cpu of game.cpus) {
          cpu.frames.slice(0, -1).forEach((f, j) => {
            const callee = cpu.frames[j + 1].fn.replace(/ \(.*\)$/, "");
            // The line names the callee, or (a call under another name) it is the line before the pc, never the line after the call.
            const before = lineOf(getPath(f.path).steps[Math.max(0, f.pc - 1)], c.cfg);
            if (!f.line.includes(`${callee}(`)) expect(f.line, `${id} step ${i}: ${f.fn} calling ${callee}`).toBe(before);
            checked++;
          });
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it("a folio whose pin bias is taken before the pin is recorded says the pin is in flight", async () => {
    const { folioLines } = await import("../../src/game/machineview.js");
    const l = level("r5-six-steps");
    const m = structuredClone(play(l, []).machine);
    const pfn = m.folios.findIndex((f, i) => f !== null && i > 0 && f.anon);
    m.folios[pfn]!.refcount += 1024;
    const line = folioLines(m, null).find((x) => x.startsWith(`pfn ${pfn}`))!;
    expect(line).toContain("(pin bias 1 x 1024)");
    expect(line).toContain("pins 0 + 1 in flight");
  });

  it("the dashboard says paused while the workshop is paused, and fits 80 columns", async () => {
    const { dashboardRows } = await import("../../src/client/model/dashboard.js");
    const team = { room: "K7M2QX", team: "a long team name", level: "r5-pick-the-fix", attempt: "K7M2QX-1", phase: "play" as const, steps: 12, hintsUsed: 1, rewinds: 2, outcome: "won" as const, score: 1000, totalScore: 12000, finished: 12, members: 3, connected: 2 };
    const t = dashboardRows([team], 0, 5, { width: 80, paused: true });
    expect(t.rows[0].text).toContain("❚❚ paused");
    expect(t.rows[0].text).not.toContain("▶ play");
    for (const l of [t.header, t.rows[0].text]) expect([...l].length).toBeLessThan(80);
    expect(t.rows[0].text).toMatch(/2\/3$/);
    expect(dashboardRows([team], 0, 5).rows[0].text).toContain("▶ play");
  });

  it("an announcement and a released hint are confirmed on the status line", async () => {
    const { handleKey, initialUi } = await import("../../src/client/model/input.js");
    const { clientInLobby } = await import("./fixtures.js");
    const s = clientInLobby();
    const ins = { id: "K7QX2MNP", token: "t".repeat(43) };
    const typed = handleKey({ s, instructor: ins }, { ...initialUi, dashboard: true, input: { field: "announce", text: "Ten minutes" } }, { input: "", return: true });
    expect(typed.send).toEqual([{ type: "announce", workshop: ins.id, token: ins.token, text: "Ten minutes" }]);
    expect(typed.effects).toEqual([{ kind: "flash", text: "Announcement sent to every team: Ten minutes" }]);
    expect(handleKey({ s, instructor: ins }, { ...initialUi, dashboard: true }, { input: "H" }).effects[0]).toMatchObject({ kind: "flash" });
  });

  it("the room log says when a player joins, drops, comes back and leaves", async () => {
    const { memberChanges } = await import("../../src/client/model/store.js");
    const l = level("basics-lost-update");
    const alone = roomInfo(l, { mine: [0] });
    const withAda = roomInfo(l, { mine: [0], others: [1] });
    const away = { ...withAda, members: withAda.members.map((m) => (m.id === ME ? m : { ...m, connected: false })) };
    expect(memberChanges(alone, withAda, ME)).toEqual(["Ada joined the room"]);
    expect(memberChanges(withAda, away, ME)).toEqual(["Ada lost the connection (their seat waits for them)"]);
    expect(memberChanges(away, withAda, ME)).toEqual(["Ada is back"]);
    expect(memberChanges(withAda, alone, ME)).toEqual(["Ada left the room"]);
    let st = clientIn("basics-lost-update", [], { mine: [0] });
    st = reduce(st, { kind: "message", msg: { type: "room", room: withAda } });
    expect(st.log.at(-1)!.text).toBe("Ada joined the room");
  });
});

describe("a key right after Enter", () => {
  it("acts on the state the start makes, not the one it replaces; n starts on the player's own CPU", async () => {
    const { handleKey, initialUi } = await import("../../src/client/model/input.js");
    const s = clientIn("basics-lost-update", [], { mine: [0, 1] });
    const entered = handleKey({ s }, initialUi, { input: "", return: true });
    expect(entered.send).toEqual([{ type: "start", seq: 0 }]);
    // The start's update has not arrived: the step names seq 1, the state after the start.
    expect(handleKey({ s }, entered.ui, { input: " " }).send).toEqual([{ type: "step", seq: 1, cpu: 0 }]);
    // Once it has (or after a reset, when seq has moved on), the seq is the one the client saw.
    const started = { ...s, seq: 1, game: { ...s.game!, phase: "play" as const } };
    expect(handleKey({ s: started }, entered.ui, { input: " " }).send).toEqual([{ type: "step", seq: 1, cpu: 0 }]);
    const reset = { ...s, seq: 7 };
    expect(handleKey({ s: reset }, entered.ui, { input: " " }).send).toEqual([{ type: "step", seq: 7, cpu: 0 }]);
    // n from a debrief forgets the CPU last looked at.
    const over = clientIn("basics-lost-update", RACE, { mine: [0, 1] });
    expect(handleKey({ s: over }, { ...initialUi, selected: 1 }, { input: "n" }).ui.selected).toBeNull();
  });
});
