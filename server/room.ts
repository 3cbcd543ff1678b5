// A room: one level instance, its members and seats, and the authoritative
// sequence of commands. Commands are applied in arrival order through the pure
// session (src/game), logged to storage before anyone hears of them, then
// broadcast with the event that caused them. One process owns a room.

import { botPlan, type Policy } from "../src/game/bots.js";
import { sidesPlan } from "../src/game/sides.js";
import { hintAt, proofOf, reachAt, track } from "../src/game/solved.js";
import { advance } from "../src/sim/engine.js";
import type { Solved } from "../src/sim/solve.js";
import type { Machine } from "../src/sim/types.js";
import type { LogEntry } from "../src/game/replay.js";
import { factsOf, replayLog } from "../src/game/replay.js";
import { actorOf, applyCommand, compiledFor, current, GameError, initialMachine, newSession, type Command, type Facts, type Session } from "../src/game/session.js";
import { gameView, levelInfo, pathsNamed } from "../src/game/view.js";
import { LevelError, type Level } from "../src/level/load.js";
import { isSandbox, SANDBOX_LIMITS, SANDBOX_ORACLES, sandboxLevel, sandboxText, SandboxError, type SandboxClaims } from "../src/level/sandbox.js";
import { sandboxScenario } from "../src/protocol/client.js";
import type { GameEvent, GameView, RoomInfo, ServerMessage, ServerMessageOf, Snapshot } from "../src/protocol/server.js";
import { actorKey, cpuLabel, enabledActions } from "../src/sim/engine.js";
import { ORACLES } from "../src/sim/oracles.js";
import type { MarkKind } from "../src/protocol/client.js";
import type { ChatEntry, Mark, Plan } from "../src/protocol/server.js";
import { makeMark, runUnderMarks, withMark, withoutMark } from "../src/game/marks.js";
import { makePlan, planAt, planCommand, recordPlan } from "../src/game/plan.js";
import type { LineAt } from "../src/game/session.js";
import type { Timing } from "./options.js";
import type { Peer } from "./peer.js";
import type { SolveEntry, SolverPool } from "./solver/pool.js";
import type { ChatRecord, RoomRecord, Storage } from "./storage/port.js";

export type { Side } from "../src/protocol/client.js";
import type { Side } from "../src/protocol/client.js";
/** Session commands, plus the two that start a new attempt. */
export type RoomCommand = Command | { kind: "retry" } | { kind: "next" };

export interface Player {
  id: string;
  name: string;
}

export interface Member {
  player: Player;
  /**
   * Joined to watch (join with `watch`): in `watchers`, not `members`; holds no seat, may not
   * act, and does not keep the bots moving (a room is played by its members, not its audience).
   */
  watch: boolean;
  /** null while disconnected (during the grace period). */
  peer: Peer | null;
  room: Room;
  grace: NodeJS.Timeout | null;
}

/** What a room needs from the server around it. */
export interface RoomHost {
  storage: Storage;
  timing: Timing;
  now(): number;
  log(line: string): void;
  level(id: string): Level | null;
  nextLevel(id: string): string | null;
  /** Something a dashboard shows changed. */
  changed(room: Room): void;
  /** A member is gone for good (left, or its grace period ran out). */
  gone(member: Member): void;
  /** The room is empty and may leave memory. */
  idle(room: Room): void;
  /** Where level settings are solved, once per server. */
  solver: SolverPool;
}

interface Attempt {
  id: string;
  n: number;
  session: Session;
  /** Everyone who held a CPU or acted in this attempt. */
  players: Map<string, string>;
}

/** The side a level assigns a CPU (levels may mark CPUs red or blue), or null. */
export function cpuSide(level: Level, cpu: number): Side | null {
  const s = (level.cpus[cpu] as { side?: unknown } | undefined)?.side;
  return s === "red" || s === "blue" ? s : null;
}

/** Whether an attempt on `level` is played versus: the room was created versus, or the level is a versus level. */
export function versusOn(created: boolean, level: Level): boolean {
  return created || level.mode === "versus";
}

/**
 * The bots a level gets when the room's creator chose none: the level's own
 * `bots`, else the adversary on defend levels and in versus (where it plays
 * red and the guard plays blue), else manual.
 */
export function levelPolicy(level: Level, versus: boolean): Policy {
  return level.bots ?? (level.mode === "defend" || versus ? "adversary" : "manual");
}

/** Chat messages a room keeps in memory and sends with every snapshot. */
export const CHAT_KEPT = 50;

const chatEntry = (c: ChatRecord): ChatEntry => ({ n: c.n, attempt: c.attempt, step: c.step, at: c.at, from: c.from, name: c.name, text: c.text });

/** What drives a CPU nobody holds, as RoomInfo's seats say: the room's policy, or in a versus room with bots, the side's bot. */
export type SeatBot = Policy | "guard";

