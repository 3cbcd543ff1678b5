// Every key of the client, once: what it does (its command, which model/input.ts
// handles), where it applies, and the words the help screen, the key bar and
// README's "Keys" section show. The key bar, the help screen, the too-small
// filter and README are generated from this table (test/client/keys.test.ts
// checks that every binding is reachable, listed in help, and in README).
//
// Adding a key: one row here, and its handler in model/input.ts (the handlers
// are a Record over the commands, so the compiler asks for it). README's table
// then follows: the keys test prints the one to paste, or run
// npx tsx -e 'import("./src/client/model/help.ts").then((m) => console.log(m.keysMarkdown()))'.

/** The subset of Ink's Key this client reads. */
export interface KeyPress {
  input: string;
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  ctrl?: boolean;
  backspace?: boolean;
  delete?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
}

/**
 * Where a binding applies. Screens are lobby, intro, game, debrief, dashboard;
 * the others are what can be open over them. model/input.ts decides which are
 * active (scopesOf), in order: the first binding whose key matches, in an
 * active scope, handles the key.
 */
export const SCOPES = {
  always: "everywhere, even while typing",
  screens: "every screen",
  overlay: "over the game (menu, log, reset question)",
  game: "the game",
  menu: "a syscall menu",
  reset: "the reset question",
  log: "the event log",
  replay: "the debrief's replay",
  debrief: "the debrief",
  intro: "the intro",
  lobby: "the lobby",
  sandbox: "the sandbox's composer",
  sandboxRoom: "a sandbox room (its game and debrief)",
  dashboard: "the instructor's dashboard",
  watchIntro: "a watcher's intro (joined with --watch)",
  watchGame: "a watcher's game",
  watchDebrief: "a watcher's debrief",
  mark: "marking lines of a CPU's code (k)",
  mute: "the dashboard's mute question (m)",
  typing: "typing a line (a name, a room code, a title, an announcement, a level id, chat, a plan)",
  quit: "the quit question",
  help: "help",
} as const;
export type Scope = keyof typeof SCOPES;

/** What the key bar knows of the screen it is drawn on. */
export interface BarState {
  /** The lobby's bot policy for new rooms (null: the level's default). */
  policy?: string | null;
  /** The attempt is over (the game screen shows its final machine). */
  over?: boolean;
  /** The debrief's replay is running. */
  replay?: boolean;
  versus?: boolean;
  /** The level has a fix to choose. */
  knobs?: boolean;
  /** The region scrolls (it is taller than the screen). */
  scroll?: boolean;
  /** This client watches the room (joined with --watch): only the keys that look are on the bar. */
  watch?: boolean;
  /** The room plays a sandbox scenario (its explorer and its save). */
  sandbox?: boolean;
}

/** A key bar item's words in a scope and state; null: not on the bar there. */
type BarWords = string | ((c: BarState, scope: Scope) => string | null);

export interface KeyBinding {
  /** The handler's name in model/input.ts. */
  command: string;
  /** The keys (named keys as KEY_MATCHERS spells them, else the character typed). */
  keys: readonly string[];
  /** More keys that do the same, left off the key bar for room (help and README list them). */
  also?: readonly string[];
  screens: readonly Scope[];
  /** What it does, for the help screen and README. */
  words: string;
  /** Its words on the key bar; no bar: not on the bar. */
  bar?: BarWords;
  /** It still works while the terminal is too small to show the game (quitting, closing). */
  small?: true;
}

/** A player's key while the attempt runs (a watcher has none). */
const live = (w: string) => (c: BarState) => (c.over || c.watch ? null : w);
const whenOver = (w: string) => (c: BarState) => (c.over ? w : null);
const versus = (w: string) => (c: BarState) => (c.versus && !c.watch ? w : null);
const withKnobs = (w: string) => (c: BarState) => (c.knobs && !c.watch ? w : null);
const noReplay = (w: string) => (c: BarState) => (c.replay ? null : w);
const player = (w: string) => (c: BarState) => (c.watch ? null : w);

/**
 * The table. Order matters three ways: a key two bindings of one scope share
 * goes to the first whose handler takes it; the key bar and the help list
 * bindings in this order; neighbours with the same words share one bar item
 * or help line (↑↓ level).
 */
