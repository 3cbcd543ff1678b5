// The key bar of each screen and the `?` help screen: the words in one place,
// so the bar and the help screen say the same thing (README "Keys" repeats them).

import type { Screen } from "./input.js";

export function keyBar(
  screen: Screen,
  extra: { policy?: string | null; over?: boolean; menu?: boolean; replay?: boolean; versus?: boolean; knobs?: boolean; scroll?: boolean; log?: boolean; sandbox?: boolean; watch?: boolean } = {},
): string {
  // A watcher (joined with --watch) has only the keys that look.
  if (extra.watch) {
    const scroll = extra.scroll ? " · PgUp/PgDn scroll" : "";
    if (screen === "intro") return `Enter look at the game · b lobby${scroll} · ? help · q quit`;
    if (screen === "game" && !extra.log) return "watching · Tab/0-9 look at a CPU · l log and hints · PgUp/PgDn machine · b lobby · ? help · q quit";
    if (screen === "debrief") return extra.replay ? "Space pause/play · ←→ step · Esc stop · ? help · q quit" : `p replay · g final machine · b lobby${scroll} · ? help · q quit`;
  }
  switch (screen) {
    case "connecting":
    case "offline":
      return "q quit";
    case "lobby":
      return `↑↓ level · Enter play · s sandbox · j join by code · n name · p bots: ${extra.policy ?? "level default"} · w run a workshop · PgUp/PgDn Home/End · ? help · q quit`;
    case "sandbox":
      return "↑↓ part · ←→ change it · Enter on + adds · x remove · c create the room · r start over · b lobby · ? help · q quit";
    case "intro": {
      const scroll = extra.scroll ? ` · PgUp/PgDn scroll` : "";
      if (extra.versus) {
        const fix = extra.knobs ? " · ↑↓ knob · ←→ or 1-9 fix" : "";
        return `${extra.knobs ? "Tab" : "Tab/0-9"} CPU · c take it (its side) · x hand it back · Enter start${fix} · b lobby${scroll} · ? help · q quit`;
      }
      // A hunt has no fix to choose: no knob keys.
      return extra.knobs ? `Enter start · ↑↓ knob · ←→ or 1-9 choose the fix · b lobby${scroll} · ? help · q quit` : `Enter start · b lobby${scroll} · ? help · q quit`;
    }
    case "game":
      if (extra.menu) return "↑↓ choose · Enter or 1-9 pick it · Esc close";
      if (extra.log) return "↑↓ PgUp/PgDn scroll · Home/End · Esc or l close";
      if (extra.over) return `g debrief · Tab/0-9 look at a CPU · l log${extra.sandbox ? " · S save as a level file" : ""} · b lobby · ? help · q quit`;
      if (extra.sandbox) return "Enter run to next decision · Space step · Tab/0-9 CPU · e explorer · S save · h hint · u rewind · c take · x release · d DMA · R reset · l log and hints · PgUp/PgDn machine · ? help · q quit";
      return "Enter run to next decision · Space step · Tab/0-9 CPU · h hint · u rewind · c take · x release · d DMA · R reset · l log and hints · PgUp/PgDn machine · ? help · q quit";
    case "debrief":
      if (extra.replay) return `Space pause/play · ←→ step · Esc stop · r retry · n next level${extra.scroll ? " · ↑↓ PgUp/PgDn scroll" : ""} · ? help · q quit`;
      return `p replay · r retry · ${extra.sandbox ? "S save as a level file" : "n next level"} · g final machine · b lobby${extra.scroll ? " · ↑↓ PgUp/PgDn scroll" : ""} · ? help · q quit`;
    case "dashboard":
      return "↑↓ team · p pause/resume · a announce · h hint to team · H hint to all · b back · q quit";
  }
}

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

export const HELP_TEXT: { title: string; lines: string[] }[] = [
  {
    title: "Playing",
    lines: [
      "Enter     run the CPU shown in full to its next decision: it runs line after line and stops",
      "          before a line that races with another CPU's next line, before it takes or drops a",
      "          lock another CPU will want (a PTL, mmap_lock, IRQs off), and at a menu, a blocked",
      "          line or its end. One action: the trace shows every line.",
      "Space     step the CPU shown in full (the ▸ one): it runs the line at the arrow",
      "m         open the syscall menu when that CPU is at one (Enter and Space do too: a pick",
      "          after Enter runs to the next decision, after Space steps one line)",
      "Tab       next CPU you may drive (Shift+Tab: previous); 0-9 look at any CPU",
      "d         step the DMA device, when players drive it",
      "h         next rung of the hint ladder (hints cost points)",
      "u         rewind one step (counted in the score)       R  reset the level (asks first)",
      "c         take over the CPU shown from the bot           x  hand it back",
      "          versus: c takes a CPU for the side the level gives it (red or blue; where it gives",
      "          none, c again on your CPU switches its side); in the intro Tab picks the CPU",
      "l         the whole event log and every hint so far (↑↓ PgUp/PgDn scroll, Esc closes)",
      "PgUp/PgDn scroll the machine panel (debrief, intro and help: the whole screen); Home/End",
      "b         back to the lobby      ?  this help      q  quit (asks; y to confirm)",
      "Esc       close any overlay",
    ],
  },
  {
    title: "After a level (debrief)",
    lines: [
      "p replay the schedule step by step (Space pause, ←→ move)   r retry   n next level   g look at the final machine",
      "versus: the debrief names the winning side: red when the race happened, blue when every CPU finished safely",
      "Share: the attempt's schedule, and the faultline run command that replays it (copy it, paste it into a shell)",
    ],
  },
  {
    title: "Watching (faultline join URL --room CODE --watch)",
    lines: [
      "You see the game, the machine, the log and the debrief without a seat: Tab and 0-9 look at any CPU, l the log,",
      "p replays on the debrief. Keys that would act are refused; b goes to the lobby, where you may join to play.",
    ],
  },
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
    title: "Colour",
    lines: ["Every meaning is carried by a symbol or a word; colour only repeats it. NO_COLOR=1 turns colour off."],
  },
  {
    title: "The sandbox (s in the lobby)",
    lines: [
      "Compose a scenario from what the server offers: the kernel generation, the machine (x86 or arm64), the memory,",
      "a child process, and what each CPU runs. ↑↓ a part, ←→ change it, Enter on + adds, x removes, c creates the room.",
      "Every oracle watches the hunt: the first to fire ends it.",
      "e         the explorer: which oracles can still fire from here, and the fewest preemptions each needs (never how)",
      "S         save the scenario as a level file ID.yaml in this folder (faultline lint checks it, serve --levels offers it)",
    ],
  },
];
