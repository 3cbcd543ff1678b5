// The solved game: a level setting's whole reachable graph, explored once, with
// what every room on that setting asks of it precomputed per state.
//
// States are settled machines (footprint.ts): local steps are fused into the
// move before them, so a move is one shared line plus the local lines after it.
// A room's machine, whatever lines its players stepped, settles to exactly one
// of these states (track() follows it there move by move), so a bot's move, a
// hint and a defend level's proof are lookups in flat arrays.
//
// Reductions, each exact: local steps fused (footprint.ts); a CPU whose
// recorded wait still holds is not stepped (the step is a self-loop); a state
// where a goal or stop oracle fired is terminal; states are deduplicated by
// their full canonical encoding (stateset.ts), never by a lossy digest.

import type { Config } from "./config.js";
import { actorKey, advance, enabledActions } from "./engine.js";
import { expandSchedule, macroStep, normalize } from "./footprint.js";
import { checkOracles, firedMask, type OracleId, type Violation } from "./oracles.js";
import { StateSet } from "./stateset.js";
import type { Action, Machine } from "./types.js";

/** Bumped whenever a change to the simulator can change a solved game (part of every cache key). */
export const SIM_VERSION = 3;

export interface SolveOptions {
  /** The goal: a violation of any of these (livelock: a fair cycle) is what the race is. */
  oracles: readonly OracleId[];
  /** Oracles that end a run without meeting the goal (default: deadlock, unless it is the goal). */
  stopOn?: readonly OracleId[];
  /** Give up after this many states (verdict "incomplete"). */
  maxStates?: number;
  /** Stop at the first goal state (breadth-first: a shortest road); no distances or par then. */
  stopAtFirst?: boolean;
  /** Fuse local steps (default true). */
  reduce?: boolean;
  /** Called every 10,000 states. */
  onProgress?: (states: number) => void;
  /** Keep the states, so that `lookup` can find a machine's node (tests; a room tracks its node instead). */
  keepStates?: boolean;
  /** Record at every goal state which goal oracles fire there (`fired`): the sandbox's explorer asks per oracle. */
  label?: boolean;
}

/** What a node is: expanded, a goal state, a state where a stop oracle fired, or left unexpanded (budget). */
export const NODE = { open: 0, goal: 1, stop: 2, unexpanded: 3 } as const;

export interface Solved {
  verdict: "reachable" | "safe" | "incomplete";
  states: number;
  transitions: number;
  /** Local steps each CPU runs before its first shared line (the initial machine is not settled). */
  runs: number[];
  /** Distinct moves; edges name them by index. */
  moves: Action[];
  /** Edges of node u are first[u] .. first[u+1]-1 (compressed rows). */
  first: Int32Array;
  to: Int32Array;
  move: Int32Array;
  /** Lines the edge runs: its move and the local lines fused after it. */
  took: Int32Array;
  kind: Uint8Array;
  /** Moves from the node to the goal along the best road (0 at a goal state or on a livelock's lap), -1 when the goal cannot be reached. */
  dist: Int32Array;
  /** Livelock goals: the node's fair strongly connected component, or -1. */
  lap: Int32Array;
  /** The goal violation where the shortest road ends (a livelock's is described). */
  violation: (Violation & { step: number }) | null;
  /** The shortest road from the initial machine, line by line (null when safe or incomplete). */
  schedule: Action[] | null;
  /** For a livelock: the part of `schedule` that repeats forever. */
  cycle: Action[] | null;
  /** With keepStates: the node a machine settles to, or -1. */
  lookup?: (m: Machine) => number;
  /** With label: per node, the goal oracles that fire there as a bit mask by position in `oracles` (0 off goal states; see firedMask). */
  fired?: Uint32Array;
}

const DEFAULT_MAX = 5_000_000;

const moveKey = (a: Action): string => ("dma" in a ? "d" : a.choice === undefined ? String(a.cpu) : `${a.cpu}:${a.choice}`);

/** A move and the local lines fused after it, line by line. */
export function linesOf(a: Action, n: number): Action[] {
  const plain: Action = "dma" in a ? a : { cpu: a.cpu };
  return [a, ...Array.from({ length: n - 1 }, () => plain)];
}

