// Facts about the room and the attempt that several screens show: the goal in
// one sentence, steps against par, who holds which CPU, and which actors this
// player may step. Pure functions of what the server sent.

import type { GameView, LevelInfo, Result, RoomInfo } from "../../protocol/server.js";

export type { Actor } from "../../protocol/client.js";
import type { Actor } from "../../protocol/client.js";
export type Mode = LevelInfo["mode"];
export type { Side } from "../../protocol/client.js";
import type { Side } from "../../protocol/client.js";

/** The level's goal in one sentence (a versus room: each side's), from the oracles' titles the server gives. */
export function goalSentence(mode: Mode, goal: readonly string[] | undefined, versus = false): string {
  const t = goal ?? [];
  const what = t.length ? t.join("; or ") : "";
  if (mode === "versus" || versus) return `Red makes it happen${what ? `: ${what}` : ""}; blue lets every CPU finish without it.`;
  if (mode === "hunt") return what ? `Make it happen: ${what}.` : "Make the race happen.";
  return what ? `Choose a fix and let every CPU finish, without this: ${what}.` : "Choose a fix and let every CPU finish without the race.";
}

/** Preemptions against par (the decisions a hunt is scored on), then steps. */
export function stepsText(game: GameView, par: number | null): string {
  const pre = `preemptions ${game.preemptions}${par === null ? "" : ` / par ${par}`}`;
  return `${pre} · steps ${game.steps}`;
}

export interface SeatLabel {
  cpu: number;
  /** "CPU0 T0", or "CPU0 T0 (red)" when the CPU plays for a side */
  label: string;
  /** "you", a player's name, "manual" (no bot moves it: any player in the room steps it) or "eager bot" / "adversary bot". */
  who: string;
  /** The side the CPU plays for: its holder's, else the one the level fixes; null outside versus. */
  side: Side | null;
  mine: boolean;
}

/** The side a CPU plays for in a versus room: the one its holder claimed, else the level's; null if neither says. */
export function seatSide(room: RoomInfo, cpu: number): Side | null {
  if (!room.versus) return null;
  return room.seats[cpu]?.side ?? room.level.cpus[cpu]?.side ?? null;
}

/** The sides this player plays for (the seats they hold), red first. */
export function mySides(room: RoomInfo | null, me: string | null): Side[] {
  if (!room || !room.versus || me === null) return [];
  const held = room.seats.filter((s) => s.holder === me).map((s) => seatSide(room, s.cpu));
  return (["red", "blue"] as const).filter((x) => held.includes(x));
}

export function seatLabels(room: RoomInfo, me: string | null): SeatLabel[] {
  return room.seats.map((s) => {
    const holder = s.holder === null ? null : room.members.find((m) => m.id === s.holder);
    const mine = me !== null && s.holder === me;
    const side = seatSide(room, s.cpu);
    const who = mine ? "you" : holder ? holder.name + (holder.connected ? "" : " (away)") : s.bot === "manual" ? "manual" : `${s.bot} bot`;
    return { cpu: s.cpu, label: `CPU${s.cpu} ${s.name}${side ? ` (${side})` : ""}`, who, side, mine };
  });
}

/**
 * The claim for `c` on a CPU. A versus room needs a side: the one the level
 * fixes for that CPU; where it fixes none, the side this player already plays
 * (else red), and on a CPU they hold already, the other side (c switches it).
 */
export function claimFor(room: RoomInfo | null, me: string | null, cpu: number): { type: "claim"; cpu: number; side?: Side } {
  if (!room?.versus) return { type: "claim", cpu };
  const fixed = room.level.cpus[cpu]?.side;
  if (fixed) return { type: "claim", cpu, side: fixed };
  const seat = room.seats[cpu];
  if (seat && me !== null && seat.holder === me && seat.side) return { type: "claim", cpu, side: seat.side === "red" ? "blue" : "red" };
  return { type: "claim", cpu, side: mySides(room, me)[0] ?? "red" };
}

/** The actors this player may step, in order: the CPUs they hold, free CPUs of a manual room, and the DMA device when players drive it. */
export function drivable(room: RoomInfo | null, me: string | null): Actor[] {
  if (!room || me === null) return [];
  const holds = room.seats.some((s) => s.holder === me);
  if (!holds) return [];
  // In a versus room a player steps only their own side, a free CPU included.
  const sides = mySides(room, me);
  const free = (cpu: number) => room.policy === "manual" && (!room.versus || sides.includes(seatSide(room, cpu) ?? "red"));
  const out: Actor[] = room.seats.filter((s) => s.holder === me || (s.holder === null && free(s.cpu))).map((s) => s.cpu);
  if (room.dma === "players") out.push("dma");
  return out;
}

export function actorName(a: Actor, room: RoomInfo | null): string {
  if (a === "dma") return "the DMA device";
  const s = room?.seats[a];
  return s ? `CPU${a} (${s.name})` : `CPU${a}`;
}