export class Room {
  readonly code: string;
  /** The bots the room's creator chose for every level, or null: each level's own (levelPolicy). */
  private readonly chosenPolicy: Policy | null;
  /** The room was created versus (a `versus` request, or on a versus level): every level it plays is. */
  private readonly createdVersus: boolean;
  readonly workshop: string | null;
  readonly team: string | null;
  level: Level;
  paused = false;
  seq: number;
  attempt: Attempt;
  /** Finished attempts: how many, and their total score (dashboard). */
  finished = { count: 0, score: 0 };
  readonly members = new Map<string, Member>();
  /** Those who joined to watch (Member.watch), by player id. */
  readonly watchers = new Map<string, Member>();
  /** Per CPU: the member id holding it, or null (the bot drives it). */
  seats: (string | null)[];
  sides: (Side | null)[];
  private botTimer: NodeJS.Timeout | null = null;
  /** The bot's remaining plan, valid while the room is still at `seq` (nobody else moved). */
  private plan: { cmds: Command[]; seq: number; waiting: Side[] } = { cmds: [], seq: -1, waiting: [] };
  private idleTimer: NodeJS.Timeout | null = null;
  private disposed = false;
  /** Where the attempt's machine is in its solved game, kept up to date step by step (nodeIn). */
  private at: { attempt: string; solved: Solved; version: string; len: number; node: number; m: Machine } | null = null;
  /** The kernel-path listings sent in this attempt and knob setting (view()). */
  private listed: { key: string; sent: Set<string> } = { key: "", sent: new Set() };
  /** The solved-game entry the room last asked for, and whether it waits on it. */
  private asked: SolveEntry | null = null;
  /** The last chat message's number in this room, and the latest messages (what a snapshot carries). */
  private chatN = 0;
  private chatRecent: ChatEntry[] = [];
  /** Lines players marked in this attempt (cleared on reset and with each new attempt). */
  marks: Mark[] = [];
  /** The plan a player proposed to the room, if any (kept over retries of its level); not the bots' `plan`. */
  shared: Plan | null = null;
  /** Members the workshop's instructor muted (by player id, for as long as the room is in memory). */
  readonly muted = new Set<string>();

  private constructor(
    private readonly host: RoomHost,
    rec: RoomRecord,
    level: Level,
    seq: number,
    attempt: Attempt,
  ) {
    this.code = rec.code;
    this.chosenPolicy = rec.policy === "level" ? null : rec.policy;
    this.createdVersus = rec.versus;
    this.workshop = rec.workshop;
    this.team = rec.team;
    this.level = level;
    this.seq = seq;
    this.attempt = attempt;
    this.seats = level.cpus.map(() => null);
    this.sides = level.cpus.map(() => null);
    this.solved();
  }

  /** A new room, persisted with its first attempt. */
  static create(host: RoomHost, rec: RoomRecord, level: Level): Room {
    const attempt: Attempt = { id: `${rec.code}-1`, n: 1, session: newSession(level, { versus: versusOn(rec.versus, level) }), players: new Map() };
    host.storage.transaction(() => {
      host.storage.createRoom(rec);
      host.storage.startAttempt({ id: attempt.id, room: rec.code, n: 1, level: level.id, startSeq: 0, startedAt: rec.createdAt });
    });
    return new Room(host, rec, level, 0, attempt);
  }

  /** A room rebuilt from storage: its latest attempt's log folded through the simulator again. */
  static restore(host: RoomHost, rec: RoomRecord): Room | null {
    const attempts = host.storage.attempts(rec.code);
    const last = attempts[attempts.length - 1];
    if (!last) return null;
    const level = rec.scenario ? sandboxOf(host, rec) : host.level(last.level);
    if (!level) {
      host.log(`room ${rec.code}: level ${last.level} is no longer in the campaign; not restored`);
      return null;
    }
    const log = host.storage.actions(last.id);
    const r = replayLog(level, log, { versus: versusOn(rec.versus, level), facts: factsOf(last.result) });
    if (r.failed) host.log(`room ${rec.code}: attempt ${last.id} replays only to seq ${r.failed.entry.seq - 1} (${r.failed.error}); the level changed since`);
    const players = new Map<string, string>();
    const room = new Room(host, rec, level, host.storage.lastSeq(rec.code), { id: last.id, n: last.n, session: r.s, players });
    room.chatRecent = host.storage.chat(rec.code, { limit: CHAT_KEPT }).map(chatEntry);
    room.chatN = room.chatRecent[room.chatRecent.length - 1]?.n ?? 0;
    for (const a of attempts) {
      if (a.result) {
        room.finished.count++;
        room.finished.score += a.result.score;
      }
    }
    return room;
  }

  /** The bots driving the CPUs nobody holds on the current level. */
  get policy(): Policy {
    return this.chosenPolicy ?? levelPolicy(this.level, this.versus);
  }

  /** A versus room whose bots play the sides: red's the adversary, blue's the guard. */
  private get sideBots(): boolean {
    return this.versus && this.policy === "adversary";
  }

  /**
   * The side a CPU plays for in a versus room: its holder's; for a free CPU the
   * level's, else the side no player plays when the players all play one (the
   * bot plays against them), else red. Null outside versus.
   */
  sideOf(cpu: number): Side | null {
    if (!this.versus) return null;
    if (this.seats[cpu] !== null) return this.sides[cpu];
    const fixed = cpuSide(this.level, cpu);
    if (fixed) return fixed;
    const played = new Set(this.sides.filter((x, i) => x !== null && this.seats[i] !== null));
    return played.size === 1 && played.has("red") ? "blue" : "red";
  }

  /** Players pick a side when they claim, and a result names the winning side. */
  get versus(): boolean {
    return versusOn(this.createdVersus, this.level);
  }

  /** Whether an attempt of this room on `level` is (or was) played versus. */
  versusOn(level: Level): boolean {
    return versusOn(this.createdVersus, level);
  }

  // ------------------------------------------------------------------ members and seats

  join(player: Player, peer: Peer, watch = false): Member {
    this.cancelIdle();
    const m: Member = { player, watch, peer, room: this, grace: null };
    if (watch) {
      // Nothing a dashboard or the bots count changes.
      this.watchers.set(player.id, m);
      this.publishRoom(player.id);
      return m;
    }
    this.members.set(player.id, m);
    this.publishRoom(player.id);
    this.host.changed(this);
    this.scheduleBots();
    return m;
  }

  /** Whether `m` is still in the room, as a member or a watcher. */
  has(m: Member): boolean {
    return (m.watch ? this.watchers : this.members).get(m.player.id) === m;
  }

