// Key presses to win each hunt at par: the fewest presses of the game's own
// keys (a digit selects a CPU, Enter runs it to its next decision, Space steps
// one line, d steps the DMA device, a menu pick is Enter or Space and a digit)
// over every schedule whose preemptions equal the level's par. Exact: a
// shortest-path search over (machine, selected CPU, last actor, preemptions).
// Run: npm run bench:decisions   (writes bench/decisions.json)

import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { compileLevel } from "../src/level/compile.js";
import { loadCampaign } from "../src/level/load.js";
import { runToDecision } from "../src/sim/decide.js";
import { advance, cpuStatus, dmaReady } from "../src/sim/engine.js";
import { checkOracles } from "../src/sim/oracles.js";
import { fewestPreemptions, preempts } from "../src/sim/preempt.js";
import { solve } from "../src/sim/solve.js";
import { hashMachine } from "../src/sim/state.js";
import type { Action, Machine } from "../src/sim/types.js";
import type { Config } from "../src/sim/config.js";

interface Node {
  m: Machine;
  sel: number;
  last: Action | null;
  pre: number;
  presses: number;
  keys: string[];
}

/** The fewest presses that fire the goal with at most `par` preemptions (null if none within `limit` presses). */
function fewestPresses(cfg: Config, m0: Machine, goal: Parameters<typeof checkOracles>[2], par: number, limit = 40): Node | null {
  const buckets: Node[][] = [[{ m: m0, sel: 0, last: null, pre: 0, presses: 0, keys: [] }]];
  const best = new Map<string, number>();
  for (let cost = 0; cost <= limit; cost++) {
    for (const n of buckets[cost] ?? []) {
      const key = `${hashMachine(n.m)}|${n.sel}|${n.last ? ("dma" in n.last ? "d" : n.last.cpu) : "-"}|${n.pre}`;
      if ((best.get(key) ?? Infinity) <= cost) continue;
      best.set(key, cost);
      for (const { steps, presses, keys, sel } of moves(cfg, n)) {
        let m = n.m;
        let pre = n.pre + (preempts(cfg, m, n.last, steps[0]) ? 1 : 0);
        if (pre > par) continue;
        let won = false;
        for (const a of steps) {
          m = advance(cfg, m, a);
          if (checkOracles(cfg, m, goal)) {
            won = true;
            break;
          }
        }
        const next: Node = { m, sel, last: steps[steps.length - 1], pre, presses: cost + presses, keys: [...n.keys, ...keys] };
        if (won) return next;
        (buckets[next.presses] ??= []).push(next);
      }
    }
  }
  return null;
}

/** What one turn of keys can do from a node: select (if needed) and run, step, or pick from a menu. */
function moves(cfg: Config, n: Node): { steps: Action[]; presses: number; keys: string[]; sel: number }[] {
  const out: { steps: Action[]; presses: number; keys: string[]; sel: number }[] = [];
  for (let cpu = 0; cpu < n.m.cpus.length; cpu++) {
    const st = cpuStatus(cfg, n.m, cpu);
    if (st.state === "done" || st.state === "unborn" || st.state === "blocked") continue;
    const select = cpu === n.sel ? [] : [String(cpu)];
    if (st.state === "menu") {
      for (const [i, choice] of st.choices.entries()) {
        const first: Action = { cpu, choice };
        const after = advance(cfg, n.m, first);
        const rest = cpuStatus(cfg, after, cpu).state === "ready" ? runToDecision(cfg, after, cpu) : [];
        out.push({ steps: [first, ...rest], presses: select.length + 2, keys: [...select, "Enter", String(i + 1)], sel: cpu });
        out.push({ steps: [first], presses: select.length + 2, keys: [...select, "Space", String(i + 1)], sel: cpu });
      }
      continue;
    }
    out.push({ steps: runToDecision(cfg, n.m, cpu), presses: select.length + 1, keys: [...select, "Enter"], sel: cpu });
    out.push({ steps: [{ cpu }], presses: select.length + 1, keys: [...select, "Space"], sel: cpu });
  }
  if (dmaReady(cfg, n.m)) out.push({ steps: [{ dma: true }], presses: 1, keys: ["d"], sel: n.sel });
  return out;
}

const rows: { level: string; par: number; lines: number; presses: number | null; keys: string; ms: number }[] = [];
for (const level of loadCampaign()) {
  if (level.mode === "defend") continue;
  const c = compileLevel(level, {});
  const par = fewestPreemptions(solve(c.cfg, c.machine, { oracles: c.oracles }), c.cfg.cpus.length);
  if (!par) throw new Error(`${level.id}: the race is not reachable`);
  const t = performance.now();
  const won = fewestPresses(c.cfg, c.machine, c.oracles, par.preemptions);
  rows.push({ level: level.id, par: par.preemptions, lines: par.schedule.length, presses: won?.presses ?? null, keys: won?.keys.join(" ") ?? "-", ms: Math.round(performance.now() - t) });
}

const sorted = rows.map((r) => r.presses ?? Infinity).sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const w = Math.max(...rows.map((r) => r.level.length));
console.log(`${"level".padEnd(w)}  par  lines  presses  keys`);
for (const r of rows) console.log(`${r.level.padEnd(w)}  ${String(r.par).padStart(3)}  ${String(r.lines).padStart(5)}  ${String(r.presses ?? "-").padStart(7)}  ${r.keys}`);
console.log(`\nmedian ${median} presses, max ${Math.max(...sorted)} (${rows.length} hunts and versus levels)`);
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);
writeFileSync(join(import.meta.dirname, "..", "..", "bench", "decisions.json"), JSON.stringify({ date: new Date().toISOString(), machine, rows, median, max: Math.max(...sorted) }, null, 2) + "\n");