export function solve(cfg: Config, m0: Machine, opts: SolveOptions): Solved {
  const goalIds = opts.oracles.filter((o) => o !== "livelock");
  const wantLivelock = opts.oracles.includes("livelock");
  const stopOn = (opts.stopOn ?? ["deadlock"]).filter((o) => !opts.oracles.includes(o));
  const max = opts.maxStates ?? DEFAULT_MAX;
  const reduce = opts.reduce ?? true;

  const settled = reduce ? normalize(cfg, m0) : { m: m0, runs: m0.cpus.map(() => 0) };
  const ids = new StateSet();
  ids.add(settled.m);
  const parent: number[] = [-1];
  const parentEdge: number[] = [-1];
  const kinds: number[] = [];
  /** With label: node -> the goal oracles firing there (only goal nodes are listed). */
  const fired = new Map<number, number>();
  const label = (id: number, m: Machine) => {
    if (opts.label) fired.set(id, firedMask(cfg, m, opts.oracles));
  };
  const first: number[] = [];
  const to: number[] = [];
  const move: number[] = [];
  const took: number[] = [];
  const starving: boolean[] = [];
  const moveIds = new Map<string, number>();
  const moves: Action[] = [];
  const moveId = (a: Action): number => {
    const k = moveKey(a);
    let id = moveIds.get(k);
    if (id === undefined) {
      id = moves.length;
      moveIds.set(k, id);
      moves.push(a);
    }
    return id;
  };

  let goalAt = -1;
  let goalViolation: Violation | null = null;
  let incomplete = false;
  const v0 = checkOracles(cfg, settled.m, goalIds);
  const queue: Machine[] = [settled.m];
  if (v0) {
    kinds.push(NODE.goal);
    label(0, settled.m);
    goalAt = 0;
    goalViolation = v0;
  } else kinds.push(checkOracles(cfg, settled.m, stopOn) ? NODE.stop : NODE.open);

  // Breadth-first, in id order: node ids are discovery order, so rows are written in order.
  let u = 0;
  for (; u < queue.length; u++) {
    first.push(to.length);
    const m = queue[u];
    queue[u] = null as unknown as Machine; // machines are not kept: the encodings are
    starving.push(m.cpus.some((c, i) => !c.done && !cfg.cpus[i].loop));
    if (kinds[u] !== NODE.open) continue;
    if (incomplete || (opts.stopAtFirst && goalAt >= 0)) {
      kinds[u] = NODE.unexpanded;
      continue;
    }
    for (const a of enabledActions(cfg, m)) {
      const r = reduce ? macroStep(cfg, m, a) : { m: advance(cfg, m, a), n: 1 };
      const { id, fresh } = ids.add(r.m);
      to.push(id);
      move.push(moveId(a));
      took.push(r.n);
      if (!fresh) continue;
      parent.push(u);
      parentEdge.push(to.length - 1);
      queue.push(r.m);
      if (id % 10_000 === 0) opts.onProgress?.(id);
      const v = checkOracles(cfg, r.m, goalIds);
      if (v) {
        kinds.push(NODE.goal);
        label(id, r.m);
        if (goalAt < 0) {
          goalAt = id;
          goalViolation = v;
        }
      } else kinds.push(checkOracles(cfg, r.m, stopOn) ? NODE.stop : NODE.open);
      if (ids.size >= max) incomplete = true;
    }
  }
  first.push(to.length);

  const n = queue.length;
  const g = {
    first: Int32Array.from(first),
    to: Int32Array.from(to),
    move: Int32Array.from(move),
    took: Int32Array.from(took),
    kind: Uint8Array.from(kinds),
  };
  const lap = new Int32Array(n).fill(-1);
  if (wantLivelock && !incomplete) markFairComponents(n, g, moves, starving, lap);

  const dist = opts.stopAtFirst ? new Int32Array(n).fill(-1) : distances(n, g, lap);
  const roadTo = (target: number): Action[] => {
    const ms: Action[] = [];
    const counts: number[] = [];
    for (let i = target; parent[i] >= 0; i = parent[i]) {
      ms.push(moves[g.move[parentEdge[i]]]);
      counts.push(g.took[parentEdge[i]]);
    }
    ms.reverse();
    counts.reverse();
    return expandRoad(settled.runs, ms, counts);
  };

  const base = {
    states: n,
    transitions: to.length,
    runs: settled.runs,
    moves,
    ...g,
    dist,
    lap,
    ...(opts.keepStates ? { lookup: (m: Machine) => ids.find(reduce ? normalize(cfg, m).m : m) } : {}),
    ...(opts.label ? { fired: labels(n, fired) } : {}),
  };
  if (goalAt >= 0) {
    const schedule = roadTo(goalAt);
    return { ...base, verdict: "reachable", violation: { ...goalViolation!, step: schedule.length }, schedule, cycle: null };
  }
  if (wantLivelock && !incomplete) {
    const entry = lap.findIndex((c) => c >= 0);
    if (entry >= 0) {
      const upFront = settled.runs.flatMap((k, cpu) => Array.from({ length: k }, (): Action => ({ cpu })));
      const road: Action[] = [];
      for (let i = entry; parent[i] >= 0; i = parent[i]) road.unshift(...linesOf(moves[g.move[parentEdge[i]]], g.took[parentEdge[i]]));
      const prefix = [...upFront, ...road];
      const cycle = lapFrom({ ...base } as Solved, entry).flatMap((e) => linesOf(moves[g.move[e]], g.took[e]));
      return {
        ...base,
        verdict: "reachable",
        schedule: [...prefix, ...cycle],
        cycle,
        violation: {
          oracle: "livelock",
          message: `livelock: after step ${prefix.length} the machine can cycle forever (${cycle.length} steps a lap, every runnable CPU stepped) and never finish`,
          step: prefix.length + cycle.length,
        },
      };
    }
  }
  return { ...base, verdict: incomplete ? "incomplete" : "safe", violation: null, schedule: null, cycle: null };
}

