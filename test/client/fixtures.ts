// Client states as a real server would produce them: the pure session
// (src/game) plays the level, its views become the protocol messages, and the
// client's own reducer folds them in. No hand-written machine JSON.

import { applyCommand, newSession, type Command, type Session } from "../../src/game/session.js";
import { gameView, levelInfo } from "../../src/game/view.js";
import { join } from "node:path";
import { loadCampaign, loadLevelFile, type Level } from "../../src/level/load.js";
import { sandboxCatalogue, sandboxLevel } from "../../src/level/sandbox.js";
import type { RoomInfo, ServerMessage, Snapshot } from "../../src/protocol/server.js";
import { initialState, reduce, type ClientState } from "../../src/client/model/store.js";

export const ME = "me-123";
export const URL = "ws://127.0.0.1:7373/";

let campaign: Level[] | null = null;
/** The campaign, then the versus test level (test/fixtures/versus-lost-update.yaml) at the end. */
export function levels(): Level[] {
  return (campaign ??= [...loadCampaign(), loadLevelFile(join(import.meta.dirname, "..", "fixtures", `${VERSUS}.yaml`))]);
}
export const VERSUS = "versus-lost-update";
export function level(id: string): Level {
  const l = levels().find((x) => x.id === id);
  if (!l) throw new Error(`no level ${id}`);
  return l;
}

export interface RoomOpts {
  policy?: "manual" | "eager" | "adversary";
  /** CPUs this player holds (default [0]). */
  mine?: number[];
  /** CPUs another player ("Ada") holds. */
  others?: number[];
  paused?: boolean;
  /** A versus room (default: when the level is a versus level); held seats play for the level's side. */
  versus?: boolean;
}

export function roomInfo(l: Level, o: RoomOpts = {}): RoomInfo {
  const mine = o.mine ?? [0];
  const others = o.others ?? [];
  const policy = o.policy ?? (l.mode === "defend" ? "adversary" : "manual");
  const versus = o.versus ?? l.mode === "versus";
  return {
    code: "K7M2QX",
    level: levelInfo(l),
    policy,
    versus,
    paused: o.paused ?? false,
    workshop: null,
    team: null,
    members: [
      { id: ME, name: "me", connected: true, seats: mine },
      ...(others.length ? [{ id: "ada-1", name: "Ada", connected: true, seats: others }] : []),
    ],
    seats: l.cpus.map((c, cpu) => {
      const holder = mine.includes(cpu) ? ME : others.includes(cpu) ? "ada-1" : null;
      return { cpu, name: c.name, holder, side: versus && holder !== null ? (c.side ?? "red") : null, bot: holder === null ? policy : null };
    }),
    dma: l.device === undefined ? null : policy === "manual" ? "players" : "bot",
    solver: { state: "ready", text: "solved: 12 states, the race is reachable" },
  };
}

export const step = (actor: number | "dma", choice?: string): Command => (choice === undefined ? { kind: "step", actor } : { kind: "step", actor, choice });

/** The session after applying commands (by this player), one second apart. */
export function play(l: Level, cmds: Command[], versus = l.mode === "versus"): Session {
  let s = newSession(l, { versus });
  cmds.forEach((c, i) => (s = applyCommand(l, s, c, 1000 * (i + 1), ME).s));
  return s;
}

export function snapshot(l: Level, s: Session, o: RoomOpts = {}, seq = s.trace.length): Snapshot {
  return { seq, room: roomInfo(l, o), game: gameView(l, s, "K7M2QX-1", "basics-spinlock"), trace: s.trace, intro: l.intro };
}

export function welcome(): ServerMessage {
  return {
    type: "welcome",
    protocol: 1,
    player: { id: ME, name: "me" },
    resumed: false,
    levels: levels().map(levelInfo),
    limits: { maxPayload: 4096, messagesPerSecond: 20, graceMs: 30000 },
  };
}

/** A client that was welcomed and joined a room where `cmds` were played. */
export function clientIn(levelId: string, cmds: Command[] = [], o: RoomOpts = {}): ClientState {
  const l = level(levelId);
  const s = play(l, cmds, o.versus ?? l.mode === "versus");
  let st = initialState(URL);
  st = reduce(st, { kind: "open" });
  st = reduce(st, { kind: "message", msg: welcome() });
  // The room's sequence number counts every command, not only steps.
  st = reduce(st, { kind: "message", msg: { type: "joined", you: { member: ME, token: "t".repeat(32) }, state: snapshot(l, s, o, cmds.length) } });
  return st;
}

/** A client that was welcomed and joined a sandbox room on the catalogue's example, where `cmds` were played. */
export function clientInSandbox(cmds: Command[] = [], o: RoomOpts = {}): ClientState {
  const l = sandboxLevel(sandboxCatalogue().example);
  const s = play(l, cmds);
  let st = reduce(reduce(initialState(URL), { kind: "open" }), { kind: "message", msg: welcome() });
  st = reduce(st, { kind: "message", msg: { type: "sandbox", catalogue: sandboxCatalogue() } });
  return reduce(st, { kind: "message", msg: { type: "joined", you: { member: ME, token: "t".repeat(32) }, state: snapshot(l, s, o, cmds.length) } });
}

/** A welcomed client in the lobby. */
export function clientInLobby(): ClientState {
  let st = initialState(URL);
  st = reduce(st, { kind: "open" });
  return reduce(st, { kind: "message", msg: welcome() });
}