export const KEYS = [
  { command: "exit", keys: ["Ctrl+C"], screens: ["always"], words: "quit at once", small: true },
  { command: "help", keys: ["?"], screens: ["screens"], words: "this help: every key and symbol", bar: "help" },
  { command: "quit", keys: ["q"], screens: ["screens"], words: "quit (asks first)", bar: "quit", small: true },
  { command: "closeOverlay", keys: ["Esc"], screens: ["overlay"], words: "close it", bar: "close", small: true },

  { command: "lookAtDebrief", keys: ["g"], screens: ["game"], words: "the debrief, once the attempt is over", bar: whenOver("debrief") },
  {
    command: "run",
    keys: ["Enter"],
    screens: ["game"],
    words:
      "run the CPU shown in full to its next decision: line after line, stopping before a line that races with another CPU's next line, before it takes or drops a lock another CPU will want (a PTL, mmap_lock, IRQs off), and at a menu, a blocked line or its end (one action; the trace shows every line)",
    bar: live("run to next decision"),
  },
  { command: "step", keys: ["Space"], screens: ["game"], words: "step the CPU shown in full (the ▸ one): it runs the line at the arrow", bar: live("step") },
  { command: "cpuNext", keys: ["Tab"], screens: ["game"], words: "the next CPU you may drive", bar: "CPU" },
  { command: "cpuPrev", keys: ["Shift+Tab"], screens: ["game"], words: "the previous CPU you may drive" },
  { command: "cpuLook", keys: ["0-9"], screens: ["game"], words: "look at any CPU", bar: (c) => (c.watch ? "look at a CPU" : "CPU") },
  { command: "menu", keys: ["m"], screens: ["game"], words: "open the syscall menu where the CPU shown has a choice (Enter and Space open it too: a pick after Enter runs on, after Space steps once)" },
  { command: "hint", keys: ["h"], screens: ["game"], words: "the next rung of the hint ladder (costs 100 points)", bar: live("hint") },
  { command: "rewind", keys: ["u"], screens: ["game"], words: "rewind one step (costs 25 points)", bar: live("rewind") },
  {
    command: "take",
    keys: ["c"],
    screens: ["game"],
    words: "take over the CPU shown from its bot (versus: for the side the level gives it; where it gives none, taking it again switches your side)",
    bar: live("take"),
  },
  { command: "release", keys: ["x"], screens: ["game"], words: "hand the CPU shown back to its bot", bar: live("release") },
  { command: "dma", keys: ["d"], screens: ["game"], words: "step the DMA device (when players drive it)", bar: live("DMA") },
  { command: "reset", keys: ["R"], screens: ["game"], words: "reset the level (asks first; costs 50 points)", bar: live("reset") },
  { command: "gameToLobby", keys: ["b"], screens: ["game"], words: "back to the lobby", bar: (c) => (c.over || c.watch ? "lobby" : null) },
  { command: "log", keys: ["l"], screens: ["game"], words: "the whole event log and every hint so far, wrapped", bar: "log and hints" },

  // Talk (issue 17): a chat line, marks on the code, a plan the room plays item by item.
  { command: "chat", keys: ["t"], screens: ["game"], words: "say something to the room (a one-line input: Enter sends, Esc leaves it)", bar: player("chat") },
  { command: "mark", keys: ["k"], screens: ["game"], words: "mark lines of the CPU shown for the room: stop here, run to here", bar: live("mark") },
  { command: "plan", keys: ["P"], screens: ["game"], words: "propose a plan (1+ 0+ 1+; empty: the moves so far; -: drop it)", bar: live("plan") },
  { command: "planStep", keys: ["."], screens: ["game"], words: "play the plan's next item (your own step or run)", bar: live("plan step") },
  { command: "markUp", keys: ["↑"], screens: ["mark"], words: "the line above or below", bar: "line" },
  { command: "markDown", keys: ["↓"], screens: ["mark"], words: "the line above or below", bar: "line" },
  { command: "markStop", keys: ["s"], screens: ["mark"], words: "mark it: stop here", bar: "stop here" },
  { command: "markRunTo", keys: ["r"], screens: ["mark"], words: "mark it: run to here", bar: "run to here" },
  { command: "markClear", keys: ["x"], screens: ["mark"], words: "clear its mark", bar: "clear" },
  { command: "markDone", keys: ["Esc", "k"], screens: ["mark"], words: "done marking (the game's other keys work meanwhile)", bar: "done" },

  { command: "menuUp", keys: ["↑"], screens: ["menu"], words: "move through the choices", bar: "choose" },
  { command: "menuDown", keys: ["↓"], screens: ["menu"], words: "move through the choices", bar: "choose" },
  {
    command: "menuPick",
    keys: ["Enter", "1-9"],
    also: ["Space"],
    screens: ["menu"],
    words: "pick the choice under the cursor, or by its number (opened with Enter it runs on to the next decision, with Space or m it steps once)",
    bar: "pick it",
  },
  { command: "resetYes", keys: ["y"], screens: ["reset"], words: "reset the level", bar: "yes" },
  { command: "resetNo", keys: ["n", "Esc"], screens: ["reset"], words: "keep playing", bar: "no" },
  { command: "logClose", keys: ["Esc", "l"], screens: ["log"], words: "close the log", bar: "close" },

  { command: "replayPause", keys: ["Space"], screens: ["replay"], words: "pause or play the replay", bar: "pause/play" },
  { command: "replayBack", keys: ["←"], screens: ["replay"], words: "step the replay back or on", bar: "step" },
  { command: "replayOn", keys: ["→"], screens: ["replay"], words: "step the replay back or on", bar: "step" },
  { command: "replayStop", keys: ["Esc"], screens: ["replay"], words: "stop the replay", bar: "stop" },
  { command: "replay", keys: ["p"], screens: ["debrief"], words: "replay the schedule step by step", bar: noReplay("replay") },
  { command: "retry", keys: ["r"], screens: ["debrief"], words: "retry the level", bar: player("retry") },
  { command: "next", keys: ["n"], screens: ["debrief"], words: "the next level", bar: player("next level") },
  { command: "finalMachine", keys: ["g"], screens: ["debrief"], words: "look at the final machine (g there: back to the debrief)", bar: noReplay("final machine") },
  { command: "chat", keys: ["t"], screens: ["debrief"], words: "say something to the room (a one-line input: Enter sends, Esc leaves it)", bar: player("chat") },
  { command: "debriefToLobby", keys: ["b"], screens: ["debrief"], words: "back to the lobby", bar: noReplay("lobby") },

  { command: "seatNext", keys: ["Tab"], screens: ["intro"], words: "versus: the next CPU", bar: versus("CPU") },
  { command: "seatPrev", keys: ["Shift+Tab"], screens: ["intro"], words: "versus: the previous CPU" },
  { command: "seatPick", keys: ["0-9"], screens: ["intro"], words: "versus, when there is no fix to choose: that CPU", bar: (c) => (c.versus && !c.knobs && !c.watch ? "CPU" : null) },
  { command: "seatTake", keys: ["c"], screens: ["intro"], words: "versus: take the CPU for its side", bar: versus("take it (its side)") },
  { command: "seatRelease", keys: ["x"], screens: ["intro"], words: "versus: hand it back", bar: versus("hand it back") },
  { command: "start", keys: ["Enter"], also: ["Space"], screens: ["intro"], words: "start the level (versus: take a CPU first)", bar: "start" },
  { command: "knobUp", keys: ["↑"], screens: ["intro"], words: "a level with a fix to choose: move between its knobs", bar: withKnobs("knob") },
  { command: "knobDown", keys: ["↓"], screens: ["intro"], words: "a level with a fix to choose: move between its knobs", bar: withKnobs("knob") },
  { command: "fixPrev", keys: ["←"], screens: ["intro"], words: "the knob's previous or next option", bar: withKnobs("choose the fix") },
  { command: "fixNext", keys: ["→"], screens: ["intro"], words: "the knob's previous or next option", bar: withKnobs("choose the fix") },
  { command: "fixPick", keys: ["1-9"], screens: ["intro"], words: "the knob's option by its number", bar: withKnobs("choose the fix") },
  { command: "introToLobby", keys: ["b"], screens: ["intro"], words: "back to the lobby", bar: "lobby" },

  { command: "lobbyUp", keys: ["↑"], screens: ["lobby"], words: "move through the levels", bar: "level" },
  { command: "lobbyDown", keys: ["↓"], screens: ["lobby"], words: "move through the levels", bar: "level" },
  { command: "play", keys: ["Enter"], screens: ["lobby"], words: "play the level under the cursor (a versus level opens a versus room)", bar: "play" },
  { command: "join", keys: ["j"], screens: ["lobby"], words: "join a room by its code", bar: "join by code" },
  { command: "rename", keys: ["n"], screens: ["lobby"], words: "change your name", bar: "name" },
  { command: "bots", keys: ["p"], screens: ["lobby"], words: "the bots of the rooms you create: the level's default, manual, eager, adversary", bar: (c) => `bots: ${c.policy ?? "level default"}` },
  { command: "workshop", keys: ["w"], screens: ["lobby"], words: "run a workshop (its dashboard opens)", bar: "run a workshop" },
  { command: "sandbox", keys: ["s"], screens: ["lobby"], words: "the sandbox: compose a scenario (kernel, machine, what each CPU runs) and hunt in it with every oracle watching", bar: "sandbox" },
  { command: "lobbyPageUp", keys: ["PgUp"], screens: ["lobby"], words: "ten levels up or down", bar: "" },
  { command: "lobbyPageDown", keys: ["PgDn"], screens: ["lobby"], words: "ten levels up or down", bar: "" },
  { command: "lobbyFirst", keys: ["Home"], screens: ["lobby"], words: "the first or the last level", bar: "" },
  { command: "lobbyLast", keys: ["End"], screens: ["lobby"], words: "the first or the last level", bar: "" },

  { command: "explore", keys: ["e"], screens: ["sandboxRoom"], words: "which oracles can still fire from here, and in how few preemptions (never how); the room sees it", bar: (c) => (c.over ? null : "explorer") },
  { command: "saveSandbox", keys: ["S"], screens: ["sandboxRoom"], words: "save the scenario as a level file ID.yaml in the folder the game started in", bar: "save as a level file" },

  { command: "partUp", keys: ["↑"], screens: ["sandbox"], words: "move through the scenario's parts", bar: "part" },
  { command: "partDown", keys: ["↓"], screens: ["sandbox"], words: "move through the scenario's parts", bar: "part" },
  { command: "partPrev", keys: ["←"], screens: ["sandbox"], words: "the part's previous or next value in the catalogue", bar: "change it" },
  { command: "partNext", keys: ["→"], screens: ["sandbox"], words: "the part's previous or next value in the catalogue", bar: "change it" },
  { command: "partAdd", keys: ["Enter"], screens: ["sandbox"], words: "on a + row: add an operation or a CPU; on ▶: create the room", bar: "on + adds" },
  { command: "partRemove", keys: ["x"], screens: ["sandbox"], words: "remove the operation (or, on its first rows, the CPU) under the cursor", bar: "remove" },
  { command: "sandboxCreate", keys: ["c"], screens: ["sandbox"], words: "create a room on the scenario and join it (the server names any part it refuses)", bar: "create the room" },
  { command: "sandboxExample", keys: ["r"], screens: ["sandbox"], words: "start over from the catalogue's example", bar: "start over" },
  { command: "partFirst", keys: ["Home"], screens: ["sandbox"], words: "the first or the last part" },
  { command: "partLast", keys: ["End"], screens: ["sandbox"], words: "the first or the last part" },
  { command: "sandboxBack", keys: ["b", "Esc"], screens: ["sandbox"], words: "back to the lobby", bar: "lobby" },

  { command: "teamUp", keys: ["↑"], screens: ["dashboard"], words: "move through the teams", bar: "team" },
  { command: "teamDown", keys: ["↓"], screens: ["dashboard"], words: "move through the teams", bar: "team" },
  { command: "pause", keys: ["p"], screens: ["dashboard"], words: "pause or resume the workshop", bar: "pause/resume" },
  { command: "announce", keys: ["a"], screens: ["dashboard"], words: "announce a line to every team", bar: "announce" },
  { command: "hintTeam", keys: ["h"], screens: ["dashboard"], words: "release the next hint to the team under the cursor (free for them)", bar: "hint to team" },
  { command: "hintAll", keys: ["H"], screens: ["dashboard"], words: "release the next hint to every team (free for them)", bar: "hint to all" },
  { command: "chatAll", keys: ["c"], screens: ["dashboard"], words: "chat to every team (saved in each room's chat)", bar: "chat to all" },
  { command: "muteAsk", keys: ["m"], screens: ["dashboard"], words: "mute or unmute a player of the team under the cursor", bar: "mute" },
  { command: "muteToggle", keys: ["1-9"], screens: ["mute"], words: "mute that player, or let them chat again", bar: "player" },
  { command: "dashboardBack", keys: ["b"], screens: ["dashboard"], words: "leave the dashboard", bar: "back" },

  // A watcher (joined with --watch) looks: the keys that would act say so instead of asking the server.
  { command: "watchLook", keys: ["Enter"], also: ["Space"], screens: ["watchIntro"], words: "look at the game (a watcher starts nothing)", bar: "look at the game" },
  { command: "watchRefuse", keys: ["c", "x", "←", "→"], screens: ["watchIntro"], words: "refused: a watcher does not act" },
  { command: "watchRefuseFix", keys: ["1-9"], screens: ["watchIntro"], words: "refused where there is a fix to choose" },
  { command: "watchNext", keys: ["Tab"], screens: ["watchGame"], words: "the next or previous CPU, every one (and the DMA device)", bar: "look at a CPU" },
  { command: "watchPrev", keys: ["Shift+Tab"], screens: ["watchGame"], words: "the next or previous CPU, every one (and the DMA device)" },
  { command: "watchRefuse", keys: ["Enter", "m", "d", "h", "u", "R", "c", "x", "t", "k", "P", "."], screens: ["watchGame"], words: "refused: a watcher does not act" },
  { command: "watchRefuseStep", keys: ["Space"], screens: ["watchGame"], words: "refused while the attempt runs" },
  { command: "watchRefuse", keys: ["r", "n", "t"], screens: ["watchDebrief"], words: "refused: a watcher does not act" },

  { command: "typeCancel", keys: ["Esc"], screens: ["typing"], words: "cancel the line" },
  { command: "typeErase", keys: ["Backspace", "Delete"], screens: ["typing"], words: "erase the last character" },
  { command: "typeSend", keys: ["Enter"], screens: ["typing"], words: "send the line" },
  { command: "typeChar", keys: ["characters"], screens: ["typing"], words: "add to the line" },

  { command: "quitYes", keys: ["y"], screens: ["quit"], words: "quit: the seat is released and progress saved", bar: "yes", small: true },
  { command: "quitNo", keys: ["n", "Esc"], screens: ["quit"], words: "stay", bar: "no", small: true },
  { command: "helpClose", keys: ["Esc", "?", "q"], screens: ["help"], words: "close the help" },

  // Scrolling, wherever a region is taller than the screen (model/scroll.ts).
  {
    command: "scrollUp",
    keys: ["↑"],
    screens: ["help", "log", "intro", "debrief"],
    words: "scroll a line (the intro: when it has no fix to choose)",
    bar: (c, s) => (s === "log" || (s === "debrief" && c.scroll) ? "scroll" : null),
  },
  {
    command: "scrollDown",
    keys: ["↓"],
    screens: ["help", "log", "intro", "debrief"],
    words: "scroll a line (the intro: when it has no fix to choose)",
    bar: (c, s) => (s === "log" || (s === "debrief" && c.scroll) ? "scroll" : null),
  },
  {
    command: "pageUp",
    keys: ["PgUp"],
    screens: ["help", "log", "intro", "game", "debrief"],
    words: "scroll a page (the game: the machine panel)",
    bar: (c, s) => (s === "game" ? "machine" : s === "log" || c.scroll ? "scroll" : null),
  },
  {
    command: "pageDown",
    keys: ["PgDn"],
    screens: ["help", "log", "intro", "game", "debrief"],
    words: "scroll a page (the game: the machine panel)",
    bar: (c, s) => (s === "game" ? "machine" : s === "log" || c.scroll ? "scroll" : null),
  },
  { command: "scrollTop", keys: ["Home"], screens: ["help", "log", "intro", "game", "debrief"], words: "the top or the end", bar: (_c, s) => (s === "log" ? "" : null) },
  { command: "scrollEnd", keys: ["End"], screens: ["help", "log", "intro", "game", "debrief"], words: "the top or the end", bar: (_c, s) => (s === "log" ? "" : null) },
] as const satisfies readonly KeyBinding[];

