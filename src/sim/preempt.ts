// Preemptions: the context switches a schedule forces. A step preempts when the
// CPU (or device) that stepped before it could still have run and another one
// runs instead; switching away from a CPU that blocked or finished is free. A
// level's par is the fewest preemptions of any schedule that triggers its race:
// most real races need one or two (Musuvathi and Qadeer's CHESS result), and
// that count is the number of decisions a player has to get right.

import type { Config } from "./config.js";
import { actorKey, advance, enabledActions } from "./engine.js";
import { expandSchedule } from "./footprint.js";
import { NODE, type Solved } from "./solve.js";
import type { Action, Machine } from "./types.js";

/** Whether stepping `a` on `m` right after a step of `prev` is a preemption (the one rule). */
export function preempts(cfg: Config, m: Machine, prev: Action | null, a: Action): boolean {
  if (prev === null || actorKey(prev) === actorKey(a)) return false;
  const p = actorKey(prev);
  return enabledActions(cfg, m).some((x) => actorKey(x) === p);
}

/** The preemptions of a line-by-line schedule from m0 (its steps must all be allowed). */
export function countPreemptions(cfg: Config, m0: Machine, actions: readonly Action[]): number {
  let n = 0;
  let m = m0;
  let prev: Action | null = null;
  for (const a of actions) {
    if (preempts(cfg, m, prev, a)) n++;
    m = advance(cfg, m, a);
    prev = a;
  }
  return n;
}

/**
 * The fewest preemptions of any road from the initial state to the goal, and
 * one such road line by line: 0-1 breadth-first search over (state, who ran
 * last), where a move costs 1 when it preempts. Exact over the solved graph.
 * null when the goal cannot be reached (or the graph is incomplete).
 */
export function fewestPreemptions(s: Solved, cpus: number): { preemptions: number; schedule: Action[] } | null {
  if (s.verdict !== "reachable") return null;
  const width = cpus + 2; // last actor: CPUs 0..cpus-1, the DMA device, or nobody yet
  const NOBODY = cpus + 1;
  const slot = (a: Action) => ("dma" in a ? cpus : a.cpu);
  const total = s.states * width;
  const cost = new Int32Array(total).fill(-1);
  const from = new Int32Array(total).fill(-1);
  const via = new Int32Array(total).fill(-1);
  const done = new Uint8Array(total);
  // A deque in one array: 0-cost moves go to the front, 1-cost to the back.
  const dq = new Int32Array(total * 2 + 2);
  let head = total;
  let tail = total;
  const start = 0 * width + NOBODY;
  cost[start] = 0;
  dq[tail++] = start;
  const isGoal = (u: number) => s.kind[u] === NODE.goal || s.lap[u] >= 0;
  let found = -1;
  while (head < tail) {
    const k = dq[head++];
    if (done[k]) continue;
    done[k] = 1;
    const u = Math.floor(k / width);
    const last = k % width;
    if (isGoal(u)) {
      found = k;
      break;
    }
    // Could the actor that ran last still run here?
    let lastRuns = false;
    if (last !== NOBODY) for (let e = s.first[u]; e < s.first[u + 1] && !lastRuns; e++) lastRuns = slot(s.moves[s.move[e]]) === last;
    for (let e = s.first[u]; e < s.first[u + 1]; e++) {
      const a = s.moves[s.move[e]];
      const w = lastRuns && slot(a) !== last ? 1 : 0;
      const nk = s.to[e] * width + slot(a);
      const c = cost[k] + w;
      if (done[nk] || (cost[nk] >= 0 && cost[nk] <= c)) continue;
      cost[nk] = c;
      from[nk] = k;
      via[nk] = e;
      if (w === 0) dq[--head] = nk;
      else dq[tail++] = nk;
    }
  }
  if (found < 0) return null;
  const moves: Action[] = [];
  const counts: number[] = [];
  for (let k = found; from[k] >= 0; k = from[k]) {
    moves.push(s.moves[s.move[via[k]]]);
    counts.push(s.took[via[k]]);
  }
  moves.reverse();
  counts.reverse();
  // The violation is there after the last move's shared line; its fused local lines are not needed.
  if (counts.length > 0 && s.kind[Math.floor(found / width)] === NODE.goal) counts[counts.length - 1] = 1;
  return { preemptions: cost[found], schedule: expandSchedule(s.runs, moves, counts) };
}

