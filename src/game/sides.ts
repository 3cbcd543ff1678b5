// The bots of a versus room: each CPU nobody holds is played by the bot of its
// side, to the end. Pure, like bots.ts (whose adversary plays red here).
//   red   (adversary) pushes for the race: the explorer's road to it; it waits
//         only while a player could still move (each of its own moves would
//         lose the race), and otherwise plays on eagerly so the game ends.
//   blue  (guard) keeps every CPU safe: it prefers a move after which no
//         schedule reaches the race (the explorer, bounded by EXPLORE_BUDGET),
//         else the move that leaves the race farthest away; it never waits
//         while it has a move.

import type { Level } from "../level/load.js";
import { advance, enabledActions } from "../sim/engine.js";
import { explore } from "../sim/explore.js";
import { checkOracles } from "../sim/oracles.js";
import type { Action } from "../sim/types.js";
import { botPlan } from "./bots.js";
import { actorOf, compiledFor, current, EXPLORE_BUDGET, type Actor, type Command, type Session } from "./session.js";

export type Side = "red" | "blue";

const toCommand = (a: Action): Command => ("dma" in a ? { kind: "step", actor: "dma" } : a.choice === undefined ? { kind: "step", actor: a.cpu } : { kind: "step", actor: a.cpu, choice: a.choice });

/**
 * Blue's move: among the actors it owns, the first (rotating with `turn`) after
 * which the race is unreachable; else the one that leaves it farthest (a move
 * that fires the race itself only when nothing else is left). Empty only when
 * it has no move.
 */
export function guardPlan(level: Level, s: Session, owns: (a: Actor) => boolean, turn: number): Command[] {
  if (s.phase !== "play") return [];
  const c = compiledFor(level, s.knobs);
  const m = current(s);
  const mine = enabledActions(c.cfg, m).filter((a) => owns(actorOf(a)));
  if (mine.length === 0) return [];
  const order = mine.map((_, i) => mine[(i + turn) % mine.length]);
  let best: { a: Action; d: number } | null = null;
  for (const a of order) {
    const after = advance(c.cfg, m, a);
    // A move that makes the race happen is the last resort (-1); unknown (the budget ran out) ranks above it.
    let d = -1;
    if (!checkOracles(c.cfg, after, c.oracles)) {
      const r = explore(c.cfg, after, { oracles: c.oracles, maxStates: EXPLORE_BUDGET });
      if (r.verdict === "safe") return [toCommand(a)];
      d = r.verdict === "reachable" && r.schedule ? r.schedule.length : 0;
    }
    if (best === null || d > best.d) best = { a, d };
  }
  return [toCommand(best!.a)];
}

/** What the side bots do next: the move (empty: wait) and which sides' bots have a move but wait. */
export interface SidesPlan {
  cmds: Command[];
  /** Sides whose bot could move but waits for a player (red only: blue never waits). */
  waiting: Side[];
}

/**
 * The next move of a versus room's bots. `botSide(a)` is the side the bot plays
 * an actor for, or null when a player holds it. When both bots can move they
 * take turns (`turn`, the room's sequence number). Red waits for the players
 * only while a player has a move; otherwise it plays eagerly, so that a game
 * with nobody else to move always ends.
 */
export function sidesPlan(level: Level, s: Session, botSide: (a: Actor) => Side | null, turn: number): SidesPlan {
  if (s.phase !== "play") return { cmds: [], waiting: [] };
  const c = compiledFor(level, s.knobs);
  const enabled = enabledActions(c.cfg, current(s));
  const sideOf = (a: Action) => botSide(actorOf(a));
  const playersCanMove = enabled.some((a) => sideOf(a) === null);
  const redMoves = enabled.filter((a) => sideOf(a) === "red");
  const isRed = (a: Actor) => botSide(a) === "red";
  let red: Command[] = redMoves.length ? botPlan(level, s, "adversary", isRed, turn) : [];
  const waiting: Side[] = [];
  if (redMoves.length && red.length === 0) {
    if (playersCanMove) waiting.push("red");
    else red = [toCommand(redMoves[turn % redMoves.length])];
  }
  const blue = guardPlan(level, s, (a) => botSide(a) === "blue", turn);
  if (red.length && blue.length) return { cmds: turn % 2 === 0 ? red.slice(0, 1) : blue, waiting };
  return { cmds: red.length ? red.slice(0, 1) : blue, waiting };
}
