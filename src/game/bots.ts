// Bots drive the CPUs (and the DMA device) no player holds. Pure: a bot's move
// is a function of the level, the session and whose turn it is.
//   manual     never moves: players step the bot's CPUs themselves.
//   eager      steps any runnable actor it owns, taking turns between them.
//   adversary  plays for the race: it looks up, in the level setting's solved
//              game, a move that keeps the goal violation reachable soonest, and
//              waits for the players when none does. This is what makes defend
//              levels honest: an unsafe fix meets a scheduler that hunts for its hole.
//              The server solves each setting once, off its thread (server/solver);
//              without a solved game (the CLI, tests) the bot asks the explorer.

import type { Level } from "../level/load.js";
import { advance, enabledActions } from "../sim/engine.js";
import { explore } from "../sim/explore.js";
import { checkOracles } from "../sim/oracles.js";
import type { Action } from "../sim/types.js";
import type { Solved } from "../sim/solve.js";
import { adversaryEdge, edgeSteps } from "./solved.js";
import { actorOf, compiledFor, current, EXPLORE_BUDGET, type Actor, type Command, type Session } from "./session.js";

/** A solved game and the node the session's machine is at (src/game/solved.ts track). */
export interface SolvedAt {
  s: Solved;
  node: number;
}

export type { Policy } from "../protocol/client.js";
import type { Policy } from "../protocol/client.js";

const toCommand = (a: Action): Command => ("dma" in a ? { kind: "step", actor: "dma" } : a.choice === undefined ? { kind: "step", actor: a.cpu } : { kind: "step", actor: a.cpu, choice: a.choice });

/**
 * The bot's plan from here: the moves it will make one after another as long as
 * nobody else moves in between (then it plans again). Empty: wait. `owns` says
 * which actors the bot drives; `turn` (the room's sequence number) rotates an
 * eager bot between its actors.
 */
export function botPlan(level: Level, s: Session, policy: Policy, owns: (a: Actor) => boolean, turn: number, solved?: SolvedAt): Command[] {
  if (policy === "manual" || s.phase !== "play") return [];
  const c = compiledFor(level, s.knobs);
  const m = current(s);
  const mine = enabledActions(c.cfg, m).filter((a) => owns(actorOf(a)));
  if (mine.length === 0) return [];
  const eager = () => [toCommand(mine[turn % mine.length])];
  if (policy === "eager") return eager();
  if (solved) {
    // A lookup: the move is one edge of the solved game, played line by line.
    const e = adversaryEdge(solved.s, solved.node, (a) => owns(actorOf(a)));
    if (e === "eager") return eager();
    if (e === null) return [];
    return edgeSteps(solved.s, c.cfg, m, e).map(toCommand);
  }

  const here = explore(c.cfg, m, { oracles: c.oracles, maxStates: EXPLORE_BUDGET });
  // No race left to reach (a sound fix, or play already past it): keep the workload moving.
  if (here.verdict !== "reachable" || !here.schedule || here.schedule.length === 0) return eager();
  // Play the road to the race for as long as it is ours to play. Following it
  // whole matters for a livelock, whose proof is a lap that steps every CPU.
  const lead: Command[] = [];
  for (const a of here.schedule) {
    if (!owns(actorOf(a))) break;
    lead.push(toCommand(a));
  }
  if (lead.length > 0) return lead;
  // The shortest road starts with a player's move: make the move of ours that
  // leaves the race closest, or wait if each of ours would lose it.
  let best: { a: Action; d: number } | null = null;
  for (const a of mine) {
    const after = advance(c.cfg, m, a);
    if (checkOracles(c.cfg, after, c.oracles)) return [toCommand(a)];
    const r = explore(c.cfg, after, { oracles: c.oracles, maxStates: EXPLORE_BUDGET });
    if (r.verdict === "reachable" && r.schedule && (best === null || r.schedule.length < best.d)) best = { a, d: r.schedule.length };
  }
  return best ? [toCommand(best.a)] : [];
}

/** The first move of the bot's plan, or null to wait. */
export function botMove(level: Level, s: Session, policy: Policy, owns: (a: Actor) => boolean, turn: number, solved?: SolvedAt): Command | null {
  return botPlan(level, s, policy, owns, turn, solved)[0] ?? null;
}