export type Command = (typeof KEYS)[number]["command"];

/** The first key of a command, for words that name it ("P proposes a plan"). */
export function keyOf(command: Command): string {
  return (KEYS as readonly KeyBinding[]).find((b) => b.command === command)!.keys[0];
}

function printable(k: KeyPress): boolean {
  return !k.ctrl && !k.escape && !k.return && !k.tab && k.input.length > 0 && !/[\p{Cc}]/u.test(k.input);
}

/** The named keys; any other key in the table is the character typed. */
export const KEY_MATCHERS: Record<string, (k: KeyPress) => boolean> = {
  Enter: (k) => k.return === true,
  Space: (k) => k.input === " ",
  Esc: (k) => k.escape === true,
  Tab: (k) => k.tab === true && k.shift !== true,
  "Shift+Tab": (k) => k.tab === true && k.shift === true,
  "Ctrl+C": (k) => k.ctrl === true && k.input === "c",
  Backspace: (k) => k.backspace === true,
  Delete: (k) => k.delete === true,
  "↑": (k) => k.upArrow === true,
  "↓": (k) => k.downArrow === true,
  "←": (k) => k.leftArrow === true,
  "→": (k) => k.rightArrow === true,
  PgUp: (k) => k.pageUp === true,
  PgDn: (k) => k.pageDown === true,
  Home: (k) => k.home === true,
  End: (k) => k.end === true,
  "0-9": (k) => /^[0-9]$/.test(k.input),
  "1-9": (k) => /^[1-9]$/.test(k.input),
  /** Text being typed: a printable character. */
  characters: printable,
};

