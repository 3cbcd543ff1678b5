// Keys to intentions: a pure function from (what the server said, what the
// UI shows, the key pressed) to (the next UI state, the protocol messages to
// send, and effects for the shell). The rules stay on the server: a key sends
// the request, and the server's answer (a new state or a refusal) is what the
// player sees.

import type { ClientMessageInput } from "../../protocol/client.js";
import { WATCH_ONLY, type ClientState } from "./store.js";
import { actorName, claimFor, drivable, type Actor } from "./game.js";
import { scrollAt, scrollBy, type Scroll } from "./scroll.js";
import { addCpu, addOp, changeRow, composerRows, removeAt } from "./sandbox.js";
import type { SandboxScenario } from "../../protocol/client.js";

/** The scroll keys of each region (the screens draw with the same keys). */
export const scrollKeys = {
  debrief: (s: ClientState) => `debrief:${s.game?.attempt ?? ""}`,
  intro: (s: ClientState) => `intro:${s.game?.attempt ?? ""}`,
  machine: (s: ClientState) => `machine:${s.game?.attempt ?? ""}`,
  log: (s: ClientState) => `log:${s.room?.code ?? ""}`,
  help: () => "help",
};

/** A scrolling key on region `key`: the UI with the new offset, or null when the key does not scroll. */
function scrolled(ui: UiState, k: KeyPress, key: string, arrows: boolean, page = 10): Outcome | null {
  const at = scrollBy(k, scrollAt(ui.scroll, key), key, page, arrows);
  return at === null ? null : none({ ...ui, scroll: { key, at } });
}

export type { Policy } from "../../protocol/client.js";
import type { Policy } from "../../protocol/client.js";
export type Screen = "connecting" | "offline" | "lobby" | "sandbox" | "intro" | "game" | "debrief" | "dashboard";
export type Overlay = "help" | "quit" | "menu" | "reset" | "log";
export type InputField = "name" | "code" | "announce" | "title" | "save";

export interface UiState {
  overlay: Overlay | null;
  /** The CPU whose listing is shown in full (and which Space steps). */
  selected: Actor | null;
  menuCursor: number;
  /** The open menu's pick runs to the next decision (opened with Enter) rather than one step. */
  menuRun: boolean;
  /** A line being typed (a name, a room code, an announcement). */
  input: { field: InputField; text: string } | null;
  lobbyCursor: number;
  /** The bot policy for rooms this player creates; null: the server's default for the level. */
  policy: Policy | null;
  /** The attempt whose intro the player has read. */
  introDone: string | null;
  knobCursor: number;
  /** The finished attempt whose final machine the player is looking at instead of the debrief. */
  lookAt: string | null;
  /** The debrief's replay cursor (1-based step) and whether it advances by itself. */
  replay: { at: number; playing: boolean } | null;
  teamCursor: number;
  /** The instructor dashboard is open. */
  dashboard: boolean;
  /** The offset of the scrollable region shown (model/scroll.ts). */
  scroll: Scroll | null;
  /** The start this player sent from the intro, and the seq it was sent on (its update may not have arrived yet). */
  startSent: { attempt: string; seq: number } | null;
  /** The sandbox composer is open: the scenario being composed (null: the catalogue's example) and the row the cursor is on. */
  composer: { scenario: SandboxScenario | null; row: number } | null;
}

export const initialUi: UiState = {
  overlay: null,
  selected: null,
  menuCursor: 0,
  menuRun: false,
  input: null,
  lobbyCursor: 0,
  policy: null,
  introDone: null,
  knobCursor: 0,
  lookAt: null,
  replay: null,
  teamCursor: 0,
  dashboard: false,
  scroll: null,
  startSent: null,
  composer: null,
};

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

export type Effect = { kind: "exit" } | { kind: "rename"; name: string } | { kind: "leave" } | { kind: "flash"; text: string };

export interface Outcome {
  ui: UiState;
  send: ClientMessageInput[];
  effects: Effect[];
}

export interface InputContext {
  s: ClientState;
  /** Workshop and team for rooms created from the lobby (`faultline join --workshop ID --team NAME`). */
  workshop?: string;
  team?: string;
  /** Instructor credentials: a workshop created here, or `--workshop ID --token T`. */
  instructor?: { id: string; token: string } | null;
}