function labels(n: number, fired: Map<number, number>): Uint32Array {
  const out = new Uint32Array(n);
  for (const [u, mask] of fired) out[u] = mask;
  return out;
}

/** The last move's fused local lines are trimmed: the violation is there before they run. */
function expandRoad(runs: readonly number[], ms: Action[], counts: number[]): Action[] {
  if (counts.length > 0) counts[counts.length - 1] = 1;
  return expandSchedule(runs, ms, counts);
}

type Graph = Pick<Solved, "first" | "to" | "move" | "took" | "kind">;

/** Backward breadth-first distances (in moves) to a goal state or a livelock's lap. */
function distances(n: number, g: Graph, lap: Int32Array): Int32Array {
  const dist = new Int32Array(n).fill(-1);
  const revFirst = new Int32Array(n + 1);
  for (let e = 0; e < g.to.length; e++) revFirst[g.to[e] + 1]++;
  for (let i = 0; i < n; i++) revFirst[i + 1] += revFirst[i];
  const revFrom = new Int32Array(g.to.length);
  const fill = revFirst.slice(0, n);
  for (let u = 0; u < n; u++) for (let e = g.first[u]; e < g.first[u + 1]; e++) revFrom[fill[g.to[e]]++] = u;
  const q = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let u = 0; u < n; u++) {
    if (g.kind[u] === NODE.goal || lap[u] >= 0) {
      dist[u] = 0;
      q[tail++] = u;
    }
  }
  while (head < tail) {
    const v = q[head++];
    for (let k = revFirst[v]; k < revFirst[v + 1]; k++) {
      const u = revFrom[k];
      if (dist[u] >= 0) continue;
      dist[u] = dist[v] + 1;
      q[tail++] = u;
    }
  }
  return dist;
}

/**
 * Fair non-progress cycles: a strongly connected component in which every actor
 * enabled in all of its states takes some step inside it (weak fairness), and
 * some CPU with finite work is unfinished. `lap[u]` gets the component's id.
 */
