// The key bar of each screen, the `?` help screen and README's "Keys" section,
// all from the one key table (model/keys.ts), so they say the same thing.

import type { Screen } from "./input.js";
import { barItems, keyLines, SCOPES, type BarState, type KeyLine, type Scope } from "./keys.js";
import { wrapLine } from "./layout.js";

/** The key bar of a screen (model/keys.ts's bar words for what is open there), "? help · q quit" last. */
export function keyBar(screen: Screen, extra: BarState & { menu?: boolean; log?: boolean; marking?: boolean; typing?: boolean } = {}): string {
  const w = extra.watch === true;
  // A line being typed takes every key: the bar says how to send it or leave it.
  if (extra.typing) return "Enter sends · Esc leaves the line (the game's keys come back)";
  // A sandbox room's own keys (the explorer, the save) come first.
  const sb = extra.sandbox === true && !w;
  const scopes: Scope[] =
    screen === "game"
      ? extra.menu
        ? ["menu", "overlay"]
        : extra.log
          ? ["log", "overlay"]
          : w
            ? ["watchGame", "game"]
            : extra.marking
              ? ["mark", ...(sb ? (["sandboxRoom"] as const) : []), "game"]
              : sb
                ? ["sandboxRoom", "game"]
              : ["game"]
      : screen === "debrief"
        ? [...(w ? (["watchDebrief"] as const) : []), ...(extra.replay ? (["replay"] as const) : sb ? (["sandboxRoom"] as const) : []), "debrief"]
        : screen === "intro"
          ? [...(w ? (["watchIntro"] as const) : []), "intro"]
          : screen === "connecting" || screen === "offline"
            ? []
            : [screen];
  const items = barItems([...scopes, "screens"], { ...extra, scroll: extra.log === true || extra.scroll === true });
  // A watcher's game says so first: its keys only look.
  return [...(w && screen === "game" && !extra.menu && !extra.log ? ["watching"] : []), ...items].join(" · ");
}

/** A question's answers (the quit and reset questions): "y yes · n or Esc no". */
export const answers = (scope: "quit" | "reset"): string => barItems([scope], {}).join(" · ");

/**
 * The key bar cut to `width` columns: items drop from the end of the middle,
 * never "? help" and "q quit" (they must stay on the bar at 80 columns).
 */
export function fitKeys(keys: string, width: number): string {
  const parts = keys.split(" · ");
  const tail: string[] = parts.filter((p) => p === "? help" || p === "q quit");
  const body = parts.filter((p) => !tail.includes(p));
  const join = () => [...body, ...tail].join(" · ");
  while (body.length > 1 && [...join()].length > width) body.pop();
  return join();
}

/** Where a help section's keys apply: its scopes, as SCOPES names them. */
function where(screens: readonly Scope[]): string {
  const names = screens.map((x) => SCOPES[x]);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0];
}

const KEY_COLUMN = 12;

/** Help lines for these keys at `width` columns, under a heading for where they apply. */
export function keyHelp(width: number, ls: KeyLine[] = keyLines()): { text: string; head: boolean }[] {
  const out: { text: string; head: boolean }[] = [];
  let section = "";
  for (const l of ls) {
    const title = where(l.screens);
    if (title !== section) {
      section = title;
      out.push({ text: title.charAt(0).toUpperCase() + title.slice(1), head: true });
    }
    // Words start in their column; keys too long for theirs stand on a line of their own.
    const indent = " ".repeat(2 + KEY_COLUMN + 1);
    const long = [...l.keys].length > KEY_COLUMN;
    if (long) out.push({ text: `  ${l.keys}`, head: false });
    const text = long ? indent + l.words : `  ${l.keys.padEnd(KEY_COLUMN)} ${l.words}`;
    out.push(...wrapLine(text, Math.max(40, width - 1), indent).map((t) => ({ text: t, head: false })));
  }
  return out;
}

/**
 * The help screen's lines at `width` columns: the keys of the screen it was
 * opened on (`first`) lead, then the symbols, then every other key of the table.
 */
export function helpLines(width: number, first: readonly Scope[] = []): { text: string; head: boolean }[] {
  const all = keyLines();
  const lead = (l: KeyLine) => l.screens.some((x) => first.includes(x));
  const symbols = SYMBOLS.flatMap((sec) => [{ text: sec.title, head: true }, ...sec.lines.map((l) => ({ text: `  ${l}`, head: false }))]);
  return [...keyHelp(width, all.filter(lead)), ...symbols, ...keyHelp(width, all.filter((l) => !lead(l)))];
}

const cell = (t: string) => t.replace(/\|/g, "\\|");

/** README's "Keys" table (test/client/keys.test.ts checks README has it). */
export function keysMarkdown(): string {
  const rows = keyLines().map((l: KeyLine) => `| ${cell(where(l.screens))} | ${cell(l.keys)} | ${cell(l.words)} |`);
  return ["| where | key | what it does |", "|---|---|---|", ...rows].join("\n");
}

/** The help screen's sections after the keys: what the screens draw. */
const SYMBOLS: { title: string; lines: string[] }[] = [
  {
    title: "Symbols",
    lines: [
      "CPUs:   ▶ ready   ■ cannot run (the reason follows, in kernel terms)   ◆ at a syscall menu   ✓ finished   ○ not forked yet",
      "Sides:  (red) or (blue) after a CPU in a versus room: the side it plays for",
      "Code:   → the line this CPU runs next;  next→ the first line of the operation it has not started",
      "PTEs:   one character per entry, 16 to a block under the ruler 0123456789abcdef:",
      "        · none   r present, read-only   w present, writable   s swap/non-present;  = under an entry: CONT (contpte) bit",
      "Folios: refcount (a FOLL_PIN adds 1024), mapcount, AnonExclusive ✓/✗, pins, the data word",
      "Timeline: ● ran a line   ~ could not run (spun or waited)   · not stepped   ✖ the step that broke it   ▲ marks it",
      "Par:      the fewest preemptions (switching away from a CPU that could still run) that trigger the race",
    ],
  },
  {
    title: "Talking to the room",
    lines: [
      "Chat: the panel under the code (beside the event log on a wide terminal) once anyone talks; ★ the instructor",
      "Marks: ⊘ stop here (Enter on that CPU stops before the line)  ⇥ run to here (Enter runs it there, through the decisions",
      "       before it); who set it follows the line; » the line under your cursor while you mark (k); a reset clears them",
      "Plan: its timeline above the machine, ^ where the room is on it, ▸ the next item and whose turn it is",
    ],
  },
  {
    title: "Colour",
    lines: ["Every meaning is carried by a symbol or a word; colour only repeats it. NO_COLOR=1 turns colour off."],
  },
  {
    title: "After a level (debrief)",
    lines: [
      "Share: the attempt's schedule, and the faultline run command that replays it (copy it, paste it into a shell)",
      "versus: the debrief names the winning side: red when the race happened, blue when every CPU finished safely",
    ],
  },
  {
    title: "The sandbox (s in the lobby)",
    lines: [
      "Compose a scenario from the server's catalogue: the kernel generation, x86 or arm64, the memory, a child, what each CPU runs.",
      "Every invariant oracle watches its hunt: the first to fire ends it. e asks the explorer, S saves the scenario as a level file.",
    ],
  },
  {
    title: "Watching (faultline join URL --room CODE --watch)",
    lines: ["You see the game, the machine, the log and the debrief without a seat; the keys that would act are refused (a watcher's keys are listed with the others)."],
  },
];
