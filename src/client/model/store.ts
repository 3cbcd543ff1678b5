// The client's picture of the world: a pure fold of what the connection
// reports (open, close, each server message) into one value the screens
// render. The server is the authority on every rule; this only keeps what it
// said, plus a bounded event log in words.

import { myResult, mySides } from "./game.js";
import { keyOf } from "./keys.js";
import type { ChatEntry, DashboardTeam, GameEvent, GameView, LevelInfo, Listing, Mark, Plan, Result, RoomInfo, SandboxCatalogue, ServerMessage, ServerMessageOf, TraceEntry } from "../../protocol/server.js";
import { safeDeep } from "./safe.js";

export type ConnStatus = "connecting" | "open" | "reconnecting" | "closed";

export type LogKind = "step" | "game" | "hint" | "error" | "notice" | "info" | "talk";
export interface LogLine {
  id: number;
  kind: LogKind;
  text: string;
  /** How many times in a row this same line happened (shown as "(xN)" when above 1). */
  repeat?: number;
}

export interface Flash {
  kind: "error" | "notice" | "info";
  text: string;
}

/** A finished attempt as this client saw it (for completion marks and best scores). */
export interface SeenFinish {
  attempt: string;
  level: string;
  result: Result;
}

export interface ClientState {
  url: string;
  conn: ConnStatus;
  /** Why the connection ended, in words (null while it lives or retries). */
  closed: string | null;
  player: { id: string; name: string } | null;
  levels: LevelInfo[];
  /** Who this client is in its room (`watch`: joined as a watcher), as `joined` said. */
  you: ServerMessageOf<"joined">["you"] | null;
  seq: number;
  room: RoomInfo | null;
  game: GameView | null;
  trace: TraceEntry[];
  /** The intro the server sent, and the level it belongs to. */
  intro: { level: string; text: string } | null;
  log: LogLine[];
  nextLogId: number;
  /** The latest error or notice, shown on the status line until the next one. */
  flash: Flash | null;
  /** A workshop created here; `saved`: the file its token was saved to (null: not saved). */
  workshop: { id: string; title: string; token: string; saved?: string | null } | null;
  dashboard: { workshop: { id: string; title: string; paused: boolean }; teams: DashboardTeam[] } | null;
  /** Attempts seen to finish during this session, oldest first (for completion marks and best scores). */
  finished: SeenFinish[];
  /** The kernel-path listings the server sent for this attempt and knob setting (GameView.listings). */
  listings: { key: string; byPath: Record<string, Listing> };
  /** What the room said, oldest first (the latest CHAT_LIMIT). */
  chat: ChatEntry[];
  /** The room's marks in this attempt, and its plan (null: none). */
  marks: Mark[];
  plan: Plan | null;
  /** The sandbox's catalogue, once the server sent it (`sandbox`). */
  sandbox: SandboxCatalogue | null;
  /** The explorer's latest answer in this room (`explorer`). */
  explorer: Omit<ServerMessageOf<"explorer">, "type" | "rid"> | null;
  /** The latest sandbox scenario the server rendered as a level file (`levelFile`), for the shell to write. */
  levelFile: Omit<ServerMessageOf<"levelFile">, "type" | "rid"> | null;
}

export const CHAT_LIMIT = 200;

/** The listings after a view arrives: a snapshot brings them all, an update the new ones (docs/protocol.md, GameView). */
function listingsAfter(s: ClientState, g: GameView, snapshot: boolean): ClientState["listings"] {
  const key = `${g.attempt} ${JSON.stringify(g.knobs)}`;
  const kept = !snapshot && s.listings.key === key ? s.listings.byPath : {};
  return { key, byPath: { ...kept, ...(g.listings ?? {}) } };
}

export const LOG_LIMIT = 200;