export function keyMatches(key: string, k: KeyPress): boolean {
  const named = KEY_MATCHERS[key];
  return named ? named(k) : k.input === key;
}

export const allKeys = (b: KeyBinding): readonly string[] => [...b.keys, ...(b.also ?? [])];

export const bound = (b: KeyBinding, k: KeyPress): boolean => allKeys(b).some((key) => keyMatches(key, k));

/** The bindings of each scope, in table order. */
export const BY_SCOPE = {} as Record<Scope, readonly KeyBinding[]>;
for (const s of Object.keys(SCOPES) as Scope[]) BY_SCOPE[s] = (KEYS as readonly KeyBinding[]).filter((b) => b.screens.includes(s));

/** While the terminal is too small to show the game, only these keys act (no blind moves). */
export const worksWhenSmall = (k: KeyPress): boolean => (KEYS as readonly KeyBinding[]).some((b) => b.small === true && bound(b, k));

/** Keys of neighbouring bindings that share their words, as one label: ↑↓, ←→, else PgUp/PgDn. */
function joinLabels(labels: string[]): string {
  let out = "";
  for (const l of labels) {
    if (!out) out = l;
    else if ((out.endsWith("↑") && l === "↓") || (out.endsWith("←") && l === "→")) out += l;
    else out += `/${l}`;
  }
  return out;
}

