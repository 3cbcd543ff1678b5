// One key table (issue 16): every binding of model/keys.ts is reachable through
// model/input.ts where the table says it applies, is on the help screen, and is
// in README's "Keys" section; the too-small filter lets through only the keys
// the table marks.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { helpLines, keyBar, keyHelp, keysMarkdown } from "../../src/client/model/help.js";
import { initialUi, keyTarget, scopesOf, type InputContext, type UiState } from "../../src/client/model/input.js";
import { allKeys, KEY_MATCHERS, KEYS, keyMatches, worksWhenSmall, type KeyBinding, type KeyPress, type Scope } from "../../src/client/model/keys.js";
import type { ClientState } from "../../src/client/model/store.js";
import { clientIn, clientInLobby, clientInSandbox, step, VERSUS } from "./fixtures.js";
import { sandboxCatalogue } from "../../src/level/sandbox.js";

const TABLE = KEYS as readonly KeyBinding[];

/** The presses a key name stands for (a range: each of its digits). */
function presses(key: string): KeyPress[] {
  const named: Record<string, KeyPress> = {
    Enter: { input: "", return: true },
    Space: { input: " " },
    Esc: { input: "", escape: true },
    Tab: { input: "", tab: true },
    "Shift+Tab": { input: "", tab: true, shift: true },
    "Ctrl+C": { input: "c", ctrl: true },
    Backspace: { input: "", backspace: true },
    Delete: { input: "", delete: true },
    "↑": { input: "", upArrow: true },
    "↓": { input: "", downArrow: true },
    "←": { input: "", leftArrow: true },
    "→": { input: "", rightArrow: true },
    PgUp: { input: "", pageUp: true },
    PgDn: { input: "", pageDown: true },
    Home: { input: "", home: true },
    End: { input: "", end: true },
    characters: { input: "a" },
  };
  if (key === "0-9" || key === "1-9") return [..."0123456789"].filter((d) => key === "0-9" || d !== "0").map((input) => ({ input }));
  return [named[key] ?? { input: key }];
}

const lobby = clientInLobby();
const played = clientIn("basics-lost-update", [step(0)]);
const over = clientIn("basics-lost-update", [step(1), step(0), step(0), step(1)]);
const forkCow = clientIn("basics-fork-cow");
const dashboard: ClientState = {
  ...lobby,
  workshop: { id: "ABCDEFGH", title: "Class", token: "x".repeat(43) },
  dashboard: {
    workshop: { id: "ABCDEFGH", title: "Class", paused: false },
    teams: [0, 1].map((i) => ({ room: `ROOM${i}`, team: `t${i}`, level: "basics-lost-update", attempt: "A-1", phase: "play" as const, steps: 2, hintsUsed: 0, rewinds: 0, outcome: null, score: null, totalScore: 0, finished: 0, members: 2, connected: 2 })),
  },
};
const instructor = { id: "ABCDEFGH", token: "x".repeat(43) };
const seen = (s: ClientState) => ({ introDone: s.game!.attempt });
/** The same room, joined with --watch. */
const watching = (s: ClientState): ClientState => ({ ...s, you: { ...s.you!, watch: true } });
const defend = clientIn("r5-pick-the-fix", [], { policy: "adversary" });
const sandboxGame = clientInSandbox([{ kind: "start" }], { mine: [0, 1] });

/** States covering every scope (and the conditions bindings of one scope share keys under). */
const STATES: { name: string; ctx: InputContext; ui: Partial<UiState> }[] = [
  { name: "lobby", ctx: { s: lobby }, ui: { lobbyCursor: 3 } },
  { name: "typing", ctx: { s: lobby }, ui: { input: { field: "name", text: "me" } } },
  { name: "quit", ctx: { s: played }, ui: { ...seen(played), overlay: "quit" } },
  { name: "help", ctx: { s: played }, ui: { ...seen(played), overlay: "help" } },
  { name: "intro (a hunt)", ctx: { s: clientIn("basics-lost-update") }, ui: {} },
  { name: "intro (a fix to choose)", ctx: { s: defend }, ui: { knobCursor: 0 } },
  { name: "intro (versus)", ctx: { s: clientIn(VERSUS, [], { mine: [0] }) }, ui: {} },
  { name: "game", ctx: { s: played }, ui: seen(played) },
  { name: "game (a DMA device)", ctx: { s: clientIn("r5-six-steps", [step(0)], { mine: [0, 1, 2], policy: "manual" }) }, ui: { introDone: "K7M2QX-1" } },
  { name: "game (over)", ctx: { s: over }, ui: { lookAt: over.game!.attempt } },
  { name: "menu", ctx: { s: forkCow }, ui: { ...seen(forkCow), selected: 1, overlay: "menu", menuCursor: 1 } },
  { name: "reset", ctx: { s: played }, ui: { ...seen(played), overlay: "reset" } },
  { name: "log", ctx: { s: played }, ui: { ...seen(played), overlay: "log" } },
  { name: "debrief", ctx: { s: over }, ui: {} },
  { name: "replay", ctx: { s: over }, ui: { replay: { at: 2, playing: true } } },
  { name: "dashboard", ctx: { s: dashboard, instructor }, ui: { dashboard: true } },
  { name: "watching the intro", ctx: { s: watching(defend) }, ui: {} },
  { name: "watching the game", ctx: { s: watching(played) }, ui: seen(played) },
  { name: "watching the debrief", ctx: { s: watching(over) }, ui: {} },
  { name: "marking", ctx: { s: played }, ui: { ...seen(played), mark: { cpu: 0, path: "counter_inc_unlocked", line: 1 } } },
  {
    name: "mute",
    ctx: { s: { ...dashboard, dashboard: { ...dashboard.dashboard!, teams: dashboard.dashboard!.teams.map((t) => ({ ...t, players: [..."abcdefghi"].map((n, i) => ({ id: `p${i}`, name: n, connected: true, muted: false })) })) } }, instructor },
    ui: { dashboard: true, overlay: "mute" },
  },
  { name: "the sandbox's composer", ctx: { s: { ...lobby, sandbox: sandboxCatalogue() } }, ui: { composer: { scenario: null, row: 7 } } },
  { name: "a sandbox room", ctx: { s: sandboxGame }, ui: seen(sandboxGame) },
];

