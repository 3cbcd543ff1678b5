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