export function initialState(url: string): ClientState {
  return {
    url,
    conn: "connecting",
    closed: null,
    player: null,
    levels: [],
    you: null,
    seq: 0,
    room: null,
    game: null,
    trace: [],
    intro: null,
    listings: { key: "", byPath: {} },
    chat: [],
    marks: [],
    plan: null,
    log: [],
    nextLogId: 1,
    flash: null,
    workshop: null,
    dashboard: null,
    finished: [],
    sandbox: null,
    explorer: null,
    levelFile: null,
  };
}

export type ConnEvent =
  | { kind: "open" }
  | { kind: "close"; code: number; reason: string; retrying: boolean }
  | { kind: "message"; msg: ServerMessage }
  /** Something the client itself wants on the log (a local refusal, a hint about keys). */
  | { kind: "local"; flash: Flash };

function log(s: ClientState, kind: LogKind, text: string): ClientState {
  const last = s.log[s.log.length - 1];
  if (last && last.kind === kind && last.text === text) {
    // The same line again (a refused key pressed repeatedly): count it instead of flooding the log.
    return { ...s, log: [...s.log.slice(0, -1), { ...last, repeat: (last.repeat ?? 1) + 1 }] };
  }
  const line: LogLine = { id: s.nextLogId, kind, text };
  const next = s.log.length >= LOG_LIMIT ? [...s.log.slice(s.log.length - LOG_LIMIT + 1), line] : [...s.log, line];
  return { ...s, log: next, nextLogId: s.nextLogId + 1 };
}

/** Who did something, as the room knows them. */
export function whoName(room: RoomInfo | null, by: string, me: string | null): string {
  if (by === "bot") return "the bot";
  if (by === "instructor") return "the instructor";
  if (me !== null && by === me) return "you";
  return room?.members.find((m) => m.id === by)?.name ?? by;
}

/** One trace entry as one line of the event log: step, CPU, function, the line, what changed. */
export function traceLine(e: TraceEntry, room: RoomInfo | null, me: string | null): string {
  const who = e.by === me ? "" : ` [${whoName(room, e.by, me)}]`;
  const what = e.blocked ? `could not run: ${e.wait ?? "blocked"}` : e.changes.length ? e.changes.join("; ") : "no visible change";
  const extra = [e.choice ? `chose ${e.choice}` : "", e.loaded !== undefined ? `loaded "${e.loaded}"` : "", ...(e.notes ?? [])].filter(Boolean);
  return `#${e.step} ${e.actor} ${e.fn}: ${e.line}  -> ${what}${extra.length ? ` (${extra.join("; ")})` : ""}${who}`;
}

/** A game event other than a step, in words. */
export function eventLine(ev: GameEvent, room: RoomInfo | null, me: string | null): string {
  const who = whoName(room, ev.by, me);
  const Who = who.charAt(0).toUpperCase() + who.slice(1);
  switch (ev.kind) {
    case "step":
      return traceLine(ev.entry, room, me);
    case "run":
      return ev.entries.map((e) => traceLine(e, room, me)).join("\n");
    case "knob":
      return `${Who} set ${ev.knob} = ${ev.value}`;
    case "start":
      return `${Who} started the level`;
    case "hint":
      return `Hint ${ev.index + 1}${ev.free ? " (released by the instructor, free)" : ""}: ${ev.text}`;
    case "rewind":
      return `${Who} rewound ${ev.steps} step${ev.steps === 1 ? "" : "s"} (back to step ${ev.to}); rewinds count against the score`;
    case "reset":
      return `${Who} reset the level (counts against the score)`;
    case "attempt":
      return `${Who} started attempt ${ev.attempt}: ${ev.level}`;
  }
}

/** What a watcher (joined with --watch) is told when a key would act. */
export const WATCH_ONLY = "You joined to watch: you cannot act in this room (b goes to the lobby; join without --watch to play).";

/** Friendlier words for the refusals players meet most; the server's own message otherwise. */
export function errorText(code: string, message: string): string {
  switch (code) {
    case "stale-seq":
      return "The machine moved before your key arrived (someone else stepped). Look again and press again.";
    case "paused":
      return "The instructor has paused the workshop: wait for them to resume.";
    case "not-a-player":
      return "You are watching: press c to take over a free CPU.";
    case "watch-only":
      return WATCH_ONLY;
    default:
      return message;
  }
}

