// Keys to intentions: a pure function from (what the server said, what the
// UI shows, the key pressed) to (the next UI state, the protocol messages to
// send, and effects for the shell). The rules stay on the server: a key sends
// the request, and the server's answer (a new state or a refusal) is what the
// player sees.

import type { ClientMessageInput } from "../../protocol/client.js";
import { WATCH_ONLY, type ClientState } from "./store.js";
import { actorName, claimFor, drivable, type Actor } from "./game.js";
import { BY_SCOPE, bound, type Command, type KeyBinding, type KeyPress, type Scope } from "./keys.js";
import { scrollAt, scrollBy, type Scroll, type ScrollMove } from "./scroll.js";
import { cpuListing } from "./listing.js";
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

export type { Policy } from "../../protocol/client.js";
import type { Policy } from "../../protocol/client.js";
export type Screen = "connecting" | "offline" | "lobby" | "sandbox" | "intro" | "game" | "debrief" | "dashboard";
export type Overlay = "help" | "quit" | "menu" | "reset" | "log" | "mute";
/** chat: a line to the room; plan: a schedule to propose; wchat: the instructor's chat to every team. */
export type InputField = "name" | "code" | "announce" | "title" | "save" | "chat" | "plan" | "wchat";

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
  /** Marking lines (k): the CPU, the kernel path its listing shows, and the line under the cursor. */
  mark: { cpu: number; path: string; line: number } | null;
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
  mark: null,
  composer: null,
};

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

/** A command's handler: the outcome, or null when the key does not apply here (the next binding may take it). */
type Handler = (ctx: InputContext, ui: UiState, k: KeyPress, scope: Scope) => Outcome | null;

/** The scopes active in this state, in priority order (model/keys.ts). */
export function scopesOf(s: ClientState, ui: UiState): Scope[] {
  if (ui.input) return ["always", "typing"];
  if (ui.overlay === "quit") return ["always", "quit"];
  if (ui.overlay === "help") return ["always", "help"];
  const screen = screenOf(s, ui);
  const out: Scope[] = ["always", "screens"];
  // The menu, the reset question and the log take every key of the game they cover.
  const over = screen === "game" && (ui.overlay === "menu" || ui.overlay === "reset" || ui.overlay === "log") ? ui.overlay : null;
  if (over) out.push(over);
  if (ui.overlay) out.push("overlay");
  if (over) return out;
  // A watcher's keys come before a player's on the screens where they differ.
  const watch = s.you?.watch === true && s.game !== null;
  switch (screen) {
    case "lobby":
    case "sandbox":
      out.push(screen);
      break;
    case "dashboard":
      if (ui.overlay === "mute") out.push("mute");
      out.push(screen);
      break;
    case "intro":
      if (watch) out.push("watchIntro");
      out.push("intro");
      break;
    case "game":
      if (watch) out.push("watchGame");
      else {
        // Marking takes its keys first; the game's others still work.
        if (ui.mark) out.push("mark");
        if (sandboxRoom(s)) out.push("sandboxRoom");
      }
      out.push("game");
      break;
    case "debrief":
      if (watch) out.push("watchDebrief");
      if (ui.replay) out.push("replay");
      else if (!watch && sandboxRoom(s)) out.push("sandboxRoom");
      out.push("debrief");
      break;
    case "connecting":
    case "offline":
      break;
  }
  return out;
}

const exit = (ui: UiState): Outcome => ({ ui, send: [], effects: [{ kind: "exit" }] });

/** The scroll region each scope scrolls, its page, and whether ↑↓ scroll it. */
function region(ctx: InputContext, scope: Scope): { key: string; page: number; arrows: boolean } | null {
  const s = ctx.s;
  switch (scope) {
    case "help":
      return { key: scrollKeys.help(), page: 10, arrows: true };
    case "log":
      return { key: scrollKeys.log(s), page: 10, arrows: true };
    case "debrief":
      return { key: scrollKeys.debrief(s), page: 10, arrows: true };
    // ↑↓ choose the knob where there is a fix to choose.
    case "intro":
      return { key: scrollKeys.intro(s), page: 10, arrows: (s.room?.level.knobs ?? []).length === 0 };
    case "game":
      return { key: scrollKeys.machine(s), page: 5, arrows: false };
    default:
      return null;
  }
}