describe("the key table", () => {
  it("names only keys the matcher knows (a named key, or one character)", () => {
    for (const b of TABLE) for (const k of allKeys(b)) expect(k in KEY_MATCHERS || [...k].length === 1, `${b.command}: ${k}`).toBe(true);
  });

  it("every binding is reachable through input.ts in every scope it names, with every key", () => {
    const missing: string[] = [];
    for (const b of TABLE) {
      for (const scope of b.screens) {
        for (const key of allKeys(b)) {
          const reached = STATES.some(({ ctx, ui }) => {
            const u = { ...initialUi, ...ui };
            if (!scopesOf(ctx.s, u).includes(scope)) return false;
            return presses(key).some((k) => {
              const t = keyTarget(ctx, u, k);
              return t?.binding === b && t.scope === scope;
            });
          });
          if (!reached) missing.push(`${b.command} (${key}) in ${scope}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it("a key no binding takes does nothing", () => {
    const { ctx, ui } = STATES.find((x) => x.name === "game")!;
    const u = { ...initialUi, ...ui };
    expect(keyTarget(ctx, u, { input: "Z" })).toBeNull();
  });

  it("every binding is on the help screen with its keys and words", () => {
    const lines = helpLines(100);
    const flat = lines.map((l) => l.text.trim()).join(" ").replace(/\s+/g, " ");
    for (const b of TABLE) {
      expect(flat, b.command).toContain(b.words);
      for (const k of allKeys(b)) expect(flat, `${b.command}: ${k}`).toContain(k);
    }
    // The keys' lines are wrapped to the screen.
    const keyPart = keyHelp(100);
    expect(keyPart.length).toBeGreaterThan(TABLE.length / 2);
    for (const l of keyPart) expect([...l.text].length, l.text).toBeLessThanOrEqual(99);
    // The keys of the screen help was opened on come first.
    const game = helpLines(100, ["game"]);
    expect(game[0]).toEqual({ text: "The game", head: true });
    expect(game.findIndex((l) => l.text === "Symbols")).toBeLessThan(game.findIndex((l) => l.text === "The lobby"));
  });

  it("README's Keys section is the table", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Keys"), readme.indexOf("\n## ", readme.indexOf("## Keys") + 1));
    expect(section, `README.md's "## Keys" should hold this table:\n${keysMarkdown()}`).toContain(keysMarkdown());
  });

  it("while the terminal is too small only quitting and closing act", () => {
    const acts = ["q", "y", "n"].map((input) => ({ input })).concat([{ input: "", escape: true } as KeyPress, { input: "c", ctrl: true } as KeyPress]);
    for (const k of acts) expect(worksWhenSmall(k), JSON.stringify(k)).toBe(true);
    for (const k of [{ input: " " }, { input: "", return: true }, { input: "h" }, { input: "c" }, { input: "", tab: true }, { input: "1" }, { input: "", pageDown: true }]) {
      expect(worksWhenSmall(k), JSON.stringify(k)).toBe(false);
    }
    // Each of them is a key of a binding the table marks `small`.
    for (const k of acts) expect(TABLE.some((b) => b.small && allKeys(b).some((key) => keyMatches(key, k)))).toBe(true);
  });

  it("every key on a screen's key bar is a key that screen takes", () => {
    const bars: [Parameters<typeof keyBar>, string][] = [
      [["lobby", {}], "lobby"],
      [["intro", { versus: true, scroll: true }], "intro (versus)"],
      [["intro", { knobs: true, scroll: true }], "intro (a fix to choose)"],
      [["game", {}], "game"],
      [["game", { over: true }], "game (over)"],
      [["game", { menu: true }], "menu"],
      [["game", { log: true }], "log"],
      [["debrief", { scroll: true }], "debrief"],
      [["debrief", { replay: true, scroll: true }], "replay"],
      [["dashboard", {}], "dashboard"],
      [["intro", { watch: true, knobs: true, scroll: true }], "watching the intro"],
      [["game", { watch: true }], "watching the game"],
      [["debrief", { watch: true, scroll: true }], "watching the debrief"],
      [["game", { marking: true }], "marking"],
    ];
    for (const [args, name] of bars) {
      const { ctx, ui } = STATES.find((x) => x.name === name)!;
      const u = { ...initialUi, ...ui };
      const active = new Set<Scope>(scopesOf(ctx.s, u));
      const bar = keyBar(...args);
      expect(bar.endsWith("? help · q quit"), bar).toBe(true);
      const taken = new Set(TABLE.filter((b) => b.screens.some((s) => active.has(s))).flatMap((b) => [...b.keys]));
      // A watcher's game bar starts with its mark, not a key.
      for (const item of bar.split(" · ").filter((x) => x !== "watching")) {
        // An item is its keys ("Enter or 1-9", "↑↓/PgUp/PgDn", "Tab/0-9"), then its words.
        const label = item.match(/^\S+(?: or \S+)*/)![0];
        const keys = label.split(/ or |\//).flatMap((k) => (/^[↑↓←→]{2}$/.test(k) ? [...k] : [k]));
        for (const k of keys) expect(taken.has(k), `${name}: "${item}" names ${k}`).toBe(true);
      }
    }
  });
});