const CLOSE_WORDS: Record<number, string> = {
  1000: "the connection closed",
  1001: "the server went away",
  1006: "the connection was lost",
  4000: "you left",
  4001: "the server is shutting down",
  4002: "the server refused a message it could not read",
  4003: "the seat could not be resumed; join again by room code",
  4005: "this client and the server share no protocol version (update Faultline)",
  4008: "too many messages too fast",
  4010: "the connection was too slow and was dropped",
  4011: "you joined from somewhere else; this window was closed",
};

export function closeText(code: number, reason: string): string {
  const words = CLOSE_WORDS[code] ?? `the connection closed (code ${code})`;
  return reason ? `${words}: ${reason}` : words;
}

/** The members who joined, left, dropped or came back between two views of a room (not this player). */
export function memberChanges(before: RoomInfo, after: RoomInfo, me: string | null): string[] {
  const out: string[] = [];
  const old = new Map(before.members.map((m) => [m.id, m]));
  const now = new Map(after.members.map((m) => [m.id, m]));
  for (const m of after.members) {
    if (m.id === me) continue;
    const was = old.get(m.id);
    if (!was) out.push(`${m.name} joined the room`);
    else if (was.connected && !m.connected) out.push(`${m.name} lost the connection (their seat waits for them)`);
    else if (!was.connected && m.connected) out.push(`${m.name} is back`);
  }
  for (const m of before.members) if (m.id !== me && !now.has(m.id)) out.push(`${m.name} left the room`);
  const watchedBefore = new Set((before.watchers ?? []).map((w) => w.id));
  const watchingNow = new Set((after.watchers ?? []).map((w) => w.id));
  for (const w of after.watchers ?? []) if (w.id !== me && !watchedBefore.has(w.id)) out.push(`${w.name} is watching`);
  for (const w of before.watchers ?? []) if (w.id !== me && !watchingNow.has(w.id)) out.push(`${w.name} stopped watching`);
  return out;
}

function recordFinish(s: ClientState, before: GameView | null, game: GameView): ClientState {
  if (!game.result || (before?.attempt === game.attempt && before.result)) return s;
  // Watching a level is not playing it: no completion mark, no best score.
  if (s.you?.watch) return s;
  if (s.finished.some((f) => f.attempt === game.attempt)) return s;
  // A versus attempt counts for the side this player played (won, lost, or only played).
  const result = myResult(game.result, mySides(s.room, s.you?.member ?? null));
  return { ...s, finished: [...s.finished, { attempt: game.attempt, level: game.level, result }] };
}

