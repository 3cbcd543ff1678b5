// Bots drive the CPUs (and the DMA device) no player holds. Pure: a bot's move
// is a function of the level, the session and whose turn it is.
//   manual     never moves: players step the bot's CPUs themselves.
//   eager      steps any runnable actor it owns, taking turns between them.
//   adversary  plays for the race: it asks the explorer, from the machine as it
//              stands, for a move that keeps the goal violation reachable, and
//              waits for the players when none does. This is what makes defend
//              levels honest: an unsafe fix meets a scheduler that hunts for its hole.

import type { Level } from "../level/load.js";
import { enabledActions, step } from "../sim/engine.js";
import { explore } from "../sim/explore.js";
import { checkOracles } from "../sim/oracles.js";
import type { Action } from "../sim/types.js";
import { actorOf, compiledFor, current, EXPLORE_BUDGET, type Actor, type Command, type Session } from "./session.js";

export type Policy = "manual" | "eager" | "adversary";

const toCommand = (a: Action): Command => ("dma" in a ? { kind: "step", actor: "dma" } : a.choice === undefined ? { kind: "step", actor: a.cpu } : { kind: "step", actor: a.cpu, choice: a.choice });

/**
 * The bot's next move, or null to wait. `owns` says which actors the bot drives;
 * `turn` (the room's sequence number) rotates an eager bot between its actors.
 */
export function botMove(level: Level, s: Session, policy: Policy, owns: (a: Actor) => boolean, turn: number): Command | null {
  if (policy === "manual" || s.phase !== "play") return null;
  const c = compiledFor(level, s.knobs);
  const m = current(s);
  const mine = enabledActions(c.cfg, m).filter((a) => owns(actorOf(a)));
  if (mine.length === 0) return null;
  const eager = () => toCommand(mine[turn % mine.length]);
  if (policy === "eager") return eager();

  const here = explore(c.cfg, m, { oracles: c.oracles, maxStates: EXPLORE_BUDGET });
  // No race left to reach (a sound fix, or play already past it): keep the workload moving.
  if (here.verdict !== "reachable" || !here.schedule || here.schedule.length === 0) return eager();
  const first = here.schedule[0];
  if (owns(actorOf(first))) return toCommand(first);
  // The shortest road to the race starts with a player's move: make the move of
  // ours that leaves the race closest, or wait if each of ours would lose it.
  let best: { a: Action; d: number } | null = null;
  for (const a of mine) {
    const after = step(c.cfg, m, a).m;
    if (checkOracles(c.cfg, after, c.oracles)) return toCommand(a);
    const r = explore(c.cfg, after, { oracles: c.oracles, maxStates: EXPLORE_BUDGET });
    if (r.verdict === "reachable" && r.schedule && (best === null || r.schedule.length < best.d)) best = { a, d: r.schedule.length };
  }
  return best ? toCommand(best.a) : null;
}