export function screenOf(s: ClientState, ui: UiState): Screen {
  if (s.conn === "closed") return "offline";
  if (ui.dashboard) return "dashboard";
  if (!s.player) return "connecting";
  if (!s.room && ui.composer) return "sandbox";
  if (!s.room || !s.game) return "lobby";
  if (s.game.phase === "over" && ui.lookAt !== s.game.attempt) return "debrief";
  if (s.game.phase === "setup" && ui.introDone !== s.game.attempt) return "intro";
  return "game";
}

/** The CPU shown in full: the player's choice while it exists, else the first they may drive, else CPU0. */
export function selectedActor(s: ClientState, ui: UiState): Actor {
  const n = s.game?.cpus.length ?? 0;
  if (ui.selected === "dma" && s.game?.dma) return "dma";
  if (typeof ui.selected === "number" && ui.selected < n) return ui.selected;
  const mine = s.room?.seats.find((x) => x.holder !== null && x.holder === s.you?.member);
  return mine ? mine.cpu : 0;
}

const none = (ui: UiState): Outcome => ({ ui, send: [], effects: [] });
const send = (ui: UiState, ...msgs: ClientMessageInput[]): Outcome => ({ ui, send: msgs, effects: [] });
const flash = (ui: UiState, text: string): Outcome => ({ ui, send: [], effects: [{ kind: "flash", text }] });

const POLICIES: (Policy | null)[] = [null, "manual", "eager", "adversary"];

function printable(k: KeyPress): boolean {
  return !k.ctrl && !k.escape && !k.return && !k.tab && k.input.length > 0 && !/[\p{Cc}]/u.test(k.input);
}

function typing(ctx: InputContext, ui: UiState, k: KeyPress): Outcome {
  const input = ui.input!;
  if (k.escape) return none({ ...ui, input: null });
  if (k.backspace || k.delete) return none({ ...ui, input: { ...input, text: input.text.slice(0, -1) } });
  if (k.return) {
    const text = input.text.trim();
    const done = { ...ui, input: null };
    if (!text) return none(done);
    switch (input.field) {
      case "name":
        return { ui: done, send: [], effects: [{ kind: "rename", name: text }] };
      case "code":
        return send(done, { type: "join", room: text.toUpperCase() });
      case "title":
        return send({ ...done, dashboard: true }, { type: "createWorkshop", title: text });
      case "save":
        return send(done, { type: "saveSandbox", id: text });
      case "announce":
        return ctx.instructor
          ? { ui: done, send: [{ type: "announce", workshop: ctx.instructor.id, token: ctx.instructor.token, text }], effects: [{ kind: "flash", text: `Announcement sent to every team: ${text}` }] }
          : none(done);
    }
  }
  if (printable(k)) {
    const max = input.field === "announce" ? 500 : input.field === "code" ? 6 : input.field === "title" ? 80 : input.field === "save" ? 64 : 32;
    return none({ ...ui, input: { ...input, text: (input.text + k.input).slice(0, max) } });
  }
  return none(ui);
}