  /** Nobody is in the room, playing or watching: it may leave memory. */
  get empty(): boolean {
    return this.members.size === 0 && this.watchers.size === 0;
  }

  /** The member's connection dropped: keep the seats (a watcher its place) for the grace period. */
  disconnect(m: Member): void {
    if (!this.has(m)) return;
    m.peer = null;
    if (m.grace) clearTimeout(m.grace);
    m.grace = setTimeout(() => this.leave(m), this.host.timing.graceMs);
    m.grace.unref();
    this.publishRoom();
    this.host.changed(this);
    this.stopBotsIfNobodyConnected();
  }

  /** The member came back with its resume token on a new connection. */
  reconnect(m: Member, peer: Peer): void {
    if (m.grace) clearTimeout(m.grace);
    m.grace = null;
    m.peer = peer;
    this.publishRoom(m.player.id);
    this.host.changed(this);
    this.scheduleBots();
  }

  leave(m: Member): void {
    if (!this.has(m)) return;
    if (m.grace) clearTimeout(m.grace);
    m.grace = null;
    if (m.watch) {
      this.watchers.delete(m.player.id);
      m.peer = null;
      this.host.gone(m);
      this.publishRoom();
      if (this.empty) this.armIdle();
      return;
    }
    this.members.delete(m.player.id);
    this.seats = this.seats.map((h, i) => {
      if (h !== m.player.id) return h;
      this.sides[i] = null;
      return null;
    });
    m.peer = null;
    this.host.gone(m);
    this.publishRoom();
    this.host.changed(this);
    this.scheduleBots();
    this.stopBotsIfNobodyConnected();
    if (this.empty) this.armIdle();
  }

  /** Take a free CPU; `accepted` (the ack) runs before the others hear of it. */
  claim(m: Member, cpu: number, side: Side | undefined, accepted?: () => void): void {
    this.notWatching(m);
    if (cpu >= this.seats.length) throw new GameError("no-such-cpu", `there is no CPU${cpu}: this level has CPUs 0-${this.seats.length - 1}`);
    const holder = this.seats[cpu];
    if (holder !== null && holder !== m.player.id) {
      const h = this.members.get(holder);
      throw new GameError("seat-taken", `CPU${cpu} is held by ${h?.player.name ?? "another player"}${h && !h.peer ? " (reconnecting)" : ""}`);
    }
    const fixed = cpuSide(this.level, cpu);
    if (this.versus && !side) throw new GameError("side-required", `this is a versus room: claim with side ${fixed ? `${fixed} (CPU${cpu} plays for ${fixed})` : "red or blue"}`);
    if (fixed && side && side !== fixed) throw new GameError("wrong-side", `CPU${cpu} plays for ${fixed}`);
    this.seats[cpu] = m.player.id;
    this.sides[cpu] = this.versus ? (side ?? fixed) : null;
    this.attempt.players.set(m.player.id, m.player.name);
    this.plan.seq = -1; // who the bots play for changed
    accepted?.();
    this.publishRoom();
    this.host.changed(this);
    this.scheduleBots();
  }

  release(m: Member, cpu: number, accepted?: () => void): void {
    this.notWatching(m);
    if (this.seats[cpu] !== m.player.id) throw new GameError("not-your-cpu", `you do not hold CPU${cpu}`);
    this.seats[cpu] = null;
    this.sides[cpu] = null;
    this.plan.seq = -1;
    accepted?.();
    this.publishRoom();
    this.host.changed(this);
    this.scheduleBots();
  }

  // ------------------------------------------------------------------ game commands

  /** A watcher neither acts nor takes a seat: refused with its own code (leaving and joining without watch is the way to play). */
  private notWatching(m: Member): void {
    if (m.watch) throw new GameError("watch-only", "you joined this room to watch: leave, and join without watch to play");
  }

  /** May this member send this command? Throws GameError if not. */
  authorize(m: Member, cmd: RoomCommand): void {
    this.notWatching(m);
    if (!this.seats.includes(m.player.id)) throw new GameError("not-a-player", "spectators watch: claim a free CPU to play");
    if (cmd.kind !== "step") return;
    if (cmd.actor === "dma") {
      if (this.level.device !== undefined && this.policy !== "manual") throw new GameError("not-your-cpu", `the DMA device is driven by the ${this.policy} bot`);
      return;
    }
    if (cmd.actor >= this.seats.length) throw new GameError("no-such-cpu", `there is no CPU${cmd.actor}: this level has CPUs 0-${this.seats.length - 1}`);
    const holder = this.seats[cmd.actor];
    if (holder === m.player.id) return;
    if (holder !== null) throw new GameError("not-your-cpu", `CPU${cmd.actor} is held by ${this.members.get(holder)?.player.name ?? "another player"}`);
    if (this.policy !== "manual") throw new GameError("not-your-cpu", `CPU${cmd.actor} is driven by the ${this.seatBot(cmd.actor)} bot; claim it to step it`);
    // Versus: a player steps only their own side, even a free CPU of a manual room.
    const side = this.sideOf(cmd.actor);
    if (side !== null && !this.seats.some((h, i) => h === m.player.id && this.sides[i] === side)) {
      throw new GameError("not-your-cpu", `CPU${cmd.actor} plays for ${side}, and you do not`);
    }
  }