function applyMessage(s: ClientState, msg: ServerMessage): ClientState {
  const me = s.you?.member ?? null;
  switch (msg.type) {
    case "welcome": {
      // A fresh session (not a resumed seat) starts outside any room, whatever this client showed before.
      const base = msg.resumed ? s : leftRoom(s);
      return log({ ...base, player: msg.player, levels: msg.levels, conn: "open", closed: null }, "info", `Connected as ${msg.player.name}${msg.resumed ? " (seat resumed)" : ""}`);
    }
    case "joined": {
      const st = msg.state;
      const same = s.room?.code === st.room.code;
      let next: ClientState = {
        ...s,
        you: msg.you,
        seq: st.seq,
        room: st.room,
        game: st.game,
        trace: st.trace,
        intro: { level: st.game.level, text: st.intro },
        listings: listingsAfter(s, st.game, true),
        chat: same ? mergeChat(s.chat, st.chat ?? []) : (st.chat ?? []),
        marks: st.marks ?? [],
        plan: st.plan ?? null,
        // Back in the same room (a resumed seat): the log goes on; a new room starts a new log.
        log: same ? s.log : [],
        flash: null,
      };
      if (same) return recordFinish(log(next, "info", `Back in room ${st.room.code}`), s.game, st.game);
      next = log(next, "info", `Joined room ${st.room.code}: ${st.room.level.title}`);
      for (const e of st.trace) next = log(next, "step", traceLine(e, st.room, msg.you.member));
      return recordFinish(next, s.game, st.game);
    }
    case "state": {
      const st = msg.state;
      const next: ClientState = {
        ...s,
        seq: st.seq,
        room: st.room,
        game: st.game,
        trace: st.trace,
        intro: { level: st.game.level, text: st.intro },
        listings: listingsAfter(s, st.game, true),
        // A snapshot carries the latest chat: what this client missed while it read too slowly is in it.
        chat: mergeChat(s.chat, st.chat ?? []),
        marks: st.marks ?? [],
        plan: st.plan ?? null,
      };
      return recordFinish(next, s.game, st.game);
    }
    case "update": {
      if (msg.seq <= s.seq && s.game?.attempt === msg.game.attempt) return s; // already seen (a snapshot overtook it)
      const ev = msg.event;
      let trace = s.trace;
      if (ev.kind === "step") trace = [...s.trace.slice(0, ev.entry.step - 1), ev.entry];
      else if (ev.kind === "run") trace = [...s.trace.slice(0, ev.entries[0].step - 1), ...ev.entries];
      else if (ev.kind === "rewind") trace = s.trace.slice(0, ev.to);
      else if (ev.kind === "reset" || ev.kind === "attempt") trace = [];
      const kind: LogKind = ev.kind === "step" || ev.kind === "run" ? "step" : ev.kind === "hint" ? "hint" : "game";
      // A new attempt starts with a clean log and status line: nothing of the last level's play leaks into it.
      const base: ClientState = ev.kind === "attempt" ? { ...s, log: [], flash: null } : s;
      let next: ClientState = { ...base, seq: msg.seq, game: msg.game, trace, listings: listingsAfter(s, msg.game, false) };
      // A run is one action of many lines: each line gets its own log line, as steps do.
      for (const line of eventLine(ev, s.room, me).split("\n")) next = log(next, kind, line);
      if (ev.kind === "hint") next = { ...next, flash: { kind: "info", text: `Hint ${ev.index + 1}: ${ev.text}` } };
      else if (next.flash?.kind === "error") next = { ...next, flash: null }; // the machine moved on: an old refusal is stale
      return recordFinish(next, s.game, msg.game);
    }
    case "room": {
      // Who came and went, in the room's log.
      let next: ClientState = { ...s, room: msg.room };
      if (s.room?.code === msg.room.code) for (const line of memberChanges(s.room, msg.room, me)) next = log(next, "info", line);
      return next;
    }
    case "error": {
      const text = errorText(msg.code, msg.message);
      return log({ ...s, flash: { kind: "error", text } }, "error", text);
    }
    case "notice": {
      const text = `${msg.from === "instructor" ? "Instructor" : "Server"}: ${msg.text}`;
      return log({ ...s, flash: { kind: "notice", text } }, "notice", text);
    }
    case "workshop":
      return log({ ...s, workshop: { id: msg.workshop.id, title: msg.workshop.title, token: msg.token } }, "info", `Workshop ${msg.workshop.id} created`);
    case "dashboard":
      return { ...s, dashboard: { workshop: msg.workshop, teams: msg.teams } };
    case "chat":
      return { ...s, chat: mergeChat(s.chat, [msg.entry]) };
    case "marks": {
      const next = { ...s, marks: msg.marks };
      const c = msg.change;
      if (!c) return log(next, "talk", "The marks were cleared (a reset or a new attempt).");
      const who = c.by === me ? "You" : c.name;
      const what = c.kind === "set" ? `marked ${markWhere(c.mark)} "${MARK_WORDS[c.mark.kind]}"` : `cleared the mark on ${markWhere(c.mark)}`;
      return log(next, "talk", `${who} ${what}: ${c.mark.line}`);
    }
    case "plan": {
      const next = { ...s, plan: msg.plan };
      const who = msg.change.by === me ? "You" : msg.change.name;
      if (msg.change.kind === "dropped") return log(next, "talk", `${who} dropped the plan.`);
      if (msg.change.kind === "cleared" || !msg.plan) return log(next, "talk", "The plan was for the last level: it is gone.");
      return log(next, "talk", `${who} proposed a plan: ${msg.plan.schedule} (${planSummary(msg.plan)}). Press ${keyOf("planStep")} to play it item by item.`);
    }
    case "sandbox":
      return { ...s, sandbox: msg.catalogue };
    case "explorer": {
      // An answer about an attempt the room has left behind (a retry overtook it) is not shown.
      if (s.game && msg.attempt !== s.game.attempt) return s;
      const { type: _t, rid: _r, ...explorer } = msg;
      const who = msg.by === me ? "" : ` (asked by ${whoName(s.room, msg.by, me)})`;
      return log({ ...s, explorer, flash: { kind: "info", text: msg.text } }, "hint", `${msg.text}${who}`);
    }
    case "levelFile": {
      const { type: _t, rid: _r, ...file } = msg;
      return { ...s, levelFile: file };
    }
    case "ack": // the update that follows carries the new state
    case "replay":
    case "pong":
      return s;
  }
}

