// The bots of a versus room: each CPU nobody holds is played by the bot of its
// side, to the end. Pure, like bots.ts (whose adversary plays red here).
//   red   (adversary) pushes for the race: the explorer's road to it; it waits
//         only while a player could still move (each of its own moves would
//         lose the race), and otherwise plays on eagerly so the game ends.
//   blue  (guard) keeps every CPU safe: it prefers a move after which no
//         schedule reaches the race, else the move that leaves the race
//         farthest away; it never waits while it has a move.
// Both look their moves up in the setting's solved game (src/game/solved.ts)
// when the server has one; without it (the CLI, tests) they ask the explorer,
// bounded by EXPLORE_BUDGET; "eager" (a setting too big to solve) plays on.

import type { Level } from "../level/load.js";
import { advance, enabledActions } from "../sim/engine.js";
import { explore } from "../sim/explore.js";
import { checkOracles } from "../sim/oracles.js";
import type { Action } from "../sim/types.js";
import { botPlan, type SolvedAt } from "./bots.js";
import { edgeSteps, known } from "./solved.js";
import { NODE } from "../sim/solve.js";
import { actorOf, compiledFor, current, EXPLORE_BUDGET, type Actor, type Command, type Session } from "./session.js";

export type { Side } from "../protocol/client.js";
import type { Side } from "../protocol/client.js";

const toCommand = (a: Action): Command => ("dma" in a ? { kind: "step", actor: "dma" } : a.choice === undefined ? { kind: "step", actor: a.cpu } : { kind: "step", actor: a.cpu, choice: a.choice });

/**
 * Blue's move: among the actors it owns, the first (rotating with `turn`) after
 * which the race is unreachable; else the one that leaves it farthest (a move
 * that fires the race itself only when nothing else is left). Empty only when
 * it has no move.
 */
export function guardPlan(level: Level, s: Session, owns: (a: Actor) => boolean, turn: number, solved?: SolvedAt | "eager"): Command[] {
  if (s.phase !== "play") return [];
  const c = compiledFor(level, s.knobs);
  const m = current(s);
  const mine = enabledActions(c.cfg, m).filter((a) => owns(actorOf(a)));
  if (mine.length === 0) return [];
  const order = mine.map((_, i) => mine[(i + turn) % mine.length]);
  if (solved === "eager" || (solved && !known(solved.s, solved.node))) return [toCommand(order[0])];
  if (solved) {
    // A lookup per move: rank each of blue's edges by how far it leaves the race (unreachable best, the race itself worst).
    const g = solved.s;
    let best: { e: number; rank: number } | null = null;
    const edges: number[] = [];
    for (let e = g.first[solved.node]; e < g.first[solved.node + 1]; e++) if (owns(actorOf(g.moves[g.move[e]]))) edges.push(e);
    for (let i = 0; i < edges.length; i++) {
      const e = edges[(i + turn) % edges.length];
      const to = g.to[e];
      const rank = g.kind[to] === NODE.goal ? -1 : g.dist[to] < 0 ? Number.MAX_SAFE_INTEGER : g.dist[to];
      if (best === null || rank > best.rank) best = { e, rank };
    }
    return best ? edgeSteps(g, c.cfg, m, best.e).map(toCommand) : [toCommand(order[0])];
  }
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
export function sidesPlan(level: Level, s: Session, botSide: (a: Actor) => Side | null, turn: number, solved?: SolvedAt | "eager"): SidesPlan {
  if (s.phase !== "play") return { cmds: [], waiting: [] };
  const c = compiledFor(level, s.knobs);
  const enabled = enabledActions(c.cfg, current(s));
  const sideOf = (a: Action) => botSide(actorOf(a));
  const playersCanMove = enabled.some((a) => sideOf(a) === null);
  const redMoves = enabled.filter((a) => sideOf(a) === "red");
  const isRed = (a: Actor) => botSide(a) === "red";
  const redPolicy = solved === "eager" ? "eager" : "adversary";
  let red: Command[] = redMoves.length ? botPlan(level, s, redPolicy, isRed, turn, solved === "eager" ? undefined : solved) : [];
  const waiting: Side[] = [];
  if (redMoves.length && red.length === 0) {
    if (playersCanMove) waiting.push("red");
    else red = [toCommand(redMoves[turn % redMoves.length])];
  }
  const blue = guardPlan(level, s, (a) => botSide(a) === "blue", turn, solved);
  if (red.length && blue.length) return { cmds: turn % 2 === 0 ? red.slice(0, 1) : blue, waiting };
  return { cmds: red.length ? red.slice(0, 1) : blue, waiting };
}
