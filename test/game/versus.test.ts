// A versus level is judged like a hunt: the race happening is red's win, every
// CPU finishing safely is blue's; `winner` names the side.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyCommand, newSession, type Command, type Session } from "../../src/game/session.js";
import { loadLevelFile, type Level } from "../../src/level/load.js";

const lv: Level = loadLevelFile(join(import.meta.dirname, "..", "fixtures", "versus-lost-update.yaml"));
function run(cmds: Command[]): Session {
  let s = newSession(lv, { versus: true });
  cmds.forEach((c, i) => (s = applyCommand(lv, s, c, 1000 + i * 100, "p1").s));
  return s;
}
const steps = (...cpus: number[]): Command[] => cpus.map((actor) => ({ kind: "step", actor }));

describe("versus judging", () => {
  it("the race: red wins, and the attempt is scored like a won hunt", () => {
    const s = run(steps(0, 1, 0, 1));
    expect(s.result).toMatchObject({ outcome: "won", reason: "oracle", winner: "red" });
    expect(s.result!.score).toBeGreaterThan(0);
    expect(s.result!.scores).toEqual({ red: s.result!.score, blue: 0 });
  });

  it("every CPU finishes safely: blue wins, with no fix proof asked for", () => {
    const s = run(steps(0, 0, 1, 1));
    // Blue won: the attempt reads "won" with blue's score, and red's is 0.
    expect(s.result).toMatchObject({ outcome: "won", reason: "finished", winner: "blue", counterexample: null });
    expect(s.result!.score).toBe(1000);
    expect(s.result!.scores).toEqual({ red: 0, blue: 1000 });
  });
});
