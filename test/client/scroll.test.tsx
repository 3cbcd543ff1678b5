// Everything is reachable at 80×24 (issue 14, item 5): the debrief, the intro,
// the machine panel, the log and hint history and help scroll (PgUp/PgDn,
// Home/End), with a line saying what lies above and below; the key bar keeps
// "? help · q quit".
import { renderToString } from "ink";
import type { ReactElement } from "react";
import { describe, expect, it } from "vitest";
import { fitKeys, keyBar } from "../../src/client/model/help.js";
import { handleKey, initialUi, scrollKeys, type UiState } from "../../src/client/model/input.js";
import { scrollLimits } from "../../src/client/model/scroll.js";
import type { ClientState } from "../../src/client/model/store.js";
import { Debrief } from "../../src/client/screens/Debrief.js";
import { Game } from "../../src/client/screens/Game.js";
import { Intro } from "../../src/client/screens/Intro.js";
import type { ScreenProps } from "../../src/client/screens/props.js";
import { findLevel, loadCampaign } from "../../src/level/load.js";
import { compileLevel } from "../../src/level/compile.js";
import { explore } from "../../src/sim/explore.js";
import type { Command } from "../../src/game/session.js";
import { clientIn, step } from "./fixtures.js";

const COLS = 80;
const ROWS = 24;
function props(s: ClientState, ui: Partial<UiState> = {}): ScreenProps {
  return { s, ui: { ...initialUi, introDone: s.game?.attempt ?? null, ...ui }, cols: COLS, rows: ROWS, progress: {} };
}

/** Every frame from the top to the bottom of region `key` (one per offset); each fits 80×24. */
function allFrames(draw: (ui: Partial<UiState>) => ReactElement, key: string, base: Partial<UiState> = {}): string[] {
  const frames: string[] = [];
  const first = renderToString(draw({ ...base, scroll: { key, at: 0 } }), { columns: COLS });
  frames.push(first);
  const max = scrollLimits.get(key) ?? 0;
  for (let at = 1; at <= max; at++) frames.push(renderToString(draw({ ...base, scroll: { key, at } }), { columns: COLS }));
  for (const f of frames) {
    const ls = f.split("\n");
    expect(ls.length).toBeLessThan(ROWS);
    for (const l of ls) expect([...l].length).toBeLessThanOrEqual(COLS);
  }
  return frames;
}

const shortest = (id: string, knobs: string[] = []): Command[] => {
  const c = compileLevel(findLevel(loadCampaign(), id)!, Object.fromEntries(knobs.map((k) => k.split("="))));
  return explore(c.cfg, c.machine, { oracles: c.oracles }).schedule!.map((a) => ("dma" in a ? step("dma") : step(a.cpu, a.choice)));
};

describe("80×24: every screen shows or scrolls to all of its content", () => {
  it("the debrief of a long level scrolls to its last line, which was cut before", () => {
    const s = clientIn("r5-six-steps", shortest("r5-six-steps"), { mine: [0, 1, 2], policy: "manual" });
    expect(s.game!.result).not.toBeNull();
    const key = scrollKeys.debrief(s);
    const frames = allFrames((ui) => <Debrief {...props(s, ui)} />, key);
    expect(frames.length).toBeGreaterThan(1);
    expect(frames[0]).toMatch(/↓ \d+ more lines? below \(PgDn, End\)/);
    expect(frames.at(-1)).toMatch(/↑ \d+ more lines? above/);
    expect(frames.join("\n")).not.toContain("make the terminal taller");
    // Every word of the level's debrief text is on some frame.
    const seen = frames.join(" ").replace(/\s+/g, " ");
    for (const w of s.game!.debrief!.trim().split(/\s+/).slice(-12)) expect(seen).toContain(w);
    // The keys reach the bottom: End, then PgUp moves back up.
    const end = handleKey({ s }, { ...initialUi, scroll: { key, at: 0 } }, { input: "", end: true }).ui;
    expect(end.scroll).toEqual({ key, at: scrollLimits.get(key) });
    const up = handleKey({ s }, end, { input: "", pageUp: true }).ui;
    expect(up.scroll!.at).toBe(Math.max(0, scrollLimits.get(key)! - 10));
    expect(handleKey({ s }, end, { input: "", downArrow: true }).ui.scroll!.at).toBe(scrollLimits.get(key));
  });

  it("the intro of a five-option defend level scrolls to its last option", () => {
    const s = clientIn("r5-pick-the-fix", [], { policy: "adversary" });
    const frames = allFrames((ui) => <Intro {...props(s, { ...ui, introDone: null })} />, scrollKeys.intro(s), {});
    expect(frames.join("\n")).toContain("5. Kernel 5.19");
    expect(frames[0]).toContain("room K7M2QX");
  });

  it("the machine panel scrolls to the folios and pins in one column", () => {
    const sched = shortest("r5-six-steps");
    const s = clientIn("r5-six-steps", sched.slice(0, 6), { mine: [0, 1, 2], policy: "manual" });
    const frames = allFrames((ui) => <Game {...props(s, ui)} />, scrollKeys.machine(s));
    const all = frames.join("\n");
    for (const head of ["Page tables", "Folios", "Processes", "CPUs"]) expect(all).toContain(head);
    expect(frames[0]).toMatch(/↓ \d+ more lines? below \(PgDn, End\)/);
  });

  it("the log overlay (l) shows every line and hint whole, wrapped, and scrolls", () => {
    const s = clientIn("basics-lost-update", [step(0), { kind: "hint" }, { kind: "hint" }, { kind: "hint" }, step(1)], { mine: [0, 1] });
    expect(s.game!.hints.length).toBe(3);
    const opened = handleKey({ s }, props(s).ui, { input: "l" }).ui;
    expect(opened.overlay).toBe("log");
    const frames = allFrames((ui) => <Game {...props(s, ui)} />, scrollKeys.log(s), { overlay: "log" });
    const flat = frames.join(" ").replace(/\s+/g, " ");
    for (const h of s.game!.hints) expect(flat).toContain(h.replace(/\s+/g, " ").slice(-40));
    expect(flat).toContain("Hints shown (3)");
    expect(handleKey({ s }, opened, { input: "", escape: true }).ui.overlay).toBeNull();
  });

  it("the key bar keeps ? help and q quit at 80 columns", () => {
    for (const bar of [keyBar("game"), keyBar("lobby"), keyBar("debrief", { scroll: true }), keyBar("intro", { versus: true, knobs: true, scroll: true })]) {
      const fitted = fitKeys(bar, COLS - 1);
      expect([...fitted].length).toBeLessThanOrEqual(COLS - 1);
      expect(fitted.endsWith("? help · q quit")).toBe(true);
    }
  });

  it("a hunt's intro shows no knob keys", () => {
    expect(keyBar("intro", { knobs: false })).not.toContain("knob");
    expect(keyBar("intro", { knobs: true })).toContain("knob");
  });
});