/** A scrolling key in the scope's region: the UI with the new offset. */
const scroll =
  (move: ScrollMove): Handler =>
  (ctx, ui, _k, scope) => {
    const r = region(ctx, scope);
    if (!r || ((move === "up" || move === "down") && !r.arrows)) return null;
    const at = scrollBy(move, scrollAt(ui.scroll, r.key), r.key, r.page);
    return none({ ...ui, scroll: { key: r.key, at } });
  };

function submitLine(ctx: InputContext, ui: UiState): Outcome {
  const input = ui.input!;
  const text = input.text.trim();
  const done = { ...ui, input: null };
  // A plan's empty line records the moves so far; "-" drops the room's plan.
  if (input.field === "plan") return send(done, text === "" ? { type: "plan", record: true } : text === "-" ? { type: "plan", drop: true } : { type: "plan", schedule: text });
  if (!text) return none(done);
  switch (input.field) {
    case "chat":
      return send(done, { type: "chat", text });
    case "wchat":
      return ctx.instructor
        ? { ui: done, send: [{ type: "workshopChat", workshop: ctx.instructor.id, token: ctx.instructor.token, text }], effects: [{ kind: "flash", text: `Said to every team: ${text}` }] }
        : none(done);
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

/** The longest line each input takes (the server's limits: docs/protocol.md). */
const INPUT_MAX: Record<InputField, number> = { name: 32, code: 6, announce: 500, title: 80, save: 64, chat: 280, plan: 400, wchat: 280 };

function typeChar(ui: UiState, k: KeyPress): Outcome {
  const input = ui.input!;
  const max = INPUT_MAX[input.field];
  return none({ ...ui, input: { ...input, text: (input.text + k.input).slice(0, max) } });
}

/** Move the lobby's cursor; `count`: how many levels there are. */
const lobbyMove =
  (to: (cursor: number, count: number) => number): Handler =>
  (ctx, ui) =>
    none({ ...ui, lobbyCursor: to(ui.lobbyCursor, ctx.s.levels.length) });
const lastOf = (count: number) => Math.max(0, count - 1);

function play(ctx: InputContext, ui: UiState): Outcome {
  const level = ctx.s.levels[ui.lobbyCursor];
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

function start(ctx: InputContext, ui: UiState): Outcome {
  const s = ctx.s;
  const game = s.game!;
  const room = s.room;
  const me = s.you?.member ?? null;
  // A versus room: a player picks a side before play starts (a full room can only be watched).
  if (room?.versus === true && !room.seats.some((x) => x.holder === me) && room.seats.some((x) => x.holder === null)) {
    return flash(ui, "Pick your side first: Tab to a CPU, then c to take it.");
  }
  const next = { ...ui, introDone: game.attempt };
  return game.phase === "setup" ? send({ ...next, startSent: { attempt: game.attempt, seq: s.seq } }, { type: "start", seq: s.seq }) : none(next);
}

/** The versus intro's seats: the room and the CPU the cursor is on; null outside a versus room. */
function seats(ctx: InputContext, ui: UiState) {
  const room = ctx.s.room;
  if (room?.versus !== true) return null;
  const sel = selectedActor(ctx.s, ui);
  return { room, me: ctx.s.you?.member ?? null, n: room.seats.length, cur: typeof sel === "number" ? sel : 0 };
}

const seatMove =
  (by: 1 | -1): Handler =>
  (ctx, ui) => {
    const v = seats(ctx, ui);
    return v && none({ ...ui, selected: (v.cur + by + v.n) % v.n });
  };

/** The intro's knobs and the one under the cursor; null when the level has no fix to choose. */
function knobAt(ctx: InputContext, ui: UiState) {
  const knobs = ctx.s.room?.level.knobs ?? [];
  if (knobs.length === 0) return null;
  const kc = Math.min(ui.knobCursor, knobs.length - 1);
  const knob = knobs[kc];
  const cur = Math.max(0, knob.options.findIndex((o) => o.value === ctx.s.game!.knobs[knob.id]));
  return { knobs, kc, knob, cur };
}

const knobMove =
  (by: 1 | -1): Handler =>
  (ctx, ui) => {
    const at = knobAt(ctx, ui);
    return at && none({ ...ui, knobCursor: Math.max(0, Math.min(at.knobs.length - 1, at.kc + by)) });
  };

/** Set the knob under the cursor to option `pick(current, count)` (null: no such option). */
const fixPick =
  (pick: (cur: number, n: number, k: KeyPress) => number | null): Handler =>
  (ctx, ui, k) => {
    const at = knobAt(ctx, ui);
    if (!at) return null;
    const p = pick(at.cur, at.knob.options.length, k);
    if (p === null || p === at.cur) return none(ui);
    return send(ui, { type: "knob", seq: ctx.s.seq, knob: at.knob.id, value: at.knob.options[p].value });
  };

/** The game's seq for a request, and the CPU shown in full with its view. */
function playing(ctx: InputContext, ui: UiState) {
  const s = ctx.s;
  const game = s.game!;
  // A key pressed right after Enter, before the start's update arrives, acts on the state the start makes (seq + 1),
  // not on the one it replaces (which the server would refuse as stale).
  const pending = game.phase === "setup" && ui.startSent?.attempt === game.attempt && ui.startSent.seq === s.seq;
  const seq = pending ? s.seq + 1 : s.seq;
  const sel = selectedActor(s, ui);
  return { s, game, seq, sel, view: sel === "dma" ? null : game.cpus[sel] };
}

/** Enter runs the CPU shown to its next decision, Space steps it; at a menu they open it. */
const runOrStep =
  (run: boolean): Handler =>
  (ctx, ui) => {
    const { s, game, seq, sel, view } = playing(ctx, ui);
    if (game.phase === "over") return flash(ui, "This attempt is over: press g for the debrief.");
    if (view?.state === "menu") return none({ ...ui, overlay: "menu", menuCursor: 0, menuRun: run });
    // A finished CPU has nothing left to run: say so here instead of asking the server again.
    if (view?.state === "done") return flash(ui, `${actorName(sel, s.room)} has finished: Tab to a CPU that can still run.`);
    return send(ui, stepMsg(seq, sel, undefined, run ? "run" : "step"));
  };

const cpuMove =
  (by: 1 | -1): Handler =>
  (ctx, ui) => {
    const s = ctx.s;
    const sel = selectedActor(s, ui);
    const order = drivable(s.room, s.you?.member ?? null);
    if (order.length === 0) return flash(ui, "You hold no CPU: press c to take over the one shown.");
    const i = order.indexOf(sel);
    const next = order[(i < 0 ? 0 : i + by + order.length) % order.length];
    return none({ ...ui, selected: next, menuCursor: 0 });
  };

const menuMove =
  (by: 1 | -1): Handler =>
  (ctx, ui) => {
    const n = playing(ctx, ui).view?.choices?.length ?? 0;
    return none({ ...ui, menuCursor: by < 0 ? Math.max(0, ui.menuCursor - 1) : Math.min(n - 1, ui.menuCursor + 1) });
  };

const replayMove =
  (by: 1 | -1): Handler =>
  (ctx, ui) =>
    none({ ...ui, replay: { at: by < 0 ? Math.max(1, ui.replay!.at - 1) : Math.min(ctx.s.trace.length, ui.replay!.at + 1), playing: false } });

const teamMove =
  (by: 1 | -1): Handler =>
  (ctx, ui) =>
    none({ ...ui, teamCursor: by < 0 ? Math.max(0, ui.teamCursor - 1) : Math.min(Math.max(0, (ctx.s.dashboard?.teams ?? []).length - 1), ui.teamCursor + 1) });

/** A watcher's Tab: every CPU in turn (and the DMA device), though it holds none. */
const watchMove =
  (by: 1 | -1): Handler =>
  (ctx, ui) => {
    const game = ctx.s.game!;
    const all: Actor[] = [...game.cpus.map((c) => c.cpu), ...(game.dma ? ["dma" as const] : [])];
    const i = all.indexOf(selectedActor(ctx.s, ui));
    return none({ ...ui, selected: all[(i + by + all.length) % all.length], menuCursor: 0 });
  };

/** The room plays a sandbox scenario (its level's source says so). */
export const sandboxRoom = (s: ClientState): boolean => s.room?.level.source === "sandbox";

/** The composer's catalogue, scenario, rows and the row under the cursor; null until the catalogue came. */
function composing(ctx: InputContext, ui: UiState) {
  const cat = ctx.s.sandbox;
  if (!cat || !ui.composer) return null;
  const sc = ui.composer.scenario ?? cat.example;
  const rows = composerRows(cat, sc);
  const at = Math.min(ui.composer.row, rows.length - 1);
  return { cat, sc, rows, at, row: rows[at] };
}

/** The composer with this scenario and the cursor on row `r` (kept on the rows there are). */
function composed(ctx: InputContext, ui: UiState, scenario: SandboxScenario, r: number): Outcome {
  const n = composerRows(ctx.s.sandbox!, scenario).length;
  return none({ ...ui, composer: { scenario, row: Math.max(0, Math.min(r, n - 1)) } });
}

const partMove =
  (to: (at: number, n: number) => number): Handler =>
  (ctx, ui) => {
    const c = composing(ctx, ui);
    return c ? composed(ctx, ui, c.sc, to(c.at, c.rows.length)) : none(ui);
  };

const partChange =
  (by: 1 | -1): Handler =>
  (ctx, ui) => {
    const c = composing(ctx, ui);
    return c && c.row.value !== "" ? composed(ctx, ui, changeRow(c.cat, c.sc, c.row, by), c.at) : none(ui);
  };

function createSandbox(ctx: InputContext, ui: UiState): Outcome {
  const c = composing(ctx, ui);
  return c ? send(ui, { type: "createSandbox", scenario: c.sc, ...(ui.policy ? { policy: ui.policy } : {}) }) : none(ui);
}

/** The instructor's credentials for a dashboard command; null: not an instructor here (the key does nothing). */
const creds = (ctx: InputContext) => (ctx.instructor ? { workshop: ctx.instructor.id, token: ctx.instructor.token } : null);

/** Marking: the cursor moved by `by` within the listing it was opened on. */
const markMove =
  (by: 1 | -1): Handler =>
  (ctx, ui) => {
    const mk = ui.mark!;
    const lines = ctx.s.listings.byPath[mk.path]?.lines.length ?? mk.line + 1;
    return none({ ...ui, mark: { ...mk, line: Math.max(0, Math.min(lines - 1, mk.line + by)) } });
  };

/** Marking: a mark of this kind on the line under the cursor ("none" clears it). */
const markSet =
  (kind: "stop" | "run-to" | "none"): Handler =>
  (_ctx, ui) => {
    const mk = ui.mark!;
    return send(ui, { type: "mark", cpu: mk.cpu, path: mk.path, pc: mk.line, kind });
  };

/** Every command of model/keys.ts, handled. */
const HANDLERS: Record<Command, Handler> = {
  exit: (_ctx, ui) => exit(ui),
  help: (_ctx, ui) => none({ ...ui, overlay: "help", scroll: { key: scrollKeys.help(), at: 0 } }),
  quit: (_ctx, ui) => none({ ...ui, overlay: "quit" }),
  closeOverlay: (_ctx, ui) => none({ ...ui, overlay: null }),

  lookAtDebrief: (ctx, ui) => (ctx.s.game!.phase === "over" ? none({ ...ui, lookAt: null }) : none(ui)),
  run: runOrStep(true),
  step: runOrStep(false),
  cpuNext: cpuMove(1),
  cpuPrev: cpuMove(-1),
  cpuLook: (ctx, ui, k) => {
    const n = Number(k.input);
    return n < ctx.s.game!.cpus.length ? none({ ...ui, selected: n, menuCursor: 0 }) : flash(ui, `There is no CPU${n} in this level.`);
  },
  menu: (ctx, ui) => {
    const { s, sel, view } = playing(ctx, ui);
    if (view?.state === "menu") return none({ ...ui, overlay: "menu", menuCursor: 0, menuRun: false });
    return flash(ui, `${actorName(sel, s.room)} has no syscall menu right now.`);
  },
  hint: (ctx, ui) => send(ui, { type: "hint", seq: playing(ctx, ui).seq }),
  rewind: (ctx, ui) => send(ui, { type: "rewind", seq: playing(ctx, ui).seq, steps: 1 }),
  take: (ctx, ui) => {
    const { s, sel } = playing(ctx, ui);
    if (sel === "dma") return flash(ui, "The DMA device is not a seat: it follows the room's bot policy.");
    return send(ui, claimFor(s.room, s.you?.member ?? null, sel));
  },
  release: (ctx, ui) => {
    const { sel } = playing(ctx, ui);
    return sel === "dma" ? none(ui) : send(ui, { type: "release", cpu: sel });
  },
  dma: (ctx, ui) => {
    const { game, seq } = playing(ctx, ui);
    return game.dma ? send(ui, stepMsg(seq, "dma")) : flash(ui, "This level has no DMA device.");
  },
  reset: (_ctx, ui) => none({ ...ui, overlay: "reset" }),
  gameToLobby: (ctx, ui) => backToLobby(ctx, { ...ui, lookAt: null, replay: null, selected: null }),
  // The whole event log and every hint, scrollable; it opens at the newest line.
  log: (ctx, ui) => none({ ...ui, overlay: "log", scroll: { key: scrollKeys.log(ctx.s), at: Number.MAX_SAFE_INTEGER } }),
  explore: (_ctx, ui) => send(ui, { type: "explore" }),
  saveSandbox: (_ctx, ui) => none({ ...ui, input: { field: "save", text: "" } }),

  chat: (_ctx, ui) => none({ ...ui, input: { field: "chat", text: "" } }),
  mark: (ctx, ui) => {
    const { s, sel, view } = playing(ctx, ui);
    if (sel === "dma" || !view) return flash(ui, "Marks go on a CPU's lines: show a CPU first (Tab or 0-9).");
    const l = cpuListing(view, s.listings.byPath);
    if (l.path === null || l.lines.length === 0) return flash(ui, `${actorName(sel, s.room)} shows no listing to mark right now.`);
    return none({ ...ui, mark: { cpu: sel, path: l.path, line: Math.max(0, l.lines.findIndex((x) => x.at)) } });
  },
  plan: (_ctx, ui) => none({ ...ui, input: { field: "plan", text: "" } }),
  planStep: (ctx, ui) => (ctx.s.plan ? send(ui, { type: "planStep", seq: playing(ctx, ui).seq }) : flash(ui, "The room has no plan: P proposes one.")),
  markUp: markMove(-1),
  markDown: markMove(1),
  markStop: markSet("stop"),
  markRunTo: markSet("run-to"),
  markClear: markSet("none"),
  markDone: (_ctx, ui) => none({ ...ui, mark: null }),

  menuUp: menuMove(-1),
  menuDown: menuMove(1),
  menuPick: (ctx, ui, k) => {
    const { seq, sel, view } = playing(ctx, ui);
    const choices = view?.choices ?? [];
    const pick = /^[1-9]$/.test(k.input) ? Number(k.input) - 1 : ui.menuCursor;
    if (!choices[pick]) return none(ui);
    return send({ ...ui, overlay: null, menuCursor: 0, menuRun: false }, stepMsg(seq, sel, choices[pick], ui.menuRun ? "run" : "step"));
  },
  resetYes: (ctx, ui) => send({ ...ui, overlay: null }, { type: "reset", seq: playing(ctx, ui).seq }),
  resetNo: (_ctx, ui) => none({ ...ui, overlay: null }),
  logClose: (_ctx, ui) => none({ ...ui, overlay: null }),

  replayPause: (ctx, ui) => none({ ...ui, replay: { ...ui.replay!, playing: !ui.replay!.playing && ui.replay!.at < ctx.s.trace.length } }),
  replayBack: replayMove(-1),
  replayOn: replayMove(1),
  replayStop: (_ctx, ui) => none({ ...ui, replay: null }),
  replay: (ctx, ui) => (ctx.s.trace.length ? none({ ...ui, replay: { at: 1, playing: true } }) : flash(ui, "No step was taken: nothing to replay.")),
  // A new attempt starts on the player's own CPU (the last one looked at may be a bot's there).
  retry: (ctx, ui) => send({ ...ui, replay: null, lookAt: null, selected: null, menuCursor: 0 }, { type: "retry", seq: ctx.s.seq }),
  next: (ctx, ui) => {
    if (!ctx.s.game!.offers?.next) return flash(ui, "That was the last level of the campaign.");
    return send({ ...ui, replay: null, lookAt: null, selected: null, menuCursor: 0 }, { type: "next", seq: ctx.s.seq });
  },
  finalMachine: (ctx, ui) => none({ ...ui, lookAt: ctx.s.game!.attempt, replay: null }),
  debriefToLobby: (ctx, ui) => backToLobby(ctx, { ...ui, lookAt: null, replay: null, selected: null }),

  seatNext: seatMove(1),
  seatPrev: seatMove(-1),
  seatPick: (ctx, ui, k) => {
    const v = seats(ctx, ui);
    if (!v || (ctx.s.room?.level.knobs ?? []).length > 0) return null;
    const c = Number(k.input);
    return c < v.n ? none({ ...ui, selected: c }) : flash(ui, `There is no CPU${c} in this level.`);
  },
  seatTake: (ctx, ui) => {
    const v = seats(ctx, ui);
    return v && send(ui, claimFor(v.room, v.me, v.cur));
  },
  seatRelease: (ctx, ui) => {
    const v = seats(ctx, ui);
    if (!v) return null;
    return v.room.seats[v.cur]?.holder === v.me ? send(ui, { type: "release", cpu: v.cur }) : flash(ui, `You do not hold ${actorName(v.cur, v.room)}.`);
  },
  start: (ctx, ui) => start(ctx, ui),
  knobUp: knobMove(-1),
  knobDown: knobMove(1),
  fixPrev: fixPick((cur, n) => (cur - 1 + n) % n),
  fixNext: fixPick((cur, n) => (cur + 1) % n),
  fixPick: fixPick((_cur, n, k) => (Number(k.input) <= n ? Number(k.input) - 1 : null)),
  introToLobby: (ctx, ui) => backToLobby(ctx, { ...ui, introDone: null }),

  lobbyUp: lobbyMove((c) => Math.max(0, c - 1)),
  lobbyDown: lobbyMove((c, n) => Math.min(n - 1, c + 1)),
  play: (ctx, ui) => play(ctx, ui),
  join: (_ctx, ui) => none({ ...ui, input: { field: "code", text: "" } }),
  rename: (ctx, ui) => none({ ...ui, input: { field: "name", text: ctx.s.player?.name ?? "" } }),
  bots: (_ctx, ui) => none({ ...ui, policy: POLICIES[(POLICIES.indexOf(ui.policy) + 1) % POLICIES.length] }),
  workshop: (_ctx, ui) => none({ ...ui, input: { field: "title", text: "" } }),
  // The catalogue comes once per connection; the composer waits for it.
  sandbox: (ctx, ui) => {
    const open = { ...ui, composer: ui.composer ?? { scenario: null, row: 0 } };
    return ctx.s.sandbox ? none(open) : send(open, { type: "sandbox" });
  },
  lobbyPageUp: lobbyMove((c) => Math.max(0, c - 10)),
  lobbyPageDown: lobbyMove((c, n) => Math.min(lastOf(n), c + 10)),
  lobbyFirst: lobbyMove(() => 0),
  lobbyLast: lobbyMove((_c, n) => lastOf(n)),

  partUp: partMove((at) => at - 1),
  partDown: partMove((at) => at + 1),
  partPrev: partChange(-1),
  partNext: partChange(1),
  partAdd: (ctx, ui) => {
    const c = composing(ctx, ui);
    if (!c) return none(ui);
    if (c.row.kind === "addOp") return composed(ctx, ui, addOp(c.cat, c.sc, c.row.cpu!), c.at);
    if (c.row.kind === "addCpu") return composed(ctx, ui, addCpu(c.cat, c.sc), c.at);
    if (c.row.kind === "create") return createSandbox(ctx, ui);
    return flash(ui, "←→ changes this part; c creates the room (or Enter on ▶ at the bottom).");
  },
  partRemove: (ctx, ui) => {
    const c = composing(ctx, ui);
    const next = c && removeAt(c.sc, c.row);
    return next ? composed(ctx, ui, next, c.at) : flash(ui, "Nothing to remove here: x removes an operation or a CPU (each CPU keeps one operation, the scenario one CPU).");
  },
  sandboxCreate: (ctx, ui) => createSandbox(ctx, ui),
  sandboxExample: (ctx, ui) => (ctx.s.sandbox ? composed(ctx, ui, ctx.s.sandbox.example, 0) : none(ui)),
  partFirst: partMove(() => 0),
  partLast: partMove((_at, n) => n - 1),
  sandboxBack: (_ctx, ui) => none({ ...ui, composer: null }),

  teamUp: teamMove(-1),
  teamDown: teamMove(1),
  pause: (ctx, ui) => {
    const c = creds(ctx);
    return c ? send(ui, ctx.s.dashboard?.workshop.paused ? { type: "resumeWorkshop", ...c } : { type: "pauseWorkshop", ...c }) : none(ui);
  },
  announce: (ctx, ui) => (creds(ctx) ? none({ ...ui, input: { field: "announce", text: "" } }) : none(ui)),
  hintTeam: (ctx, ui) => {
    const c = creds(ctx);
    if (!c) return none(ui);
    const team = (ctx.s.dashboard?.teams ?? [])[ui.teamCursor];
    return team
      ? { ui, send: [{ type: "releaseHint", ...c, room: team.room }], effects: [{ kind: "flash", text: `Next hint released to ${team.team ?? team.room} (free for them).` }] }
      : flash(ui, "No team to send a hint to yet.");
  },
  hintAll: (ctx, ui) => {
    const c = creds(ctx);
    return c ? { ui, send: [{ type: "releaseHint", ...c }], effects: [{ kind: "flash", text: "Next hint released to every team (free for them)." }] } : none(ui);
  },
  chatAll: (ctx, ui) => (creds(ctx) ? none({ ...ui, input: { field: "wchat", text: "" } }) : none(ui)),
  muteAsk: (ctx, ui) => {
    if (!creds(ctx)) return none(ui);
    return (ctx.s.dashboard?.teams ?? [])[ui.teamCursor]?.players?.length ? none({ ...ui, overlay: "mute" }) : flash(ui, "No player in that team's room to mute.");
  },
  muteToggle: (ctx, ui, k) => {
    // A digit toggles that member of the selected team's room.
    const c = creds(ctx);
    const team = (ctx.s.dashboard?.teams ?? [])[ui.teamCursor];
    const p = team?.players?.[Number(k.input) - 1];
    if (!c || !team || !p) return none(ui);
    return { ui: { ...ui, overlay: null }, send: [{ type: "mute", ...c, room: team.room, member: p.id, muted: !p.muted }], effects: [{ kind: "flash", text: `${p.name} ${p.muted ? "may chat again" : "is muted"} in ${team.team ?? team.room}.` }] };
  },
  dashboardBack: (_ctx, ui) => none({ ...ui, dashboard: false }),

  watchLook: (ctx, ui) => none({ ...ui, introDone: ctx.s.game!.attempt }),
  watchRefuse: (_ctx, ui) => flash(ui, WATCH_ONLY),
  watchRefuseFix: (ctx, ui) => ((ctx.s.room?.level.knobs.length ?? 0) > 0 ? flash(ui, WATCH_ONLY) : null),
  watchNext: watchMove(1),
  watchPrev: watchMove(-1),
  watchRefuseStep: (ctx, ui) => (ctx.s.game!.phase !== "over" ? flash(ui, WATCH_ONLY) : null),

  typeCancel: (_ctx, ui) => none({ ...ui, input: null }),
  typeErase: (_ctx, ui) => none({ ...ui, input: { ...ui.input!, text: ui.input!.text.slice(0, -1) } }),
  typeSend: (ctx, ui) => submitLine(ctx, ui),
  typeChar: (_ctx, ui, k) => typeChar(ui, k),

  quitYes: (_ctx, ui) => exit(ui),
  quitNo: (_ctx, ui) => none({ ...ui, overlay: null }),
  helpClose: (_ctx, ui) => none({ ...ui, overlay: null }),

  scrollUp: scroll("up"),
  scrollDown: scroll("down"),
  pageUp: scroll("pageUp"),
  pageDown: scroll("pageDown"),
  scrollTop: scroll("top"),
  scrollEnd: scroll("end"),
};

/** Leave the room for the lobby, its cursor on the level just played (not the room's first). */
function backToLobby(ctx: InputContext, ui: UiState): Outcome {
  const i = ctx.s.levels.findIndex((l) => l.id === (ctx.s.game?.level ?? ctx.s.room?.level.id));
  return { ui: { ...ui, lobbyCursor: i >= 0 ? i : ui.lobbyCursor }, send: [{ type: "leave" }], effects: [{ kind: "leave" }] };
}

function stepMsg(seq: number, a: Actor, choice?: string, type: "step" | "run" = "step"): ClientMessageInput {
  return { type, seq, cpu: a, ...(choice !== undefined ? { choice } : {}) };
}

/** The binding a key reaches in this state and what it does; null: no binding takes it (nothing happens). */
export function keyTarget(ctx: InputContext, ui: UiState, k: KeyPress): { binding: KeyBinding; scope: Scope; out: Outcome } | null {
  for (const scope of scopesOf(ctx.s, ui)) {
    for (const binding of BY_SCOPE[scope]) {
      if (!bound(binding, k)) continue;
      const out = HANDLERS[binding.command as Command](ctx, ui, k, scope);
      if (out) return { binding, scope, out };
    }
  }
  return null;
}

export function handleKey(ctx: InputContext, ui: UiState, k: KeyPress): Outcome {
  return keyTarget(ctx, ui, k)?.out ?? none(ui);
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
