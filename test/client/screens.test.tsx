// Screens rendered by Ink at a fixed size, from client states a real session
// produced: what the player reads, and that it fits the terminal.

import { renderToString } from "ink";
import { describe, expect, it } from "vitest";
import { initialUi, type UiState } from "../../src/client/model/input.js";
import { Dashboard } from "../../src/client/screens/Dashboard.js";
import { Debrief } from "../../src/client/screens/Debrief.js";
import { Game } from "../../src/client/screens/Game.js";
import { Intro } from "../../src/client/screens/Intro.js";
import { Lobby } from "../../src/client/screens/Lobby.js";
import type { ScreenProps } from "../../src/client/screens/props.js";
import { TooSmall } from "../../src/client/components/TooSmall.js";
import { tooSmall } from "../../src/client/model/layout.js";
import type { ClientState } from "../../src/client/model/store.js";
import { clientIn, clientInLobby, step } from "./fixtures.js";

function props(s: ClientState, ui: Partial<UiState> = {}, cols = 120, rows = 40): ScreenProps {
  return { s, ui: { ...initialUi, introDone: s.game?.attempt ?? null, ...ui }, cols, rows, progress: {} };
}

const lines = (out: string) => out.split("\n");
const width = (l: string) => [...l].length;

function fits(out: string, cols: number, rows: number) {
  const ls = lines(out);
  expect(ls.length).toBeLessThan(rows);
  for (const l of ls) expect(width(l)).toBeLessThanOrEqual(cols);
}

describe("the game screen", () => {
  it("shows the top bar, my CPU's code with the arrow, the other CPUs, the machine, the log and the keys", () => {
    const s = clientIn("basics-lost-update", [step(0)]);
    const out = renderToString(<Game {...props(s)} />, { columns: 120 });
    fits(out, 120, 40);
    const ls = lines(out);
    expect(ls[0]).toMatch(/^FAULTLINE · 1\/\d+ Two CPUs, one counter · hunt · basics · room K7M2QX/);
    expect(ls[1]).toBe("Goal: Make it happen: Lost update: an increment was overwritten.");
    expect(ls[2]).toMatch(/^preemptions 0 \/ par 1 · steps 1 · hints 0 used · rewinds 0 · ▸CPU0 T0: you · CPU1 T1: manual/);
    expect(out).toMatch(/▸ CPU0 \(T0\) \[you\] · counter_inc\(\)/);
    expect(out).toMatch(/\n {6}tmp = READ_ONCE\(counter\);/);
    expect(out).toMatch(/\n {4}→ WRITE_ONCE\(counter, tmp \+ 1\);/);
    expect(out).toContain("locals: tmp=0");
    expect(out).toMatch(/CPU1 \(T1\) \[manual\] ▶ next: tmp = READ_ONCE\(counter\);/);
    expect(out).toContain("counter = 0, increments = 0");
    expect(out).toContain("#1 CPU0 (T0) counter_inc: tmp = READ_ONCE(counter);");
    expect(ls.at(-1)).toMatch(/^Enter run to next decision · Space step · Tab\/0-9 CPU · h hint · u rewind/);
  });

  it("draws page tables, folios, locks and TLBs for a kernel level", () => {
    const s = clientIn("r5-six-steps", [step(0), step(0), step(0)]);
    const out = renderToString(<Game {...props(s)} />, { columns: 120 });
    fits(out, 120, 40);
    expect(out).toContain("Page tables");
    expect(out).toContain("0123456789abcdef  · none  r RO  w RW  s swap");
    expect(out).toMatch(/ {2}w···············$/m);
    expect(out).toMatch(/pfn 1: refcount \d+/);
    expect(out).toContain("mmap_lock of A: read-held by CPU0 (A1)");
    expect(out).toContain("CPU0 (A1): TLB empty, IRQs on");
    expect(out).toContain("DMA device:");
  });

  it("says why a CPU cannot run", () => {
    const s = clientIn("basics-spinlock", [{ kind: "knob", knob: "lock", value: "spin_lock" }, step(0), step(1)], { mine: [0, 1], policy: "manual" });
    const out = renderToString(<Game {...props(s, { selected: 1 })} />, { columns: 120 });
    expect(out).toContain("■ cannot run: spinning on counter_lock, held by CPU0 (T0)");
    expect(out).toContain("counter_lock: held by CPU0 (T0)");
  });

  it("shows the syscall menu, the help and the quit question in the body", () => {
    const s = clientIn("basics-fork-cow");
    const menu = renderToString(<Game {...props(s, { selected: 1, overlay: "menu", menuCursor: 1 })} />, { columns: 120 });
    const choices = s.game!.cpus[1].choices!;
    expect(menu).toContain("CPU1 (B1) is at a syscall menu: what does it run next?");
    expect(menu).toContain(`▸ 2. ${choices[1]}`);
    expect(menu).toContain("↑↓ choose · Enter or 1-9 pick it · Esc close");
    const help = renderToString(<Game {...props(s, { overlay: "help" })} />, { columns: 120 });
    fits(help, 120, 40);
    expect(help).toContain("Help (Esc or ? closes)");
    // The game's keys lead, then the symbols begin (talk's keys pushed the PTE legend below the first page).
    expect(help).toContain("CPUs:   ▶ ready");
    const quit = renderToString(<Game {...props(s, { overlay: "quit" })} />, { columns: 120 });
    expect(quit).toContain("Quit Faultline?");
    expect(quit).toContain("y yes · n or Esc no");
  });

  it("fits an 80×24 terminal in one column", () => {
    const s = clientIn("r5-six-steps", [step(0), step(1)]);
    const out = renderToString(<Game {...props(s, {}, 80, 24)} />, { columns: 80 });
    fits(out, 80, 24);
    expect(out).toContain("▸ CPU0 (A1)");
  });
});

