// A solver thread: compiles a level setting and solves it (src/sim/solve.ts),
// off the server's thread. It answers with the solved game's flat arrays,
// transferred rather than copied, and reports progress every 10,000 states.

import { constants, setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { compileLevel } from "../../src/level/compile.js";
import { reachTables } from "../../src/game/solved.js";
import { fewestPreemptions } from "../../src/sim/preempt.js";
import { solve } from "../../src/sim/solve.js";
import type { SolveJob, SolverReply } from "./pool.js";

const port = parentPort;
if (!port) throw new Error("server/solver/worker.js runs as a worker thread");

// On Linux a nice value is per thread: solving yields the cores to the rooms' own thread.
try {
  setPriority(constants.priority.PRIORITY_LOW);
} catch {
  // Not allowed here (or not Linux): solve at the normal priority.
}

port.on("message", (job: SolveJob) => {
  const reply = (r: SolverReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);
  try {
    const c = compileLevel(job.level, job.knobs);
    const s = solve(c.cfg, c.machine, { oracles: c.oracles, maxStates: job.maxStates, label: job.explain, onProgress: (states) => reply({ id: job.id, progress: states }) });
    const par = job.level.mode === "defend" || s.cycle ? null : (fewestPreemptions(s, c.cfg.cpus.length)?.preemptions ?? null);
    // The sandbox's explorer: per oracle, the fewest preemptions from every position, built here once.
    const reach = job.explain && s.verdict !== "incomplete" ? reachTables(s, c.cfg.cpus.length, c.oracles) : null;
    const arrays = [s.first, s.to, s.move, s.took, s.kind, s.dist, s.lap, ...(s.fired ? [s.fired] : []), ...(reach ?? []).map((t) => t.table)];
    reply({ id: job.id, solved: s, par, reach }, arrays.map((a) => a.buffer as ArrayBuffer));
  } catch (e) {
    reply({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
});
