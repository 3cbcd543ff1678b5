// A defence's debrief follows its outcome (issue 14, item 8): a lost fix says
// why it failed and gives the schedule that breaks it; a fix that held says why.
import { describe, expect, it } from "vitest";
import { applyCommand, newSession, type Command, type Session } from "../../src/game/session.js";
import { debriefText, gameView } from "../../src/game/view.js";
import { findLevel, loadCampaign } from "../../src/level/load.js";

const lv = findLevel(loadCampaign(), "basics-spinlock")!;
const hunt = findLevel(loadCampaign(), "basics-lost-update")!;
function run(knob: string, cpus: number[]): Session {
  let s = newSession(lv);
  s = applyCommand(lv, s, { kind: "knob", knob: "lock", value: knob }, 0, "p").s;
  for (const [i, actor] of cpus.entries()) {
    if (s.result) break;
    s = applyCommand(lv, s, { kind: "step", actor } as Command, i + 1, "p").s;
  }
  return s;
}

describe("defend debriefs", () => {
  it("lost to the race: why the fix failed, the breaking step, and that p replays it", () => {
    const s = run("none", [0, 1, 0, 1]);
    expect(s.result).toMatchObject({ outcome: "lost", reason: "oracle" });
    const d = gameView(lv, s, "X-1", null).debrief!;
    expect(d).toContain("Why your fix failed (No lock (as in the last level))");
    expect(d).toContain("The scheduler interleaves the two reads again");
    expect(d).toMatch(/The race happened at step 4: .*p replays it/);
    expect(d).toContain("What holds: spin_lock(&counter_lock)");
    expect(d).not.toContain("Why your fix held");
  });

  it("every CPU finished but the fix is unsafe: the counterexample and the command that replays it", () => {
    const s = run("none", [0, 0, 1, 1]);
    expect(s.result).toMatchObject({ outcome: "lost", reason: "unsafe-fix" });
    const d = debriefText(lv, s);
    expect(d).toContain(`faultline run basics-spinlock --schedule "${s.result!.counterexample}" --knob lock=none`);
  });

  it("won: why the fix held, then the level's debrief", () => {
    const s = run("spin_lock", [0, 1, 1, 0, 0, 0, 1, 1, 1, 1]);
    expect(s.result).toMatchObject({ outcome: "won" });
    const d = debriefText(lv, s);
    expect(d).toMatch(/^Why your fix held \(spin_lock/);
    expect(d).toContain("The second CPU spins at spin_lock()");
    expect(d).toContain(lv.debrief.trim());
    expect(d).not.toContain("failed");
  });

  it("a hunt's debrief is the level's", () => {
    let s = newSession(hunt);
    for (const actor of [0, 1, 0, 1]) s = applyCommand(hunt, s, { kind: "step", actor }, 1, "p").s;
    expect(debriefText(hunt, s)).toBe(hunt.debrief);
  });
});