function lobbyKey(ctx: InputContext, ui: UiState, k: KeyPress): Outcome {
  const levels = ctx.s.levels;
  if (k.upArrow) return none({ ...ui, lobbyCursor: Math.max(0, ui.lobbyCursor - 1) });
  if (k.downArrow) return none({ ...ui, lobbyCursor: Math.min(levels.length - 1, ui.lobbyCursor + 1) });
  const last = Math.max(0, levels.length - 1);
  if (k.home) return none({ ...ui, lobbyCursor: 0 });
  if (k.end) return none({ ...ui, lobbyCursor: last });
  if (k.pageUp) return none({ ...ui, lobbyCursor: Math.max(0, ui.lobbyCursor - 10) });
  if (k.pageDown) return none({ ...ui, lobbyCursor: Math.min(last, ui.lobbyCursor + 10) });
  if (k.return) {
    const level = levels[ui.lobbyCursor];
    if (!level) return none(ui);
    return send(ui, {
      type: "create",
      level: level.id,
      // A versus level is played versus (the server would make it so anyway): say it.
      ...(level.mode === "versus" ? { versus: true } : {}),
      ...(ui.policy ? { policy: ui.policy } : {}),
      ...(ctx.workshop ? { workshop: ctx.workshop } : {}),
      ...(ctx.team ? { team: ctx.team } : {}),
    });
  }
  switch (k.input) {
    case "j":
      return none({ ...ui, input: { field: "code", text: "" } });
    case "n":
      return none({ ...ui, input: { field: "name", text: ctx.s.player?.name ?? "" } });
    case "p":
      return none({ ...ui, policy: POLICIES[(POLICIES.indexOf(ui.policy) + 1) % POLICIES.length] });
    case "w":
      return none({ ...ui, input: { field: "title", text: "" } });
    case "s":
      // The catalogue comes once per connection; the composer waits for it.
      return ctx.s.sandbox ? none({ ...ui, composer: ui.composer ?? { scenario: null, row: 0 } }) : send({ ...ui, composer: { scenario: null, row: 0 } }, { type: "sandbox" });
  }
  return none(ui);
}

/** The sandbox composer: ↑↓ a row, ←→ its value, Enter on + adds, x removes, c creates the room. */
function sandboxKey(ctx: InputContext, ui: UiState, k: KeyPress): Outcome {
  const comp = ui.composer!;
  if (k.escape || k.input === "b") return none({ ...ui, composer: null });
  const cat = ctx.s.sandbox;
  if (!cat) return none(ui);
  const sc = comp.scenario ?? cat.example;
  const rows = composerRows(cat, sc);
  const at = Math.min(comp.row, rows.length - 1);
  const row = rows[at];
  const set = (scenario: SandboxScenario, r = at) => none({ ...ui, composer: { scenario, row: Math.max(0, Math.min(r, composerRows(cat, scenario).length - 1)) } });
  if (k.upArrow) return set(sc, at - 1);
  if (k.downArrow) return set(sc, at + 1);
  if (k.home) return set(sc, 0);
  if (k.end) return set(sc, rows.length - 1);
  if (k.leftArrow || k.rightArrow) return row.value === "" ? none(ui) : set(changeRow(cat, sc, row, k.leftArrow ? -1 : 1));
  const create = () =>
    send(ui, { type: "createSandbox", scenario: sc, ...(ui.policy ? { policy: ui.policy } : {}) });
  if (k.return) {
    if (row.kind === "addOp") return set(addOp(cat, sc, row.cpu!), at);
    if (row.kind === "addCpu") return set(addCpu(cat, sc), at);
    if (row.kind === "create") return create();
    return flash(ui, "←→ changes this part; c creates the room (or Enter on ▶ at the bottom).");
  }
  switch (k.input) {
    case "c":
      return create();
    case "x": {
      const next = removeAt(sc, row);
      return next ? set(next) : flash(ui, "Nothing to remove here: x removes an operation or a CPU (each CPU keeps one operation, the scenario one CPU).");
    }
    case "r":
      return set(cat.example, 0);
  }
  return none(ui);
}