function markFairComponents(n: number, g: Graph, moves: Action[], starving: boolean[], lap: Int32Array): void {
  const comp = tarjan(n, g);
  const groups = new Map<number, number[]>();
  comp.forEach((c, i) => {
    let list = groups.get(c);
    if (!list) groups.set(c, (list = []));
    list.push(i);
  });
  const actorsAt = (u: number) => {
    const s = new Set<string>();
    for (let e = g.first[u]; e < g.first[u + 1]; e++) s.add(actorKey(moves[g.move[e]]));
    return s;
  };
  for (const [c, members] of groups) {
    if (!members.some((u) => starving[u])) continue;
    const stepped = new Set<string>();
    let internal = 0;
    for (const u of members) {
      for (let e = g.first[u]; e < g.first[u + 1]; e++) {
        if (comp[g.to[e]] !== c) continue;
        internal++;
        stepped.add(actorKey(moves[g.move[e]]));
      }
    }
    if (internal === 0) continue;
    let always = actorsAt(members[0]);
    for (const u of members.slice(1)) {
      const here = actorsAt(u);
      always = new Set([...always].filter((a) => here.has(a)));
    }
    if (![...always].every((a) => stepped.has(a))) continue;
    for (const u of members) lap[u] = c;
  }
}

/**
 * A closed walk (as edge indices) from `entry` inside its fair component that
 * takes a step of every actor that steps inside it: the livelock's lap.
 */
export function lapFrom(s: Pick<Solved, "first" | "to" | "move" | "moves" | "lap">, entry: number): number[] {
  const c = s.lap[entry];
  if (c < 0) return [];
  const inside = (v: number) => s.lap[v] === c;
  const actors = new Set<string>();
  const seenNodes = new Set<number>([entry]);
  const stack = [entry];
  while (stack.length) {
    const u = stack.pop()!;
    for (let e = s.first[u]; e < s.first[u + 1]; e++) {
      if (!inside(s.to[e])) continue;
      actors.add(actorKey(s.moves[s.move[e]]));
      if (!seenNodes.has(s.to[e])) {
        seenNodes.add(s.to[e]);
        stack.push(s.to[e]);
      }
    }
  }
  // Breadth-first to the nearest edge that `want` accepts, inside the component.
  const bfs = (from: number, want: (e: number) => boolean): { path: number[]; end: number } => {
    const prev = new Map<number, { u: number; e: number }>();
    const q = [from];
    const seen = new Set([from]);
    for (let h = 0; h < q.length; h++) {
      const u = q[h];
      for (let e = s.first[u]; e < s.first[u + 1]; e++) {
        const v = s.to[e];
        if (!inside(v)) continue;
        if (want(e)) {
          const path = [e];
          for (let w = u; w !== from; w = prev.get(w)!.u) path.unshift(prev.get(w)!.e);
          return { path, end: v };
        }
        if (!seen.has(v)) {
          seen.add(v);
          prev.set(v, { u, e });
          q.push(v);
        }
      }
    }
    throw new Error("strongly connected component is not connected");
  };
  const walk: number[] = [];
  let at = entry;
  for (const a of actors) {
    const r = bfs(at, (e) => actorKey(s.moves[s.move[e]]) === a);
    walk.push(...r.path);
    at = r.end;
  }
  if (at !== entry) walk.push(...bfs(at, (e) => s.to[e] === entry).path);
  return walk;
}

/** Iterative Tarjan over the compressed rows: component index per node. */
function tarjan(n: number, g: Graph): number[] {
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const comp = new Array<number>(n).fill(-1);
  const stack: number[] = [];
  let counter = 0;
  let compCount = 0;
  for (let s = 0; s < n; s++) {
    if (index[s] >= 0) continue;
    const work: { u: number; e: number }[] = [{ u: s, e: g.first[s] }];
    index[s] = low[s] = counter++;
    stack.push(s);
    onStack[s] = true;
    while (work.length) {
      const top = work[work.length - 1];
      const { u } = top;
      if (top.e < g.first[u + 1]) {
        const v = g.to[top.e++];
        if (index[v] < 0) {
          index[v] = low[v] = counter++;
          stack.push(v);
          onStack[v] = true;
          work.push({ u: v, e: g.first[v] });
        } else if (onStack[v]) low[u] = Math.min(low[u], index[v]);
      } else {
        work.pop();
        if (work.length) low[work[work.length - 1].u] = Math.min(low[work[work.length - 1].u], low[u]);
        if (low[u] === index[u]) {
          for (;;) {
            const w = stack.pop()!;
            onStack[w] = false;
            comp[w] = compCount;
            if (w === u) break;
          }
          compCount++;
        }
      }
    }
  }
  return comp;
}
