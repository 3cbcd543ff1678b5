// Exhaustive, breadth-first exploration of every interleaving and menu choice.
//
// Reductions, each exact:
// - States are deduplicated by their full canonical serialisation (no lossy
//   digest), so two schedules merge only when they reach the identical machine.
// - A CPU whose recorded wait still holds is not stepped: that step is a
//   self-loop (it changes nothing), so dropping it loses no reachable state.
// - A state where an oracle fired is terminal: the run ends there.
// Breadth-first order means the first violating state found is at minimal
// depth, so its schedule is a shortest one (this is a level's par).

import type { Config } from "./config.js";
import { advance, enabledActions } from "./engine.js";
import { checkOracles, type OracleId, type Violation } from "./oracles.js";
import { StateSet } from "./stateset.js";
import type { Action, Machine } from "./types.js";

export interface ExploreOptions {
  /** The goal: a violation of any of these makes the verdict "reachable". */
  oracles: readonly OracleId[];
  /** Oracles that end a run without meeting the goal (default: deadlock, unless it is the goal). */
  stopOn?: readonly OracleId[];
  /** Give up after this many states (verdict "incomplete"). */
  maxStates?: number;
  /** Called every 10,000 states. */
  onProgress?: (states: number) => void;
}

export interface ExploreResult {
  verdict: "reachable" | "safe" | "incomplete";
  /** Distinct states visited. */
  states: number;
  transitions: number;
  /** The shortest violating schedule (reachable), else null. */
  schedule: Action[] | null;
  /** For a livelock: the part of `schedule` that repeats forever. */
  cycle?: Action[];
  violation: (Violation & { step: number }) | null;
}

const DEFAULT_MAX = 5_000_000;