function introKey(ctx: InputContext, ui: UiState, k: KeyPress): Outcome {
  const s = ctx.s;
  const game = s.game!;
  const knobs = s.room?.level.knobs ?? [];
  const seq = s.seq;
  const room = s.room;
  const me = s.you?.member ?? null;
  const versus = room?.versus === true;
  if (k.return || k.input === " ") {
    // A versus room: a player picks a side before play starts (a full room can only be watched).
    if (versus && room && !room.seats.some((x) => x.holder === me) && room.seats.some((x) => x.holder === null)) {
      return flash(ui, "Pick your side first: Tab to a CPU, then c to take it.");
    }
    const next = { ...ui, introDone: game.attempt };
    return game.phase === "setup" ? send({ ...next, startSent: { attempt: game.attempt, seq } }, { type: "start", seq }) : none(next);
  }
  if (k.input === "b") return backToLobby(ctx, { ...ui, introDone: null });
  const sc = scrolled(ui, k, scrollKeys.intro(s), knobs.length === 0);
  if (sc) return sc;
  if (versus && room) {
    // Seats: Tab (or 0-9 when there is no fix to choose) picks a CPU, c takes it for its side, x hands it back.
    const n = room.seats.length;
    const sel = selectedActor(s, ui);
    const cur = typeof sel === "number" ? sel : 0;
    if (k.tab) return none({ ...ui, selected: (cur + (k.shift ? -1 : 1) + n) % n });
    if (knobs.length === 0 && /^[0-9]$/.test(k.input)) {
      const c = Number(k.input);
      return c < n ? none({ ...ui, selected: c }) : flash(ui, `There is no CPU${c} in this level.`);
    }
    if (k.input === "c") return send(ui, claimFor(room, me, cur));
    if (k.input === "x") {
      return room.seats[cur]?.holder === me ? send(ui, { type: "release", cpu: cur }) : flash(ui, `You do not hold ${actorName(cur, room)}.`);
    }
  }
  if (knobs.length === 0) return none(ui);
  const kc = Math.min(ui.knobCursor, knobs.length - 1);
  if (k.upArrow) return none({ ...ui, knobCursor: Math.max(0, kc - 1) });
  if (k.downArrow) return none({ ...ui, knobCursor: Math.min(knobs.length - 1, kc + 1) });
  const knob = knobs[kc];
  const cur = Math.max(0, knob.options.findIndex((o) => o.value === game.knobs[knob.id]));
  let pick: number | null = null;
  if (k.leftArrow) pick = (cur - 1 + knob.options.length) % knob.options.length;
  else if (k.rightArrow) pick = (cur + 1) % knob.options.length;
  else if (/^[1-9]$/.test(k.input) && Number(k.input) <= knob.options.length) pick = Number(k.input) - 1;
  if (pick === null || pick === cur) return none(ui);
  return send(ui, { type: "knob", seq, knob: knob.id, value: knob.options[pick].value });
}

/** Leave the room for the lobby, its cursor on the level just played (not the room's first). */
function backToLobby(ctx: InputContext, ui: UiState): Outcome {
  const i = ctx.s.levels.findIndex((l) => l.id === (ctx.s.game?.level ?? ctx.s.room?.level.id));
  return { ui: { ...ui, lobbyCursor: i >= 0 ? i : ui.lobbyCursor }, send: [{ type: "leave" }], effects: [{ kind: "leave" }] };
}

function stepMsg(seq: number, a: Actor, choice?: string, type: "step" | "run" = "step"): ClientMessageInput {
  return { type, seq, cpu: a, ...(choice !== undefined ? { choice } : {}) };
}