/** A versus result: the winning side and why, then what it means for this player's sides. */
export function winnerLines(r: Result, mine: Side[]): string[] {
  if (r.winner === null) return [];
  const name = r.winner === "red" ? "Red" : "Blue";
  const why =
    r.winner === "red"
      ? `the race happened: ${r.oracle?.message ?? "the goal fired"}`
      : r.reason === "deadlock" || r.reason === "livelock"
        ? `the race never happened (${r.reason}: ${r.oracle?.message ?? "no CPU could go on"})`
        : r.oracle
          ? `the race never happened (${r.oracle.message})`
          : "every CPU finished and nothing broke";
  const head = `${name} wins: ${why}`;
  if (mine.length === 0) return [head, "You watched."];
  if (mine.length === 2) return [head, "You played both sides."];
  return [head, mine[0] === r.winner ? `✓ You played ${mine[0]}: you win.` : `✗ You played ${mine[0]}: ${r.winner} wins this one.`];
}

/** The headline of a result: what broke, or why the defence held. */
export function resultHeadline(r: Result, mode: Mode): string {
  const won = r.outcome === "won";
  switch (r.reason) {
    case "oracle":
      return won ? `✓ You broke it: ${r.oracle?.message ?? "the race happened"}` : `✗ The race happened: ${r.oracle?.message ?? "an invariant broke"}`;
    case "finished":
      if (mode !== "defend") return "✗ Every CPU finished and nothing broke: this interleaving was safe. Retry and try another order.";
      return "✓ The defence held: every CPU finished, and the explorer checked that no schedule breaks this fix.";
    case "deadlock":
      return `✗ Deadlock: ${r.oracle?.message ?? "every CPU is stuck"}`;
    case "livelock":
      return `✗ Livelock: ${r.oracle?.message ?? "the machine went round in a circle"}`;
    case "unsafe-fix":
      return `✗ Every CPU finished, but the fix is unsafe: the explorer found a schedule that breaks it${r.counterexample ? `: ${r.counterexample}` : ""}.`;
  }
}

/**
 * The result as it counts for this player. Outside versus, the room's. In a
 * versus room, the side they played: won or lost with it, and its score;
 * watching, or playing both sides, counts as played (not won, 0).
 */
export function myResult(r: Result, sides: Side[]): Result {
  if (r.winner === null) return r;
  if (sides.length !== 1) return { ...r, outcome: "lost", score: 0 };
  const won = sides[0] === r.winner;
  return { ...r, outcome: won ? "won" : "lost", score: r.scores?.[sides[0]] ?? (won ? r.score : 0) };
}

export function scoreLine(r: Result): string {
  const p = r.parPreemptions;
  const par = p === null ? "" : ` (par ${p}${r.preemptions > p ? `, ${r.preemptions - p} over` : r.preemptions === p ? ", on par" : ", under par"})`;
  return `Score ${r.score} · ${r.preemptions} preemption${r.preemptions === 1 ? "" : "s"}${par} · ${r.steps} step${r.steps === 1 ? "" : "s"} · hints ${r.hintsUsed} · rewinds ${r.rewinds} · resets ${r.resets} · ${Math.round(r.durationMs / 1000)} s`;
}

/** The three lines of the game screen's top bar. */
export function topBar(room: RoomInfo, game: GameView, levels: LevelInfo[], me: string | null, selected: Actor): [string, string, string] {
  const info = room.level;
  const idx = levels.findIndex((l) => l.id === info.id);
  const where = idx >= 0 ? `${idx + 1}/${levels.length} ` : "";
  const phase = game.phase === "over" ? " · OVER" : room.paused ? " · PAUSED by the instructor" : "";
  const w = watching(room, me);
  // A watcher's mark comes first: a narrow terminal cuts the bar's end.
  const line1 = `FAULTLINE${w.me ? " · WATCHING (no seat)" : ""} · ${where}${info.title} · ${info.mode} · ${info.race} · room ${room.code}${room.team ? ` · team ${room.team}` : ""}${phase}${w.others ? ` · ${w.others} watching` : ""}`;
  const sides = mySides(room, me);
  const line2 = `Goal: ${goalSentence(info.mode, info.goal, room.versus)}${sides.length === 1 ? ` You play ${sides[0]}.` : sides.length === 2 ? " You play both sides." : ""}`;
  const knobs = Object.entries(game.knobs).map(([k, v]) => `${k}=${v}`);
  const seats = seatLabels(room, me).map((x) => `${x.cpu === selected ? "▸" : ""}${x.label}: ${x.who}`);
  if (room.dma) seats.push(`${selected === "dma" ? "▸" : ""}DMA: ${room.dma === "bot" ? `${room.policy} bot` : "players"}`);
  const line3 = [
    stepsText(game, info.parPreemptions),
    `hints ${game.hintsUsed} used`,
    `rewinds ${game.rewinds}`,
    ...(game.resets ? [`resets ${game.resets}`] : []),
    ...(knobs.length ? [`fix: ${knobs.join(" ")}`] : []),
    ...seats,
  ].join(" · ");
  return [line1, line2, line3];
}

/** Whether this player watches the room (joined with --watch, no seat), and how many others do. */
export function watching(room: RoomInfo, me: string | null): { me: boolean; others: number } {
  const watchers = room.watchers ?? [];
  const others = watchers.filter((w) => w.id !== me).length;
  return { me: watchers.length > others, others };
}

/** Who drives each actor, as the CPU panel labels it (with the side it plays for in a versus room). */
export function driverLabels(room: RoomInfo, me: string | null): string[] {
  return seatLabels(room, me).map((x) => (x.side ? `${x.side} · ${x.who}` : x.who));
}

export function dmaDriver(room: RoomInfo): string {
  return room.dma === "bot" ? `${room.policy} bot` : room.dma === "players" ? "players: d steps it" : "";
}