export function explore(cfg: Config, m0: Machine, opts: ExploreOptions): ExploreResult {
  const goal = opts.oracles.filter((o) => o !== "livelock");
  const wantLivelock = opts.oracles.includes("livelock");
  const stopOn = (opts.stopOn ?? ["deadlock"]).filter((o) => !opts.oracles.includes(o));
  const max = opts.maxStates ?? DEFAULT_MAX;

  const ids = new StateSet();
  const parent: number[] = [-1];
  const via: (Action | null)[] = [null];
  // Kept only when a livelock is sought: the graph and who may step where.
  const edges: { from: number; to: number; actor: string }[] = [];
  const enabledAt: string[][] = [];
  // Whether some CPU with finite work is still unfinished (looping CPUs alone cannot livelock).
  const starving: boolean[] = [];

  const pathTo = (id: number): Action[] => {
    const out: Action[] = [];
    for (let i = id; parent[i] >= 0; i = parent[i]) out.push(via[i]!);
    return out.reverse();
  };

  ids.add(m0);
  const v0 = checkOracles(cfg, m0, goal);
  if (v0) return { verdict: "reachable", states: 1, transitions: 0, schedule: [], violation: { ...v0, step: 0 } };

  let frontier: { m: Machine; id: number }[] = [{ m: m0, id: 0 }];
  let transitions = 0;
  let depth = 0;
  while (frontier.length > 0) {
    depth++;
    const next: { m: Machine; id: number }[] = [];
    for (const { m, id } of frontier) {
      const actions = enabledActions(cfg, m);
      if (wantLivelock) {
        enabledAt[id] = actions.map(actorOf);
        starving[id] = m.cpus.some((c, i) => !c.done && !cfg.cpus[i].loop);
      }
      for (const a of actions) {
        const m2 = advance(cfg, m, a);
        transitions++;
        const { id: nid, fresh } = ids.add(m2);
        if (!fresh) {
          if (wantLivelock) edges.push({ from: id, to: nid, actor: actorOf(a) });
          continue;
        }
        parent.push(id);
        via.push(a);
        if (wantLivelock) edges.push({ from: id, to: nid, actor: actorOf(a) });
        if (nid % 10_000 === 0) opts.onProgress?.(nid);
        const v = checkOracles(cfg, m2, goal);
        if (v) return { verdict: "reachable", states: ids.size, transitions, schedule: pathTo(nid), violation: { ...v, step: depth } };
        if (checkOracles(cfg, m2, stopOn)) continue;
        if (ids.size >= max) return { verdict: "incomplete", states: ids.size, transitions, schedule: null, violation: null };
        next.push({ m: m2, id: nid });
      }
    }
    frontier = next;
  }

  if (wantLivelock) {
    const found = fairCycle(ids.size, edges, enabledAt);
    if (found) {
      const prefix = pathTo(found.entry);
      return {
        verdict: "reachable",
        states: ids.size,
        transitions,
        schedule: [...prefix, ...found.cycle],
        cycle: found.cycle,
        violation: {
          oracle: "livelock",
          message: `livelock: after step ${prefix.length} the machine can cycle forever (${found.cycle.length} steps a lap, every runnable CPU stepped) and never finish`,
          step: prefix.length + found.cycle.length,
        },
      };
    }
  }
  return { verdict: "safe", states: ids.size, transitions, schedule: null, violation: null };

  function actorOf(a: Action): string {
    return "dma" in a ? "dma" : String(a.cpu);
  }

  // A fair non-progress cycle: a strongly connected component in which every
  // actor enabled in all of its states takes some step inside it (weak
  // fairness). Such a component holds a cycle that starves no runnable CPU.
  function fairCycle(
    n: number,
    es: { from: number; to: number; actor: string }[],
    enabled: string[][],
  ): { entry: number; cycle: Action[] } | null {
    const adj: { to: number; actor: string }[][] = Array.from({ length: n }, () => []);
    for (const e of es) adj[e.from].push({ to: e.to, actor: e.actor });
    const comp = tarjan(n, adj);
    const groups = new Map<number, number[]>();
    comp.forEach((c, i) => groups.set(c, [...(groups.get(c) ?? []), i]));
    for (const members of groups.values()) {
      const inside = new Set(members);
      const internal = members.flatMap((u) => adj[u].filter((e) => inside.has(e.to)).map((e) => ({ from: u, ...e })));
      if (internal.length === 0 || !members.some((u) => starving[u])) continue;
      const stepped = new Set(internal.map((e) => e.actor));
      const always = (enabled[members[0]] ?? []).filter((a) => members.every((u) => (enabled[u] ?? []).includes(a)));
      if (!always.every((a) => stepped.has(a))) continue;
      const entry = Math.min(...members);
      return { entry, cycle: lapThrough(entry, inside, adj, stepped) };
    }
    return null;
  }

  /** A closed walk from entry that uses an internal edge of every stepping actor. */
  function lapThrough(entry: number, inside: Set<number>, adj: { to: number; actor: string }[][], actors: Set<string>): Action[] {
    const walk: Action[] = [];
    let at = entry;
    const toAction = (actor: string): Action => (actor === "dma" ? { dma: true } : { cpu: Number(actor) });
    const bfs = (from: number, done: (u: number, actor: string) => boolean) => {
      const prev = new Map<number, { u: number; actor: string }>();
      const q = [from];
      const seen = new Set([from]);
      while (q.length) {
        const u = q.shift()!;
        for (const e of adj[u]) {
          if (!inside.has(e.to)) continue;
          if (done(u, e.actor)) {
            const path: string[] = [e.actor];
            for (let w = u; w !== from; w = prev.get(w)!.u) path.unshift(prev.get(w)!.actor);
            return { path, end: e.to };
          }
          if (!seen.has(e.to)) {
            seen.add(e.to);
            prev.set(e.to, { u, actor: e.actor });
            q.push(e.to);
          }
        }
      }
      throw new Error("strongly connected component is not connected");
    };
    for (const a of actors) {
      const r = bfs(at, (_u, actor) => actor === a);
      walk.push(...r.path.map(toAction));
      at = r.end;
    }
    return walk.concat(backTo(at, entry, inside, adj).map(toAction));
  }

  function backTo(from: number, to: number, inside: Set<number>, adj: { to: number; actor: string }[][]): string[] {
    if (from === to) return [];
    const prev = new Map<number, { u: number; actor: string }>();
    const q = [from];
    const seen = new Set([from]);
    while (q.length) {
      const u = q.shift()!;
      for (const e of adj[u]) {
        if (!inside.has(e.to) || seen.has(e.to)) continue;
        seen.add(e.to);
        prev.set(e.to, { u, actor: e.actor });
        if (e.to === to) {
          const path: string[] = [];
          for (let w = to; w !== from; w = prev.get(w)!.u) path.unshift(prev.get(w)!.actor);
          return path;
        }
        q.push(e.to);
      }
    }
    throw new Error("strongly connected component is not connected");
  }
}

/** Iterative Tarjan: component index per node. */
function tarjan(n: number, adj: { to: number }[][]): number[] {
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const comp = new Array<number>(n).fill(-1);
  const stack: number[] = [];
  let counter = 0;
  let compCount = 0;
  for (let s = 0; s < n; s++) {
    if (index[s] >= 0) continue;
    const work: { u: number; i: number }[] = [{ u: s, i: 0 }];
    index[s] = low[s] = counter++;
    stack.push(s);
    onStack[s] = true;
    while (work.length) {
      const top = work[work.length - 1];
      const { u } = top;
      if (top.i < adj[u].length) {
        const v = adj[u][top.i++].to;
        if (index[v] < 0) {
          index[v] = low[v] = counter++;
          stack.push(v);
          onStack[v] = true;
          work.push({ u: v, i: 0 });
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