function gameKey(ctx: InputContext, ui: UiState, k: KeyPress): Outcome {
  const s = ctx.s;
  const game = s.game!;
  // A key pressed right after Enter, before the start's update arrives, acts on the state the start makes (seq + 1),
  // not on the one it replaces (which the server would refuse as stale).
  const pending = game.phase === "setup" && ui.startSent?.attempt === game.attempt && ui.startSent.seq === s.seq;
  const seq = pending ? s.seq + 1 : s.seq;
  const sel = selectedActor(s, ui);
  const view = sel === "dma" ? null : game.cpus[sel];

  if (ui.overlay === "menu") {
    const choices = view?.choices ?? [];
    if (k.escape) return none({ ...ui, overlay: null });
    if (k.upArrow) return none({ ...ui, menuCursor: Math.max(0, ui.menuCursor - 1) });
    if (k.downArrow) return none({ ...ui, menuCursor: Math.min(choices.length - 1, ui.menuCursor + 1) });
    let pick: number | null = null;
    if (k.return || k.input === " ") pick = ui.menuCursor;
    else if (/^[1-9]$/.test(k.input)) pick = Number(k.input) - 1;
    if (pick === null || !choices[pick]) return none(ui);
    return send({ ...ui, overlay: null, menuCursor: 0, menuRun: false }, stepMsg(seq, sel, choices[pick], ui.menuRun ? "run" : "step"));
  }
  if (ui.overlay === "reset") {
    if (k.input === "y") return send({ ...ui, overlay: null }, { type: "reset", seq });
    if (k.input === "n" || k.escape) return none({ ...ui, overlay: null });
    return none(ui);
  }
  if (ui.overlay === "log") {
    if (k.escape || k.input === "l") return none({ ...ui, overlay: null });
    return scrolled(ui, k, scrollKeys.log(s), true) ?? none(ui);
  }
  // The whole event log and every hint, scrollable; it opens at the newest line.
  if (k.input === "l") return none({ ...ui, overlay: "log", scroll: { key: scrollKeys.log(s), at: Number.MAX_SAFE_INTEGER } });
  const sc = scrolled(ui, k, scrollKeys.machine(s), false, 5);
  if (sc) return sc;

  if (k.tab) {
    const order = drivable(s.room, s.you?.member ?? null);
    if (order.length === 0) return flash(ui, "You hold no CPU: press c to take over the one shown.");
    const i = order.indexOf(sel);
    const next = order[(i < 0 ? 0 : i + (k.shift ? -1 : 1) + order.length) % order.length];
    return none({ ...ui, selected: next, menuCursor: 0 });
  }
  if (/^[0-9]$/.test(k.input)) {
    const n = Number(k.input);
    return n < game.cpus.length ? none({ ...ui, selected: n, menuCursor: 0 }) : flash(ui, `There is no CPU${n} in this level.`);
  }
  if (k.input === " " || k.return) {
    const run = k.return === true;
    if (game.phase === "over") return flash(ui, "This attempt is over: press g for the debrief.");
    if (view?.state === "menu") return none({ ...ui, overlay: "menu", menuCursor: 0, menuRun: run });
    // A finished CPU has nothing left to run: say so here instead of asking the server again.
    if (view?.state === "done") return flash(ui, `${actorName(sel, s.room)} has finished: Tab to a CPU that can still run.`);
    return send(ui, stepMsg(seq, sel, undefined, run ? "run" : "step"));
  }
  if (k.input === "m") {
    if (view?.state === "menu") return none({ ...ui, overlay: "menu", menuCursor: 0, menuRun: false });
    return flash(ui, `${actorName(sel, s.room)} has no syscall menu right now.`);
  }
  switch (k.input) {
    case "e":
      return sandboxRoom(s) ? send(ui, { type: "explore" }) : flash(ui, "The explorer answers in sandbox rooms (s in the lobby); here, h asks for a hint.");
    case "S":
      return saveKey(s, ui);
    case "d":
      return game.dma ? send(ui, stepMsg(seq, "dma")) : flash(ui, "This level has no DMA device.");
    case "h":
      return send(ui, { type: "hint", seq });
    case "u":
      return send(ui, { type: "rewind", seq, steps: 1 });
    case "R":
      return none({ ...ui, overlay: "reset" });
    case "c":
      if (sel === "dma") return flash(ui, "The DMA device is not a seat: it follows the room's bot policy.");
      return send(ui, claimFor(s.room, s.you?.member ?? null, sel));
    case "x":
      if (sel === "dma") return none(ui);
      return send(ui, { type: "release", cpu: sel });
    case "g":
      return game.phase === "over" ? none({ ...ui, lookAt: null }) : none(ui);
    case "b":
      return backToLobby(ctx, { ...ui, lookAt: null, replay: null, selected: null });
  }
  return none(ui);
}