/** The words for a mark's kind, as players say them. */
export const MARK_WORDS: Record<Mark["kind"], string> = { stop: "stop here", "run-to": "run to here" };

/** Where a mark is: "CPU1 do_wp_page line 4". */
export function markWhere(m: Pick<Mark, "cpu" | "fn" | "pc">): string {
  return `CPU${m.cpu} ${m.fn} line ${m.pc + 1}`;
}

/** A plan in a few words: its items and where its preview ends. */
export function planSummary(p: Plan): string {
  const items = `${p.items.length} item${p.items.length === 1 ? "" : "s"}, ${p.trace.length} line${p.trace.length === 1 ? "" : "s"}`;
  const pre = `${p.ends.preemptions} preemption${p.ends.preemptions === 1 ? "" : "s"}`;
  const end = p.ends.oracle ? `the race at step ${p.ends.oracle.step}: ${p.ends.oracle.message}` : p.ends.finished ? "every CPU finishes, no race" : "play goes on after it";
  return `${items}; ${end}; ${pre}`;
}

/** Chat entries merged by number: each once, in order, the latest CHAT_LIMIT. */
function mergeChat(have: ChatEntry[], more: ChatEntry[]): ChatEntry[] {
  if (more.length === 0) return have;
  const last = have[have.length - 1]?.n ?? 0;
  // The usual case: the next message in order.
  const fresh = more.every((e) => e.n > last) ? [...have, ...more] : [...new Map([...have, ...more].map((e) => [e.n, e])).values()].sort((a, b) => a.n - b.n);
  return fresh.length > CHAT_LIMIT ? fresh.slice(fresh.length - CHAT_LIMIT) : fresh;
}

export function reduce(s: ClientState, ev: ConnEvent): ClientState {
  switch (ev.kind) {
    case "open":
      return { ...s, conn: "open", closed: null };
    case "close":
      if (ev.retrying) return log({ ...s, conn: "reconnecting" }, "info", `${closeText(ev.code, ev.reason)}; reconnecting…`);
      return { ...s, conn: "closed", closed: closeText(ev.code, ev.reason) };
    case "message":
      // The guard: no string from the server reaches the screen as it came (model/safe.ts).
      return applyMessage(s, safeDeep(ev.msg));
    case "local":
      return log({ ...s, flash: ev.flash }, ev.flash.kind === "error" ? "error" : "info", ev.flash.text);
  }
}

/** Leaving a room (back to the lobby): forget it, keep the connection and the finished list. */
export function leftRoom(s: ClientState): ClientState {
  return { ...s, room: null, game: null, trace: [], intro: null, you: null, seq: 0, flash: null, explorer: null, chat: [], marks: [], plan: null };
}
