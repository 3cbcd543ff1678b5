// Lookups in a solved game (src/sim/solve.ts) for a room: where the room's
// machine is in the graph, the adversary's next move, the explorer's hint and a
// defend fix's proof. Pure: no exploration happens here, only array reads.
//
// A room's players step line by line and may leave a CPU in the middle of its
// local lines; the solved game stores settled machines. They meet through
// footprints: a local step changes nothing another actor or an oracle can see,
// so it leaves the room at the same node; a shared step (or a menu pick, or a
// first blocked attempt) follows the edge of the same move. track() is that map.

import { cpuLabel } from "../sim/engine.js";
import { nextIsLocal, settle } from "../sim/footprint.js";
import type { Config } from "../sim/config.js";
import { waitHolds } from "../sim/machine.js";
import { formatSchedule } from "../sim/schedule.js";
import type { OracleId } from "../sim/oracles.js";
import { NO_ROAD, preemptionTable } from "../sim/preempt.js";
import { lapFrom, NODE, type Solved } from "../sim/solve.js";
import type { Action, Machine } from "../sim/types.js";

const sameMove = (a: Action, b: Action): boolean =>
  "dma" in a ? "dma" in b : !("dma" in b) && a.cpu === b.cpu && (a.choice ?? null) === (b.choice ?? null);

/** The node after `action` is stepped on machine `m` (at `node`); -1 when the graph does not go there. */
export function track(s: Solved, cfg: Config, m: Machine, node: number, action: Action): number {
  if (node < 0) return -1;
  if (!("dma" in action)) {
    const c = m.cpus[action.cpu];
    if (c && c.wait && waitHolds(m, action.cpu, c.wait)) return node; // spinning changes nothing
    if (action.choice === undefined && c && nextIsLocal(cfg, m, action.cpu)) return node;
  }
  for (let e = s.first[node]; e < s.first[node + 1]; e++) if (sameMove(s.moves[s.move[e]], action)) return s.to[e];
  return -1;
}

/** Whether the node's moves are all known (not cut by the state budget, not beyond the game's end). */
export const known = (s: Solved, node: number): boolean => node >= 0 && s.kind[node] !== NODE.unexpanded;

/** The first move of a best road to the race from `node`: an edge index, or -1 (no road, or the race is here). */
export function nextEdge(s: Solved, node: number): number {
  if (!known(s, node) || s.dist[node] < 0) return -1;
  if (s.lap[node] >= 0) return lapFrom(s, node)[0] ?? -1;
  for (let e = s.first[node]; e < s.first[node + 1]; e++) if (s.dist[s.to[e]] === s.dist[node] - 1) return e;
  return -1;
}

/**
 * The adversary's move at `node`, for the actors it `owns`: the first move of a
 * best road when it is its own; else its own move that leaves the race closest;
 * else null (wait for the players). "eager" when the race cannot be reached from
 * here (a sound fix, or play already past it) or the node is not known.
 */
export function adversaryEdge(s: Solved, node: number, owns: (a: Action) => boolean): number | null | "eager" {
  if (!known(s, node) || s.dist[node] < 0) return "eager";
  const lead = nextEdge(s, node);
  if (lead >= 0 && owns(s.moves[s.move[lead]])) return lead;
  let best = -1;
  for (let e = s.first[node]; e < s.first[node + 1]; e++) {
    if (!owns(s.moves[s.move[e]])) continue;
    const to = s.to[e];
    const d = s.kind[to] === NODE.goal ? 0 : s.dist[to];
    if (d < 0) continue;
    if (best < 0 || d < (s.kind[s.to[best]] === NODE.goal ? 0 : s.dist[s.to[best]])) best = e;
  }
  return best >= 0 ? best : null;
}

/**
 * An edge's move as the steps that play it from the room's machine `m`: the
 * CPU's pending local lines first (if a player left it mid-way), the move, then
 * the local lines the solved game fused after it.
 */
export function edgeSteps(s: Solved, cfg: Config, m: Machine, e: number): Action[] {
  const a = s.moves[s.move[e]];
  if ("dma" in a) return [a];
  const pending = settle(cfg, m, a.cpu).n;
  const plain: Action = { cpu: a.cpu };
  return [...Array.from({ length: pending }, () => plain), a, ...Array.from({ length: s.took[e] - 1 }, () => plain)];
}