function debriefKey(ctx: InputContext, ui: UiState, k: KeyPress): Outcome {
  const s = ctx.s;
  const game = s.game!;
  const n = s.trace.length;
  const seq = s.seq;
  if (ui.replay) {
    if (k.escape) return none({ ...ui, replay: null });
    if (k.leftArrow) return none({ ...ui, replay: { at: Math.max(1, ui.replay.at - 1), playing: false } });
    if (k.rightArrow) return none({ ...ui, replay: { at: Math.min(n, ui.replay.at + 1), playing: false } });
    if (k.input === " ") return none({ ...ui, replay: { ...ui.replay, playing: !ui.replay.playing && ui.replay.at < n } });
  }
  const sc = scrolled(ui, k, scrollKeys.debrief(s), true);
  if (sc) return sc;
  switch (k.input) {
    case "p":
      return n ? none({ ...ui, replay: { at: 1, playing: true } }) : flash(ui, "No step was taken: nothing to replay.");
    // A new attempt starts on the player's own CPU (the last one looked at may be a bot's there).
    case "r":
      return send({ ...ui, replay: null, lookAt: null, selected: null, menuCursor: 0 }, { type: "retry", seq });
    case "n":
      if (!game.offers?.next) return flash(ui, "That was the last level of the campaign.");
      return send({ ...ui, replay: null, lookAt: null, selected: null, menuCursor: 0 }, { type: "next", seq });
    case "g":
      return none({ ...ui, lookAt: game.attempt, replay: null });
    case "S":
      return saveKey(s, ui);
    case "b":
      return backToLobby(ctx, { ...ui, lookAt: null, replay: null, selected: null });
  }
  return none(ui);
}

/** The room plays a sandbox scenario (its level's source says so). */
export const sandboxRoom = (s: ClientState): boolean => s.room?.level.source === "sandbox";

/** S in a sandbox room: name the level file the scenario is saved as. */
function saveKey(s: ClientState, ui: UiState): Outcome {
  if (!sandboxRoom(s)) return flash(ui, "Only a sandbox scenario is saved as a level file (s in the lobby composes one).");
  return none({ ...ui, input: { field: "save", text: "" } });
}

function dashboardKey(ctx: InputContext, ui: UiState, k: KeyPress): Outcome {
  const teams = ctx.s.dashboard?.teams ?? [];
  const ins = ctx.instructor;
  if (k.upArrow) return none({ ...ui, teamCursor: Math.max(0, ui.teamCursor - 1) });
  if (k.downArrow) return none({ ...ui, teamCursor: Math.min(Math.max(0, teams.length - 1), ui.teamCursor + 1) });
  if (k.input === "b") return none({ ...ui, dashboard: false });
  if (!ins) return none(ui);
  const creds = { workshop: ins.id, token: ins.token };
  switch (k.input) {
    case "p":
      return send(ui, ctx.s.dashboard?.workshop.paused ? { type: "resumeWorkshop", ...creds } : { type: "pauseWorkshop", ...creds });
    case "a":
      return none({ ...ui, input: { field: "announce", text: "" } });
    case "h": {
      const team = teams[ui.teamCursor];
      return team
        ? { ui, send: [{ type: "releaseHint", ...creds, room: team.room }], effects: [{ kind: "flash", text: `Next hint released to ${team.team ?? team.room} (free for them).` }] }
        : flash(ui, "No team to send a hint to yet.");
    }
    case "H":
      return { ui, send: [{ type: "releaseHint", ...creds }], effects: [{ kind: "flash", text: "Next hint released to every team (free for them)." }] };
  }
  return none(ui);
}

/**
 * A watcher's keys (joined with --watch): those that would act say so instead of
 * asking the server (which would refuse them, watch-only); Tab looks at every
 * CPU in turn; Enter on the intro only shows the game. Null: the key is a
 * player's too (looking, scrolling, the log, replay, the lobby).
 */
function watchKey(ctx: InputContext, ui: UiState, k: KeyPress, screen: Screen): Outcome | null {
  const game = ctx.s.game!;
  if (screen === "intro") {
    if (k.return || k.input === " ") return none({ ...ui, introDone: game.attempt });
    const knobs = (ctx.s.room?.level.knobs.length ?? 0) > 0;
    if (k.input === "c" || k.input === "x" || k.leftArrow || k.rightArrow || (knobs && /^[1-9]$/.test(k.input))) return flash(ui, WATCH_ONLY);
    return null;
  }
  if (screen === "game" && ui.overlay === null) {
    if (k.tab) {
      const all: Actor[] = [...game.cpus.map((c) => c.cpu), ...(game.dma ? ["dma" as const] : [])];
      const i = all.indexOf(selectedActor(ctx.s, ui));
      return none({ ...ui, selected: all[(i + (k.shift ? -1 : 1) + all.length) % all.length], menuCursor: 0 });
    }
    if (k.return || ["m", "d", "h", "u", "R", "c", "x"].includes(k.input) || (k.input === " " && game.phase !== "over")) return flash(ui, WATCH_ONLY);
  }
  if (screen === "debrief" && (k.input === "r" || k.input === "n")) return flash(ui, WATCH_ONLY);
  return null;
}