  /**
   * Apply a command in arrival order. `expect` is the sequence number the sender
   * saw (null for bots and instructors, who act on the live state). `accepted`
   * runs after the command is durable and before anyone is told of it: the ack.
   */
  perform(by: Player | "bot" | "instructor", cmd: RoomCommand, expect: number | null, accepted?: (seq: number) => void): number {
    if (this.disposed) throw new GameError("no-such-room", "this room is closed");
    if (this.paused && by !== "instructor") throw new GameError("paused", "the instructor has paused the workshop");
    if (expect !== null && expect !== this.seq) throw new GameError("stale-seq", `stale action: the room is at seq ${this.seq}, you sent ${expect}`);
    const byId = typeof by === "string" ? by : by.id;
    const at = this.host.now();
    const seq = this.seq + 1;
    if (cmd.kind === "retry" || cmd.kind === "next") return this.newAttempt(byId, cmd.kind, at, seq, accepted);

    const resolved = this.withHint(cmd);
    const r = applyCommand(this.level, this.attempt.session, resolved, at, byId, this.facts());
    // The log keeps the hint's text: a replay or a restart shows the same words without exploring.
    const entry: LogEntry = { seq, at, by: byId, cmd: resolved };
    const players = new Map(this.attempt.players);
    if (typeof by !== "string") players.set(by.id, by.name);
    this.host.storage.transaction(() => {
      this.host.storage.appendAction(this.attempt.id, this.code, entry);
      if (r.s.result) {
        this.host.storage.finishAttempt({
          attempt: this.attempt.id,
          knobs: r.s.knobs,
          result: r.s.result,
          endedAt: at,
          players: [...players].map(([id, name]) => ({ id, name })),
        });
      }
    });
    // Durable: now it happened.
    // The rest of the bot's plan still holds after its own move (nobody else moved in between).
    if (by === "bot" && this.plan.seq === this.seq) this.plan.seq = seq;
    this.seq = seq;
    this.attempt.session = r.s;
    this.attempt.players = players;
    if (r.s.result) {
      this.finished.count++;
      this.finished.score += r.s.result.score;
    }
    accepted?.(seq);
    this.publishUpdate({ ...r.event, by: byId });
    if (cmd.kind === "reset") this.clearMarks();
    this.host.changed(this);
    if (cmd.kind === "knob") this.solved(); // a new setting: start solving it now
    this.scheduleBots();
    return seq;
  }

  // ------------------------------------------------------------------ the solved game

  /** The current setting's solved-game entry (asking starts the solve); the room hears when it settles. */
  private solved(): SolveEntry {
    // A sandbox scenario is solved with its per-oracle tables, within the sandbox's own state budget.
    const wants = isSandbox(this.level) ? { explain: true, maxStates: SANDBOX_LIMITS.states } : {};
    const e = this.host.solver.get(this.level, this.attempt.session.knobs, wants);
    if (this.asked !== e) {
      this.asked = e;
      e.whenDone(() => {
        if (this.disposed || this.asked !== e) return;
        this.publishRoom();
        this.scheduleBots();
      });
    }
    return e;
  }

  /** Resolves once the current setting is solved or given up on (tests, embedders). */
  settled(): Promise<void> {
    return new Promise((r) => this.solved().whenDone(r));
  }

  /** The node of the attempt's machine in `solved`, following the trace from where it was last known. */
  private nodeIn(solved: Solved): number {
    const s = this.attempt.session;
    const version = `${s.rewinds}:${s.resets}:${JSON.stringify(s.knobs)}`;
    let at = this.at;
    if (!at || at.attempt !== this.attempt.id || at.solved !== solved || at.version !== version || at.len > s.trace.length) {
      at = { attempt: this.attempt.id, solved, version, len: 0, node: 0, m: initialMachine(s) };
    }
    const { cfg } = compiledFor(this.level, s.knobs);
    for (let i = at.len; i < s.trace.length; i++) {
      const a = s.trace[i].action;
      at.node = track(solved, cfg, at.m, at.node, a);
      at.m = advance(cfg, at.m, a);
    }
    at.len = s.trace.length;
    this.at = at;
    return at.node;
  }

  /** A hint request past the written hints carries the explorer's text, looked up here. */
  private withHint(cmd: Command): Command {
    if (cmd.kind !== "hint" || this.level.mode === "defend") return cmd;
    const s = this.attempt.session;
    if (Math.min(s.hintCount, this.level.hints.length) < this.level.hints.length) return cmd;
    const e = this.solved();
    if (e.status.state === "solving") {
      // A repeat with no step in between needs no lookup: the session gives the last one again.
      if (s.hintAt === s.moves + s.rewinds + s.resets) return cmd;
      throw new GameError("solving", `the explorer is still solving this level (${e.status.states.toLocaleString("en-US")} states so far): ask again in a moment`);
    }
    if (e.status.state === "too-big") return { ...cmd, text: `The explorer has no hint here: ${e.status.reason}.` };
    const solved = e.status.solved;
    return { ...cmd, text: hintAt(solved, compiledFor(this.level, s.knobs).cfg, this.nodeIn(solved)) };
  }

  /**
   * What the solved game tells the session: the defend proof. Never explored on
   * this thread: while the setting is still being solved, or when it is too big,
   * the proof is "incomplete" and the session judges by the level file's verified
   * claim for the setting (an unsafe fix then loses without a counterexample).
   */
  private facts(): Facts {
    if (this.level.mode !== "defend") return {};
    const st = this.solved().status;
    return { proof: st.state === "ready" ? proofOf(st.solved) : { verdict: "incomplete", counterexample: null } };
  }

  // ------------------------------------------------------------------ the sandbox

  /** The solved sandbox scenario, or the refusal that says why there is none yet. */
  private sandboxSolved(): Extract<SolveEntry["status"], { state: "ready" }> {
    if (!isSandbox(this.level)) throw new GameError("not-a-sandbox", "this room plays a level, not a sandbox scenario: the explorer answers in sandbox rooms (create one with createSandbox)");
    const st = this.solved().status;
    if (st.state === "solving") throw new GameError("solving", `the explorer is still solving this scenario (${st.states.toLocaleString("en-US")} states so far): ask again in a moment`);
    if (st.state === "too-big") throw new GameError("too-big", `the explorer gave up on this scenario: ${st.reason}; play on without it`);
    return st;
  }