/** The explorer's hint from `node`: how far the race is and the next move, without the rest of the road. */
export function hintAt(s: Solved, cfg: Config, node: number): string {
  if (!known(s, node)) return "The explorer: this position is past what it solved for this level; step on, rewind or reset.";
  if (s.dist[node] < 0) return "The explorer: from here no schedule makes the race happen. Rewind or reset.";
  const e = nextEdge(s, node);
  const a = s.moves[s.move[e]];
  const who = "dma" in a ? "step the DMA device" : `run ${cpuLabel(cfg, a.cpu)}${a.choice ? `, choosing ${a.choice},` : ""} through its next shared line`;
  if (s.lap[node] >= 0) return `The explorer: from here the CPUs can go round a lap forever and never finish (a livelock). Its next move: ${who}.`;
  const n = s.dist[node];
  return `The explorer: from here the race is ${n} move${n === 1 ? "" : "s"} away (a move is one line that touches shared state, with the CPU's own lines after it). Its next move: ${who}.`;
}

/** A defend setting's proof: whether any schedule breaks the fix, and one that does. */
export function proofOf(s: Solved): { verdict: Solved["verdict"]; counterexample: string | null } {
  return { verdict: s.verdict, counterexample: s.verdict === "reachable" && s.schedule ? formatSchedule(s.schedule) : null };
}

/** One goal oracle some road reaches, and its preemption table (sim/preempt.ts preemptionTable). */
export interface OracleTable {
  oracle: OracleId;
  table: Uint8Array;
}

/**
 * The sandbox explorer's tables, built once per solved setting (on a solver thread): for each
 * goal oracle that fires at some state, the fewest preemptions to such a state from every
 * position. `s` must be solved with `label` (its `fired` masks), over `oracles` in that order.
 */
export function reachTables(s: Solved, cpus: number, oracles: readonly OracleId[]): OracleTable[] {
  const out: OracleTable[] = [];
  oracles.forEach((oracle, i) => {
    const bit = 1 << i;
    const isTarget = oracle === "livelock" ? (u: number) => s.lap[u] >= 0 : (u: number) => s.kind[u] === NODE.goal && ((s.fired?.[u] ?? 0) & bit) !== 0;
    let any = false;
    for (let u = 0; u < s.states && !any; u++) any = isTarget(u);
    if (any) out.push({ oracle, table: preemptionTable(s, cpus, isTarget) });
  });
  return out;
}

/** How few preemptions one oracle needs from here (the explorer's answer: a count, never the road). */
export interface OracleReach {
  oracle: OracleId;
  preemptions: number;
}

/**
 * Which goal oracles can still fire from the room's position, and the fewest preemptions each
 * needs: the first move is judged as the session counts it (`lastCanRun`: whether the actor
 * that stepped last, `last`, could still run on the room's machine), the rest by the tables.
 * Ordered by preemptions, then as the tables are. null when the node is not known.
 */
export function reachAt(s: Solved, tables: readonly OracleTable[], cpus: number, node: number, last: Action | null, lastCanRun: boolean): OracleReach[] | null {
  if (!known(s, node)) return null;
  const width = cpus + 2;
  const slot = (a: Action) => ("dma" in a ? cpus : a.cpu);
  const lastSlot = last === null ? null : slot(last);
  const out: OracleReach[] = [];
  for (const t of tables) {
    // Already firing here: a goal state (terminal: its tables are 0 exactly for the oracles that fire), or a livelock's lap.
    const here = s.kind[node] === NODE.goal ? t.table[node * width + cpus + 1] === 0 : t.oracle === "livelock" && s.lap[node] >= 0;
    let best = here ? 0 : NO_ROAD;
    for (let e = s.first[node]; e < s.first[node + 1] && best > 0; e++) {
      const a = slot(s.moves[s.move[e]]);
      const rest = t.table[s.to[e] * width + a];
      if (rest === NO_ROAD) continue;
      const w = lastSlot !== null && lastSlot !== a && lastCanRun ? 1 : 0;
      best = Math.min(best, w + rest);
    }
    if (best !== NO_ROAD) out.push({ oracle: t.oracle, preemptions: best });
  }
  return out.sort((a, b) => a.preemptions - b.preemptions);
}