describe("the debrief", () => {
  it("says what broke, draws the timeline with the breaking step, gives the fix, the score and the keys", () => {
    const s = clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]);
    const out = renderToString(<Debrief {...props(s)} />, { columns: 120 });
    fits(out, 120, 40);
    expect(out).toContain("DEBRIEF · Two CPUs, one counter · K7M2QX-1");
    expect(out).toContain("✓ You broke it: counter is 1 after 2 completed increments: an update was lost");
    expect(out).toMatch(/Score 1000 · 1 preemption \(par 1, on par\) · 4 steps · hints 0 · rewinds 0 · resets 0/);
    expect(out).toContain("CPU0 T0 · ● ● ·");
    expect(out).toContain("CPU1 T1 ● · · ✖");
    expect(out).toContain("The breaking step: #4 CPU1 (T1) counter_inc: WRITE_ONCE(counter, tmp + 1);");
    expect(out).toContain("atomic_inc()");
    expect(lines(out).at(-1)).toBe("p replay · r retry · n next level · g final machine · t chat · b lobby · ? help · q quit");
  });

  it("follows the replay cursor", () => {
    const s = clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]);
    const out = renderToString(<Debrief {...props(s, { replay: { at: 2, playing: false } })} />, { columns: 120 });
    expect(out).toContain("Replay 2/4 ❚❚: #2 CPU0 (T0) counter_inc: tmp = READ_ONCE(counter);");
    expect(out).toMatch(/\n {10}\^   ▲/);
  });
});

describe("the lobby, intro and dashboard", () => {
  it("lists the campaign with completion marks and best scores", () => {
    const s = clientInLobby();
    const out = renderToString(<Lobby {...{ ...props(s), progress: { "basics-lost-update": { won: true, best: 990, played: 2 }, "basics-spinlock": { won: false, best: null, played: 1 } } }} />, { columns: 120 });
    fits(out, 120, 40);
    expect(out).toContain("Playing as me on ws://127.0.0.1:7373/");
    expect(out).toMatch(/▸ ✓  1\. Two CPUs, one counter +hunt +basics +best 990/);
    expect(out).toMatch(/ {2}◐  2\. Take the lock/);
    expect(out).toContain("basics-lost-update · 2 CPUs (T0, T1) · par 1 preemption");
  });

  it("shows a level's intro, goal and fix choices before it starts", () => {
    const s = clientIn("basics-spinlock", [], { policy: "adversary" });
    const out = renderToString(<Intro {...props(s, { introDone: null }, 100, 40)} />, { columns: 100 });
    fits(out, 100, 40);
    expect(out).toContain("Take the lock · defend · basics");
    expect(out).toContain("Goal: Choose a fix and let every CPU finish");
    expect(out).toMatch(/\(●\) 1\. No lock/);
    expect(out).toMatch(/\( \) 2\. spin_lock/);
    expect(out).toContain("Press Enter to begin. Your CPUs: CPU0");
    // What a fix costs comes from the level file: r5-pick-the-fix charges for one of its options.
    const costly = clientIn("r5-pick-the-fix", [], { policy: "adversary" });
    expect(renderToString(<Intro {...props(costly, { introDone: null })} />, { columns: 120 })).toMatch(/\(costs \d+ points\)/);
  });

  it("shows every team live", () => {
    const s = {
      ...clientInLobby(),
      workshop: { id: "ABCDEFGH", title: "Class", token: "x".repeat(43) },
      dashboard: {
        workshop: { id: "ABCDEFGH", title: "Class", paused: true },
        teams: [
          { room: "K7M2QX", team: "red", level: "basics-lost-update", attempt: "K7M2QX-1", phase: "over" as const, steps: 4, hintsUsed: 1, rewinds: 0, outcome: "won" as const, score: 900, totalScore: 900, finished: 1, members: 2, connected: 1 },
        ],
      },
    };
    const out = renderToString(<Dashboard {...props(s, { dashboard: true })} />, { columns: 120 });
    fits(out, 120, 40);
    expect(out).toContain("WORKSHOP Class · code ABCDEFGH · ❚❚ PAUSED");
    expect(out).toMatch(/▸ K7M2QX red +basics-lost-update +■ over +4 +1 +0 +✓ won 900 +900 +1 +1\/2/);
    expect(out).toContain("1 team · 0 in play (paused) · 1 just won · 1 attempts finished");
  });

  it("says plainly when the terminal is too small", () => {
    const out = renderToString(<TooSmall message={tooSmall(60, 20)!} />, { columns: 60 });
    expect(out).toContain("The terminal is 60×20; Faultline needs at least 80×24.");
  });
});