/** Help lines: neighbours with the same scopes and words share a line. */
export interface KeyLine {
  screens: readonly Scope[];
  keys: string;
  words: string;
}

export function keyLines(): KeyLine[] {
  const out: { screens: readonly Scope[]; labels: string[]; words: string }[] = [];
  for (const b of KEYS as readonly KeyBinding[]) {
    const last = out.at(-1);
    const label = allKeys(b).join(" or ");
    if (last && last.words === b.words && last.screens.join() === b.screens.join()) last.labels.push(label);
    else out.push({ screens: b.screens, labels: [label], words: b.words });
  }
  return out.map((l) => ({ screens: l.screens, keys: joinLabels(l.labels), words: l.words }));
}

/**
 * The key bar for these scopes (in priority order): each binding with bar words
 * there, in table order; a key an earlier item shows is not shown again.
 */
export function barItems(scopes: readonly Scope[], c: BarState): string[] {
  const items: { labels: string[]; words: string }[] = [];
  const shown = new Set<string>();
  const seen = new Set<KeyBinding>();
  for (const s of scopes) {
    for (const b of BY_SCOPE[s]) {
      if (seen.has(b) || b.bar === undefined) continue;
      seen.add(b);
      const words = typeof b.bar === "function" ? b.bar(c, s) : b.bar;
      const keys = b.keys.filter((k) => !shown.has(k));
      if (words === null || keys.length === 0) continue;
      keys.forEach((k) => shown.add(k));
      const label = keys.join(" or ");
      const last = items.at(-1);
      if (last && last.words === words) last.labels.push(label);
      else items.push({ labels: [label], words });
    }
  }
  return items.map((i) => (i.words ? `${joinLabels(i.labels)} ${i.words}` : joinLabels(i.labels)));
}
