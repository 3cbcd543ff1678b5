// The client keeps Ink's per-line caches across frames (src/client/frame-cache.ts).
// It must be installed on the Ink we ship (else the frame budget is lost without
// anyone noticing) and must never change a frame: the game screen along a whole
// game renders byte for byte the same with and without it, colours included.

// Colours on before Ink (and its chalk) load, so the frames carry SGR codes to tokenize.
process.env.FORCE_COLOR = "1";

import { describe, expect, it } from "vitest";
import type { ClientState } from "../../src/client/model/store.js";
import type { Command } from "../../src/game/session.js";

// Imported after FORCE_COLOR is set (static imports would run before it).
const { renderToString, Text } = await import("ink");
const { createElement } = await import("react");
const { Game } = await import("../../src/client/screens/Game.js");
const { initialUi } = await import("../../src/client/model/input.js");
const { clientIn, step } = await import("./fixtures.js");
const { frameCacheSize, installFrameCache, resetFrameCache } = await import("../../src/client/frame-cache.js");

/** The first `n` steps of a race, round robin over the level's two CPUs, as client states. */
function walk(levelId: string, n: number): ClientState[] {
  const cmds: Command[] = [];
  const out: ClientState[] = [];
  for (let i = 0; i <= n; i++) {
    out.push(clientIn(levelId, cmds.slice()));
    cmds.push(step(i % 2));
  }
  return out;
}

const frame = (s: ClientState, selected = 0) =>
  renderToString(createElement(Game, { s, ui: { ...initialUi, introDone: s.game?.attempt ?? null, selected }, cols: 120, rows: 40, progress: {} }), {
    columns: 120,
  });

describe("Ink's line caches kept across frames", () => {
  it("is installed on the Ink this project locks", async () => {
    expect(await installFrameCache()).toBe(true);
    // Idempotent: a second install does not wrap the lookups twice.
    expect(await installFrameCache()).toBe(true);
  });

  it("renders every frame of a game exactly as Ink alone does", async () => {
    await installFrameCache();
    const states = walk("r5-six-steps", 10);
    resetFrameCache(false);
    const alone = states.flatMap((s) => [frame(s, 0), frame(s, 1)]);
    expect(frameCacheSize()).toBe(0);
    resetFrameCache(true);
    const cached = states.flatMap((s) => [frame(s, 0), frame(s, 1)]);
    // Twice, so the second pass is served from the cache.
    const again = states.flatMap((s) => [frame(s, 0), frame(s, 1)]);
    expect(frameCacheSize()).toBeGreaterThan(0);
    expect(alone.some((f) => f.includes("\u001b["))).toBe(true);
    expect(new Set(alone).size).toBeGreaterThan(10);
    expect(cached).toEqual(alone);
    expect(again).toEqual(alone);
  });

  it("stays bounded: old lines are forgotten", async () => {
    await installFrameCache();
    resetFrameCache(true);
    for (let i = 0; i < 30; i++) renderToString(createElement(Text, null, Array.from({ length: 400 }, (_, j) => `line ${i}-${j}`).join("\n")));
    // Three lookups (cells, width, widest line), two generations of 4,096 lines each.
    expect(frameCacheSize()).toBeLessThanOrEqual(3 * 2 * 4096);
    expect(frameCacheSize()).toBeGreaterThan(4096);
  });
});