  /**
   * The explorer's answer from where the room is (explore): which oracles can still fire and
   * the fewest preemptions each needs, counted as the session counts them, never the road.
   */
  explorer(by: string): Omit<ServerMessageOf<"explorer">, "rid"> {
    const st = this.sandboxSolved();
    const s = this.attempt.session;
    const { cfg } = compiledFor(this.level, s.knobs);
    const node = this.nodeIn(st.solved);
    const last = s.trace.length ? s.trace[s.trace.length - 1].action : null;
    const lastCanRun = last !== null && enabledActions(cfg, current(s)).some((a) => actorKey(a) === actorKey(last));
    const reach = reachAt(st.solved, st.reach ?? [], cfg.cpus.length, node, last, lastCanRun);
    const oracles = (reach ?? []).map((r) => ({ id: r.oracle, title: ORACLES[r.oracle].title, preemptions: r.preemptions }));
    const watched = SANDBOX_ORACLES.length;
    const name = (id: string) => ORACLES[id as keyof typeof ORACLES].title.split(":")[0];
    const n = (k: number) => `${k} preemption${k === 1 ? "" : "s"}`;
    let text: string;
    if (reach === null) text = "The explorer cannot place this position in the scenario it solved: rewind or reset.";
    else if (s.result) text = `The hunt is over${s.result.oracle ? `: ${name(s.result.oracle.id)} fired` : ""}.`;
    else if (!oracles.length) text = `The explorer: from here none of the ${watched} oracles watched can fire, whatever the schedule. Rewind or reset.`;
    else {
      const list = oracles.map((o) => `${name(o.id)} (${o.id}) in ${n(o.preemptions)}`).join("; ");
      text = `The explorer: from here ${oracles.length} of the ${watched} oracles watched can still fire: ${list}. It does not say how.`;
    }
    return { type: "explorer", by, attempt: this.attempt.id, seq: this.seq, oracles: s.result ? [] : oracles, watched, text };
  }

  /** The explorer's answer, sent to everyone in the room; `rid` goes to the one who asked. */
  tellExplorer(asker: Member, rid: number | undefined): void {
    const msg = this.explorer(asker.player.id);
    const plain = JSON.stringify(msg);
    const mine = rid !== undefined ? JSON.stringify({ ...msg, rid }) : plain;
    for (const m of this.members.values()) m.peer?.send(m === asker ? mine : plain);
  }

  /**
   * The scenario as a level file with this id, claiming what the explorer found (the verdict,
   * and par in preemptions), so that `faultline lint` agrees with it. Without a solution (too
   * big) the file claims nothing and lint explores it with its own budget.
   */
  sandboxFile(id: string): Omit<ServerMessageOf<"levelFile">, "rid"> {
    if (!isSandbox(this.level)) throw new GameError("not-a-sandbox", "this room plays a level, not a sandbox scenario: only a sandbox scenario is saved as a level file");
    let claims: SandboxClaims = null;
    try {
      const st = this.sandboxSolved();
      claims = st.solved.verdict === "safe" ? { verdict: "safe" } : st.par !== null ? { verdict: "reachable", preemptions: st.par } : null;
    } catch (e) {
      if (!(e instanceof GameError) || e.code !== "too-big") throw e;
    }
    const text = sandboxText(this.level.sandbox, { id, claims });
    return { type: "levelFile", id, file: `${id}.yaml`, text, verdict: claims?.verdict ?? null, preemptions: claims?.verdict === "reachable" ? claims.preemptions : null };
  }

  private solverInfo(): RoomInfo["solver"] {
    const st = this.solved().status;
    const adversary = this.policy === "adversary";
    switch (st.state) {
      case "solving":
        return { state: "solving", text: `${adversary ? "the adversary is thinking: the explorer is solving" : "the explorer is solving"} this level (${st.states.toLocaleString("en-US")} states so far)` };
      case "ready":
        return { state: "ready", text: `solved: ${st.solved.states.toLocaleString("en-US")} states, ${st.solved.verdict === "reachable" ? "the race is reachable" : "no schedule reaches the race"}` };
      case "too-big":
        return { state: "too-big", text: `${adversary ? "the adversary plays eagerly" : "no explorer hints"}: ${st.reason}` };
    }
  }