/** A preemption table's entry for a position from which the target cannot be reached. */
export const NO_ROAD = 255;

/**
 * The fewest preemptions from every position to a target, for a question asked
 * many times during play ("how far is this oracle from here?"): one backward
 * 0-1 breadth-first search over (state, who ran last), the mirror of
 * fewestPreemptions. Entry `u * (cpus + 2) + last` (last: a CPU, `cpus` for the
 * DMA device, `cpus + 1` for nobody yet) is the count, at most 254, or NO_ROAD.
 * Exact over the solved graph; a target is a node `isTarget` accepts.
 */
export function preemptionTable(s: Pick<Solved, "states" | "first" | "to" | "move" | "moves">, cpus: number, isTarget: (u: number) => boolean): Uint8Array {
  const width = cpus + 2;
  const NOBODY = cpus + 1;
  const n = s.states;
  const slotOf = new Uint8Array(s.moves.length);
  s.moves.forEach((a, i) => (slotOf[i] = "dma" in a ? cpus : a.cpu));
  // Who may run at each node (the actors with a move there): a switch away from one of them preempts.
  const runs = new Uint16Array(n);
  for (let u = 0; u < n; u++) for (let e = s.first[u]; e < s.first[u + 1]; e++) runs[u] |= 1 << slotOf[s.move[e]];
  // Reverse edges, grouped by their head.
  const revFirst = new Int32Array(n + 1);
  for (let e = 0; e < s.to.length; e++) revFirst[s.to[e] + 1]++;
  for (let i = 0; i < n; i++) revFirst[i + 1] += revFirst[i];
  const revEdge = new Int32Array(s.to.length);
  const fill = revFirst.slice(0, n);
  for (let u = 0; u < n; u++) for (let e = s.first[u]; e < s.first[u + 1]; e++) revEdge[fill[s.to[e]]++] = e;
  const tail = new Int32Array(s.to.length);
  for (let u = 0; u < n; u++) for (let e = s.first[u]; e < s.first[u + 1]; e++) tail[e] = u;

  const total = n * width;
  const cost = new Int32Array(total).fill(-1);
  const done = new Uint8Array(total);
  const dq = new Int32Array(total * 2 + 2);
  let head = total;
  let back = total;
  for (let u = 0; u < n; u++) {
    if (!isTarget(u)) continue;
    for (let last = 0; last < width; last++) {
      cost[u * width + last] = 0;
      dq[back++] = u * width + last;
    }
  }
  while (head < back) {
    const k = dq[head++];
    if (done[k]) continue;
    done[k] = 1;
    const v = Math.floor(k / width);
    const a = k % width; // the actor whose move entered v
    if (a === NOBODY) continue; // no move enters a node as "nobody ran"
    for (let r = revFirst[v]; r < revFirst[v + 1]; r++) {
      const e = revEdge[r];
      if (slotOf[s.move[e]] !== a) continue;
      const u = tail[e];
      for (let last = 0; last < width; last++) {
        const w = last !== NOBODY && last !== a && (runs[u] >> last) & 1 ? 1 : 0;
        const j = u * width + last;
        const c = cost[k] + w;
        if (done[j] || (cost[j] >= 0 && cost[j] <= c)) continue;
        cost[j] = c;
        if (w === 0) dq[--head] = j;
        else dq[back++] = j;
      }
    }
  }
  const out = new Uint8Array(total).fill(NO_ROAD);
  for (let j = 0; j < total; j++) if (cost[j] >= 0) out[j] = Math.min(cost[j], NO_ROAD - 1);
  return out;
}