export function handleKey(ctx: InputContext, ui: UiState, k: KeyPress): Outcome {
  if (k.ctrl && k.input === "c") return { ui, send: [], effects: [{ kind: "exit" }] };
  if (ui.input) return typing(ctx, ui, k);
  if (ui.overlay === "quit") {
    if (k.input === "y") return { ui, send: [], effects: [{ kind: "exit" }] };
    if (k.input === "n" || k.escape) return none({ ...ui, overlay: null });
    return none(ui);
  }
  if (ui.overlay === "help") {
    if (k.escape || k.input === "?" || k.input === "q") return none({ ...ui, overlay: null });
    return scrolled(ui, k, scrollKeys.help(), true) ?? none(ui);
  }
  if (k.input === "?") return none({ ...ui, overlay: "help", scroll: { key: scrollKeys.help(), at: 0 } });
  if (k.input === "q") return none({ ...ui, overlay: "quit" });
  const screen = screenOf(ctx.s, ui);
  if (k.escape && ui.overlay) return none({ ...ui, overlay: null });
  if (ctx.s.you?.watch && ctx.s.game) {
    const w = watchKey(ctx, ui, k, screen);
    if (w) return w;
  }
  switch (screen) {
    case "lobby":
      return lobbyKey(ctx, ui, k);
    case "sandbox":
      return sandboxKey(ctx, ui, k);
    case "intro":
      return introKey(ctx, ui, k);
    case "game":
      return gameKey(ctx, ui, k);
    case "debrief":
      return debriefKey(ctx, ui, k);
    case "dashboard":
      return dashboardKey(ctx, ui, k);
    case "connecting":
    case "offline":
      return none(ui);
  }
}

/** One tick of the debrief replay: advance the cursor, stopping at the last step. */
export function replayTick(ui: UiState, steps: number): UiState {
  if (!ui.replay?.playing) return ui;
  const at = Math.min(steps, ui.replay.at + 1);
  return { ...ui, replay: { at, playing: at < steps } };
}

/**
 * Messages the client sends by itself when the state changes: join the room
 * named on the command line once welcomed, rejoin a room by code when the seat
 * could not be resumed, watch a workshop, take a free CPU on entering a room
 * (a player needs a seat to act; other CPUs stay with the bots).
 */
export function autoMessages(
  prev: ClientState,
  next: ClientState,
  opts: { room?: string; watch?: { id: string; token: string } | null; watchRoom?: boolean },
): ClientMessageInput[] {
  const out: ClientMessageInput[] = [];
  if (!prev.player && next.player) {
    // --watch: into the room as a watcher (no seat).
    if (opts.room && !next.room) out.push({ type: "join", room: opts.room.toUpperCase(), ...(opts.watchRoom ? { watch: true } : {}) });
    if (opts.watch) out.push({ type: "watchWorkshop", workshop: opts.watch.id, token: opts.watch.token });
  }
  // A seat that could not be resumed (4003): the fresh session joins the same room again by its code.
  if (prev.room && !next.room && prev.player && next.player && prev.player.id !== next.player.id) {
    out.push({ type: "join", room: prev.room.code, ...(prev.you?.watch ? { watch: true } : {}) });
  }
  if (!prev.workshop && next.workshop) out.push({ type: "watchWorkshop", workshop: next.workshop.id, token: next.workshop.token });
  const joinedNow = next.room && next.you && (prev.you?.member !== next.you.member || prev.room?.code !== next.room.code);
  // In a versus room the player picks a side (the intro's seat list) instead of being handed one.
  // A watcher takes no seat.
  if (joinedNow && next.room && next.you && !next.room.versus && !next.you.watch) {
    const me = next.you.member;
    if (!next.room.seats.some((x) => x.holder === me)) {
      const free = next.room.seats.find((x) => x.holder === null);
      if (free) out.push({ type: "claim", cpu: free.cpu });
    }
  }
  return out;
}