  private newAttempt(by: string, kind: "retry" | "next", at: number, seq: number, accepted?: (seq: number) => void): number {
    if (this.attempt.session.phase !== "over") throw new GameError("game-not-over", `${kind} comes after a result; reset restarts a level in play`);
    const levelId = kind === "retry" ? this.level.id : this.host.nextLevel(this.level.id);
    if (!levelId) throw new GameError("no-next-level", "this was the last level of the campaign");
    // A retry plays the room's own level again (a sandbox scenario is in no list of levels).
    const level = kind === "retry" ? this.level : this.host.level(levelId);
    if (!level) throw new GameError("no-such-level", `level ${levelId} is not in the campaign`);
    const n = this.attempt.n + 1;
    const id = `${this.code}-${n}`;
    this.host.storage.startAttempt({ id, room: this.code, n, level: level.id, startSeq: seq, startedAt: at });
    this.seq = seq;
    const newLevel = level !== this.level;
    if (newLevel) {
      // Seats carry over by CPU number where the new level has the CPU.
      this.seats = level.cpus.map((_, i) => this.seats[i] ?? null);
      // A held seat keeps its side where the new level leaves it free; a versus level's own sides win.
      const versus = this.versusOn(level);
      this.sides = level.cpus.map((_, i) => (this.seats[i] === null || !versus ? null : (cpuSide(level, i) ?? this.sides[i] ?? "red")));
      this.level = level;
    }
    const players = new Map<string, string>();
    for (const h of this.seats) if (h !== null) players.set(h, this.members.get(h)?.player.name ?? h);
    this.attempt = { id, n, session: newSession(level, { versus: this.versusOn(level) }), players };
    this.solved();
    accepted?.(seq);
    this.publishUpdate({ kind: "attempt", by, attempt: id, level: level.id });
    if (newLevel) this.publishRoom();
    this.clearMarks();
    // A plan plays one level from its start: a retry keeps it, another level drops it.
    if (newLevel && this.shared) {
      this.shared = null;
      this.publish(JSON.stringify({ type: "plan", plan: null, change: { kind: "cleared", by, name: this.nameOf(by) } } satisfies ServerMessage));
    }
    this.host.changed(this);
    return seq;
  }

  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.publishRoom();
    this.host.changed(this);
    if (!paused) this.scheduleBots();
  }

  // ------------------------------------------------------------------ bots

  private anyoneConnected(): boolean {
    return [...this.members.values()].some((m) => m.peer !== null);
  }

  private scheduleBots(): void {
    if (this.botTimer || this.disposed || this.paused || this.policy === "manual" || this.attempt.session.phase !== "play") return;
    // Bots play with people, not for an empty room: a result needs someone there.
    if (!this.anyoneConnected()) return;
    this.botTimer = setTimeout(() => {
      this.botTimer = null;
      this.botTurn();
    }, this.host.timing.botDelayMs);
  }

  /** The last connected member left or dropped: the move already armed is not made (a resume arms the bots again). */
  private stopBotsIfNobodyConnected(): void {
    if (!this.botTimer || this.anyoneConnected()) return;
    clearTimeout(this.botTimer);
    this.botTimer = null;
  }

  /** The side a bot plays an actor for in a versus room with side bots (the DMA device: red's), or null when a player holds it. */
  private botSide(a: number | "dma"): Side | null {
    if (a === "dma") return "red";
    return this.seats[a] === null ? this.sideOf(a) : null;
  }

  /**
   * The bots' plan from the room as it stands: the remaining moves of the last
   * plan while nobody else has moved and every move is still the bots' to make,
   * else a new one. `waiting` names the side bots that could move but wait.
   * The adversary and the side bots move by lookups in the level setting's
   * solved game; while it is being solved they wait (the room's solver status
   * says the adversary is thinking), and on a setting too big to solve they
   * play eagerly.
   */
  private planNow(): { cmds: Command[]; waiting: Side[] } {
    const owns = (a: number | "dma") => a === "dma" || this.seats[a] === null;
    const stale = this.plan.seq !== this.seq || this.plan.cmds.some((c) => c.kind === "step" && !owns(c.actor));
    if (stale || this.plan.cmds.length === 0) {
      const s = this.attempt.session;
      if (this.policy === "manual" || s.phase !== "play") this.plan = { cmds: [], seq: this.seq, waiting: [] };
      else {
        const st = this.solved().status;
        const solved = st.state === "ready" ? { s: st.solved, node: this.nodeIn(st.solved) } : undefined;
        const thinks = this.sideBots || this.policy === "adversary";
        // Planned again once the solve settles (the room hears of it and schedules the bots).
        if (thinks && st.state === "solving") this.plan = { cmds: [], seq: -1, waiting: [] };
        else if (this.sideBots) this.plan = { ...sidesPlan(this.level, s, (a) => this.botSide(a), this.seq, solved ?? "eager"), seq: this.seq };
        else this.plan = { cmds: botPlan(this.level, s, this.policy === "adversary" && !solved ? "eager" : this.policy, owns, this.seq, solved), seq: this.seq, waiting: [] };
      }
    }
    return this.plan;
  }

  private botTurn(): void {
    if (this.disposed || this.paused || !this.anyoneConnected()) return;
    const cmd = this.planNow().cmds.shift();
    if (!cmd) return;
    try {
      this.perform("bot", cmd, null);
    } catch (e) {
      // A bot move the rules refuse is a bug in the bot, not a reason to stop the room.
      this.plan = { cmds: [], seq: -1, waiting: [] };
      this.host.log(`room ${this.code}: bot move refused: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Who the game waits for, in words, when the bots will not move next (null
   * when a bot is about to move, outside play, in a manual room outside
   * versus, or while paused: the top bar says so).
   */
  waitingFor(): string | null {
    const s = this.attempt.session;
    if (s.phase !== "play" || this.paused) return null;
    if (this.policy === "manual" && !this.versus) return null;
    // While the setting is being solved the bots think, not wait: RoomInfo.solver says so.
    if ((this.sideBots || this.policy === "adversary") && this.solved().status.state === "solving") return null;
    const plan = this.planNow();
    if (plan.cmds.length > 0) return null;
    const c = compiledFor(this.level, s.knobs);
    const actors = enabledActions(c.cfg, current(s)).map(actorOf);
    // Who may step each actor that can run: its holder, or in a manual room the players of its side (any player outside versus).
    const byWho = new Map<string, string[]>();
    for (const a of new Set(actors)) {
      const label = a === "dma" ? "the DMA device" : cpuLabel(c.cfg, a);
      const holder = a === "dma" ? null : this.seats[a];
      let who: string;
      if (holder !== null) {
        const name = this.members.get(holder)?.player.name ?? "a player";
        const side = this.sides[a as number];
        who = side ? `${name} (${side})` : name;
      } else if (this.policy === "manual") {
        const side = a === "dma" ? null : this.sideOf(a);
        who = side ? `the ${side} players` : "a player";
      } else continue; // a bot's actor, and the bot waits (below)
      byWho.set(who, [...(byWho.get(who) ?? []), label]);
    }
    const players = [...byWho].map(([who, labels]) => `${who} to step ${labels.join(" or ")}`).join("; ");
    // The part a narrow status line must keep comes first.
    const bot = plan.waiting.length ? `the ${plan.waiting.join(" and ")} bot` : actors.some((a) => a === "dma" || this.seats[a] === null) ? `the ${this.policy} bot` : null;
    const why = bot ? ` (${bot} waits: each of its moves would lose the race)` : "";
    if (!players) return bot ? `Nobody can move but ${bot}, and it waits: each of its moves would lose the race.` : null;
    return `Waiting for ${players}${why}.`;
  }

  // ------------------------------------------------------------------ talk: chat, marks, plans

  /** A player's game command: checked, then performed, a run under the room's marks. */
  play(m: Member, cmd: RoomCommand, expect: number, accepted: (seq: number) => void): number {
    this.authorize(m, cmd);
    const withMarks = cmd.kind === "run" && this.marks.length ? runUnderMarks(this.level, this.attempt.session, cmd, this.marks) : cmd;
    return this.perform(m.player, withMarks, expect, accepted);
  }

  /** Play the plan's next item as the member's own step or run (its marks do not apply: the plan plays as previewed). */
  planStep(m: Member, expect: number, accepted: (seq: number) => void): number {
    if (this.disposed) throw new GameError("no-such-room", "this room is closed");
    if (expect !== this.seq) throw new GameError("stale-seq", `stale action: the room is at seq ${this.seq}, you sent ${expect}`);
    const cmd = planCommand(this.shared, this.attempt.session);
    this.authorize(m, cmd);
    return this.perform(m.player, cmd, expect, accepted);
  }

  /** Say something to the room: saved, then sent to everyone in it (the sender too). The instructor may speak in any room; watchers listen. */
  chat(by: Member | "instructor", text: string, accepted?: () => void): ChatEntry {
    if (this.disposed) throw new GameError("no-such-room", "this room is closed");
    if (by !== "instructor") this.notWatching(by);
    const from = by === "instructor" ? by : by.player;
    const id = from === "instructor" ? "instructor" : from.id;
    if (this.muted.has(id)) throw new GameError("muted", "the instructor has muted you in this room");
    const e: ChatEntry = {
      n: this.chatN + 1,
      attempt: this.attempt.id,
      step: this.attempt.session.trace.length,
      at: this.host.now(),
      from: id,
      name: from === "instructor" ? "instructor" : from.name,
      text,
    };
    this.host.storage.appendChat({ room: this.code, ...e });
    // Durable: now it was said.
    this.chatN = e.n;
    this.chatRecent = [...this.chatRecent.slice(-(CHAT_KEPT - 1)), e];
    accepted?.();
    this.publish(JSON.stringify({ type: "chat", entry: e } satisfies ServerMessage));
    return e;
  }

  /** Mark a line of a CPU's listing, or clear the mark on it (kind null). Players only. */
  mark(m: Member, cpu: number, at: LineAt, kind: MarkKind | null, accepted?: () => void): void {
    this.notWatching(m);
    if (!this.seats.includes(m.player.id)) throw new GameError("not-a-player", "spectators watch: claim a free CPU to mark lines");
    const by = { id: m.player.id, name: m.player.name };
    let change: NonNullable<ServerMessageOf<"marks">["change"]>;
    if (kind === null) {
      const r = withoutMark(this.marks, cpu, at);
      if (!r.removed) throw new GameError("bad-mark", `CPU${cpu} has no mark on that line`);
      this.marks = r.marks;
      change = { kind: "cleared", by: by.id, name: by.name, mark: r.removed };
    } else {
      const mark = makeMark(this.level, this.attempt.session, cpu, at, kind, by);
      this.marks = withMark(this.marks, mark);
      change = { kind: "set", by: by.id, name: by.name, mark };
    }
    accepted?.();
    this.publish(JSON.stringify({ type: "marks", marks: this.marks, change } satisfies ServerMessage));
  }

  private clearMarks(): void {
    if (this.marks.length === 0) return;
    this.marks = [];
    this.publish(JSON.stringify({ type: "marks", marks: [], change: null } satisfies ServerMessage));
  }

  /** Propose a plan (a schedule, or this attempt's moves so far), or drop the room's. Players only. */
  propose(m: Member, what: { schedule: string } | { record: true } | { drop: true }, accepted?: () => void): void {
    this.notWatching(m);
    if (!this.seats.includes(m.player.id)) throw new GameError("not-a-player", "spectators watch: claim a free CPU to propose a plan");
    const by = { id: m.player.id, name: m.player.name };
    const s = this.attempt.session;
    if ("drop" in what) {
      if (!this.shared) throw new GameError("no-plan", "the room has no plan to drop");
      this.shared = null;
    } else this.shared = "record" in what ? recordPlan(this.level, s, by) : makePlan(this.level, s.knobs, s.versus, what.schedule, by);
    accepted?.();
    this.publish(JSON.stringify({ type: "plan", plan: this.shared, change: { kind: "drop" in what ? "dropped" : "proposed", by: by.id, name: by.name } } satisfies ServerMessage));
    // Where the room stands on it shows in the game view: everyone gets a fresh one.
    this.publish(this.stateMessage());
  }

  /** The instructor mutes or unmutes a member (their chat is refused until unmuted). */
  setMuted(member: string, muted: boolean): void {
    if (!this.members.has(member)) throw new GameError("no-such-room", `room ${this.code} has no member ${member}`);
    if (muted) this.muted.add(member);
    else this.muted.delete(member);
    this.host.changed(this);
  }

  private nameOf(id: string): string {
    return id === "bot" || id === "instructor" ? id : (this.members.get(id)?.player.name ?? id);
  }

  /** The chat said during an attempt (a replay shows it). */
  chatOf(attempt: string): ChatEntry[] {
    return this.host.storage.chat(this.code, { attempt }).map(chatEntry);
  }

  // ------------------------------------------------------------------ views and broadcast

  info(): RoomInfo {
    return {
      code: this.code,
      level: levelInfo(this.level),
      policy: this.policy,
      versus: this.versus,
      paused: this.paused,
      workshop: this.workshop,
      team: this.team,
      members: [...this.members.values()].map((m) => ({
        id: m.player.id,
        name: m.player.name,
        connected: m.peer !== null,
        seats: this.seats.flatMap((h, i) => (h === m.player.id ? [i] : [])),
      })),
      watchers: [...this.watchers.values()].map((m) => ({ id: m.player.id, name: m.player.name, connected: m.peer !== null })),
      seats: this.seats.map((holder, cpu) => ({
        cpu,
        name: this.level.cpus[cpu].name,
        holder,
        side: this.sideOf(cpu),
        bot: holder === null ? this.seatBot(cpu) : null,
      })),
      dma: this.level.device === undefined ? null : this.policy === "manual" ? "players" : "bot",
      solver: this.solverInfo(),
    };
  }

  /** What drives a free CPU: the room's policy; in a versus room with side bots, red's adversary or blue's guard. */
  seatBot(cpu: number): SeatBot {
    return this.sideBots && this.sideOf(cpu) === "blue" ? "guard" : this.policy;
  }

  /**
   * The game as clients see it, with who the game waits for. Listings of kernel
   * paths go out once per attempt and knob setting: an update carries those not
   * sent yet, a snapshot (`all`) every one sent so far.
   */
  private view(all = false): GameView {
    const s = this.attempt.session;
    const key = `${this.attempt.id} ${JSON.stringify(s.knobs)}`;
    if (this.listed.key !== key) this.listed = { key, sent: new Set() };
    const g = gameView(this.level, s, this.attempt.id, this.host.nextLevel(this.level.id), { sent: this.listed.sent, all });
    for (const id of pathsNamed(g.cpus)) this.listed.sent.add(id);
    return { ...g, waiting: this.waitingFor(), ...(this.shared ? { plan: this.planPosition(this.shared) } : {}) };
  }

  /** Where the attempt stands on the plan, with who plays the next item. */
  private planPosition(plan: Plan): NonNullable<GameView["plan"]> {
    const at = planAt(plan, this.attempt.session);
    if (at.next === null) return at.done ? { next: null, of: at.of, text: at.text } : at;
    const cpu = plan.items[at.next].cpu;
    const holder = cpu === null ? null : this.seats[cpu];
    const who = holder !== null ? (this.members.get(holder)?.player.name ?? "its holder") : cpu === null ? "any player" : this.policy === "manual" ? "any player" : `its ${this.seatBot(cpu)} bot's (a player must claim it)`;
    return { next: at.next, of: at.of, text: `${at.text} (${cpu === null ? "the DMA device" : `CPU${cpu}`}: ${who})` };
  }

  snapshot(): Snapshot {
    return {
      seq: this.seq,
      room: this.info(),
      game: this.view(true),
      trace: this.attempt.session.trace,
      intro: this.level.intro,
      chat: this.chatRecent,
      marks: this.marks,
      plan: this.shared,
    };
  }

  stateMessage(): string {
    return JSON.stringify({ type: "state", state: this.snapshot() } satisfies ServerMessage);
  }

  /** Send to every connected member and watcher (a message that must arrive: notices). */
  sendAll(msg: ServerMessage): void {
    const data = JSON.stringify(msg);
    for (const m of this.members.values()) m.peer?.send(data);
    for (const m of this.watchers.values()) m.peer?.send(data);
  }

  private publishUpdate(event: GameEvent): void {
    const game = this.view();
    this.publish(JSON.stringify({ type: "update", seq: this.seq, event, game } satisfies ServerMessage));
  }

  /** Tell members about members, seats or pause; `except` already gets a full snapshot. */
  private publishRoom(except?: string): void {
    this.publish(JSON.stringify({ type: "room", room: this.info() } satisfies ServerMessage), except);
  }

  /** Members first, then watchers, each in the order they came: everyone hears every update, in seq order. */
  private publish(data: string, except?: string): void {
    for (const m of this.members.values()) if (m.player.id !== except) m.peer?.publish("room", data);
    for (const m of this.watchers.values()) if (m.player.id !== except) m.peer?.publish("room", data);
  }

  // ------------------------------------------------------------------ lifecycle

  private armIdle(): void {
    // Workshop rooms too (the registry keeps them while their dashboard is watched, and rebuilds them for it).
    this.cancelIdle();
    this.idleTimer = setTimeout(() => {
      if (this.empty) this.host.idle(this);
    }, this.host.timing.roomIdleMs);
    this.idleTimer.unref();
  }

  private cancelIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  dispose(): void {
    this.disposed = true;
    if (this.botTimer) clearTimeout(this.botTimer);
    this.botTimer = null;
    this.cancelIdle();
    for (const m of [...this.members.values(), ...this.watchers.values()]) if (m.grace) clearTimeout(m.grace);
  }
}

/** A sandbox room's level, rebuilt from the scenario its record keeps (null, and a log line, if it no longer loads). */
function sandboxOf(host: RoomHost, rec: RoomRecord): Level | null {
  try {
    const sc = sandboxScenario.parse(JSON.parse(rec.scenario!));
    return sandboxLevel(sc);
  } catch (e) {
    if (!(e instanceof LevelError || e instanceof SandboxError || e instanceof SyntaxError || (e instanceof Error && e.name === "ZodError"))) throw e;
    host.log(`room ${rec.code}: its sandbox scenario no longer loads (${e.message.split("\n")[0]}); not restored`);
    return null;
  }
}
