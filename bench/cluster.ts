// Several nodes against one, in one run:
//   npm run bench:cluster [-- --clients 1000 --nodes 3 --seconds 20 --warmup 5 --synchronous-commit on,off]
//
// The same load as bench/load.ts (N WebSocket clients in rooms of 4, 2 actions a
// second each, from a separate generator process) twice:
//   1. one node with SQLite (the default server), and
//   2. N nodes (separate processes) on the machine's PostgreSQL and Redis, the
//      clients spread over them round-robin as a load balancer would: a room's
//      four members are on different nodes, so most of them are relayed to the
//      node that runs the room (docs/cluster.md).
// Measured for both: the step latency (sent -> every member of the room has the
// update; p50, p99, max) and the CPU per action: the servers' CPU over the
// window (all nodes; for the cluster also PostgreSQL's and Redis's processes)
// divided by the actions done in it. Everything shares the machine's cores with
// the generator. Writes bench/cluster-results.json.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { procCpuSeconds, type Window } from "./load-common.js";
import { forkClient, forkServer, machine, runLoad, type ServerChild } from "./load-run.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET_RATIO = 1.5;
const PG_URL = process.env.FAULTLINE_BENCH_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.FAULTLINE_BENCH_REDIS ?? "redis://127.0.0.1:6379";

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/** The PIDs of a service's processes (PostgreSQL's server and backends, Redis). */
function pidsOf(name: string): number[] {
  try {
    return execFileSync("pgrep", ["-x", name], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function cpuOf(pids: number[]): number {
  let s = 0;
  for (const p of pids) {
    try {
      s += procCpuSeconds(p);
    } catch {
      // A backend that ended during the window: its time is lost (counted low, not high).
    }
  }
  return s;
}

interface ClusterRun {
  clients: number;
  nodes: number;
  rooms: number;
  window: Window;
  unfinished: number;
  /** % of one core over the window. */
  synchronousCommit: string;
  nodesCpu: number;
  postgresCpu: number;
  redisCpu: number;
  generatorCpu: number;
  note: string;
}

async function runCluster(clients: number, n: number, warmupS: number, measureS: number, sync: string, log: (s: string) => void): Promise<ClusterRun> {
  const schema = `bench_${process.pid}_${Date.now()}`;
  const prefix = `faultline-bench-${process.pid}-${Date.now()}:`;
  const args = ["--postgres", PG_URL, "--schema", schema, "--redis", REDIS_URL, "--prefix", prefix, "--synchronous-commit", sync];
  const servers: ServerChild[] = [];
  // The first node migrates the schema; the others find it done.
  servers.push(forkServer("game", { storage: "cluster", args }));
  const first = await servers[0].next("listening", 60_000);
  for (let i = 1; i < n; i++) servers.push(forkServer("game", { storage: "cluster", args }));
  const urls = [first.url, ...(await Promise.all(servers.slice(1).map((s) => s.next("listening", 60_000)))).map((l) => l.url)];
  const client = forkClient(`cluster-${clients}`);
  try {
    client.send({ type: "connect", url: urls.join(","), clients });
    const c = await client.next("connected", 180_000);
    client.send({ type: "rooms" });
    const s = await client.next("seated", 180_000);
    log(`  cluster (synchronous_commit ${sync}): ${c.clients} clients over ${n} nodes connected in ${(c.ms / 1000).toFixed(1)} s, ${s.rooms} rooms seated in ${(s.ms / 1000).toFixed(1)} s; warming up ${warmupS} s, measuring ${measureS} s`);
    client.send({ type: "play", warmupS, measureS, intervalS: 0 });
    await client.next("measure-start", (warmupS + 60) * 1000);
    const pg = pidsOf("postgres");
    const redis = pidsOf("redis-server");
    const t0 = performance.now();
    const n0 = cpuOf(servers.map((x) => x.pid));
    const p0 = cpuOf(pg);
    const r0 = cpuOf(redis);
    const g0 = procCpuSeconds(client.pid);
    await client.next("measure-end", (measureS + 60) * 1000);
    const secs = (performance.now() - t0) / 1000;
    const pct = (a: number, b: number) => ((b - a) / secs) * 100;
    const res = {
      nodesCpu: pct(n0, cpuOf(servers.map((x) => x.pid))),
      postgresCpu: pct(p0, cpuOf(pg)),
      redisCpu: pct(r0, cpuOf(redis)),
      generatorCpu: pct(g0, procCpuSeconds(client.pid)),
    };
    const r = await client.next("result", 60_000);
    return { clients: c.clients, nodes: n, rooms: s.rooms, synchronousCommit: sync, window: r.window, unfinished: r.unfinished, ...res, note: first.note };
  } finally {
    await client.stop({ type: "quit" });
    await Promise.all(servers.map((x) => x.stop({ type: "stop" })));
    // The run's schema and keys go.
    const pgMod = await import("pg");
    const db = new pgMod.default.Client({ connectionString: PG_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.end();
    const rc = new Redis(REDIS_URL);
    const keys = await rc.keys(`${prefix}*`);
    if (keys.length) await rc.del(...keys);
    await rc.quit();
  }
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "-");

async function main() {
  const clients = Number(flag("clients", "1000"));
  const nodes = Number(flag("nodes", "3"));
  const warmupS = Number(flag("warmup", "5"));
  const measureS = Number(flag("seconds", "20"));
  const m = machine();
  const log = (s: string) => console.log(s);
  console.log(`Cluster vs one node: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}; ${clients} clients, rooms of 4, 2 actions/s each`);
  const syncs = flag("synchronous-commit", "on,off").split(",");
  // --cluster-only: skip the single node (investigation; the results file is then not written).
  const clusterOnly = process.argv.includes("--cluster-only");
  if (clusterOnly) {
    for (const sync of syncs) console.log(JSON.stringify((await runCluster(clients, nodes, warmupS, measureS, sync, log)).window.all));
    return;
  }
  const single = await runLoad("game", { clients, warmupS, measureS, intervalS: 0, storage: "sqlite", log });
  const clusters: ClusterRun[] = [];
  for (const sync of syncs) clusters.push(await runCluster(clients, nodes, warmupS, measureS, sync, log));
  const actions = (w: Window) => w.actionsPerSecond;
  const errors = (w: Window) => Object.values(w.errors).reduce((a, b) => a + b, 0);
  const singleCpuPerAction = single.serverCpu / 100 / actions(single.window);
  console.log("");
  console.log(`one node, SQLite: ${Math.round(actions(single.window))} actions/s; step p50 ${f2(single.window.all.p50)} ms, p99 ${f2(single.window.all.p99)} ms, max ${f2(single.window.all.max)} ms; ack p99 ${f2(single.window.ack.p99)} ms; server ${Math.round(single.serverCpu)}% of a core = ${f2(singleCpuPerAction * 1e6)} µs CPU/action; errors ${errors(single.window) + single.unfinished}`);
  const results = clusters.map((cluster) => {
    const clusterCpuPerAction = (cluster.nodesCpu + cluster.postgresCpu + cluster.redisCpu) / 100 / actions(cluster.window);
    const nodesCpuPerAction = cluster.nodesCpu / 100 / actions(cluster.window);
    const ratio = cluster.window.all.p99 / single.window.all.p99;
    console.log(`${nodes} nodes, PostgreSQL (synchronous_commit ${cluster.synchronousCommit}) + Redis: ${Math.round(actions(cluster.window))} actions/s; step p50 ${f2(cluster.window.all.p50)} ms, p99 ${f2(cluster.window.all.p99)} ms, max ${f2(cluster.window.all.max)} ms; ack p99 ${f2(cluster.window.ack.p99)} ms; nodes ${Math.round(cluster.nodesCpu)}% + PostgreSQL ${Math.round(cluster.postgresCpu)}% + Redis ${Math.round(cluster.redisCpu)}% of a core = ${f2(clusterCpuPerAction * 1e6)} µs CPU/action (nodes alone ${f2(nodesCpuPerAction * 1e6)}); errors ${errors(cluster.window) + cluster.unfinished}`);
    console.log(`  p99 ratio (cluster / one node): ${f2(ratio)}x (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? "met" : "MISSED"})`);
    return {
      synchronousCommit: cluster.synchronousCommit,
      p99Ratio: ratio,
      p50Ms: cluster.window.all.p50, p99Ms: cluster.window.all.p99, maxMs: cluster.window.all.max, ackP99Ms: cluster.window.ack.p99, actionsPerSecond: actions(cluster.window),
      nodesCpuPct: cluster.nodesCpu, postgresCpuPct: cluster.postgresCpu, redisCpuPct: cluster.redisCpu, generatorCpuPct: cluster.generatorCpu,
      cpuUsPerAction: clusterCpuPerAction * 1e6, nodesCpuUsPerAction: nodesCpuPerAction * 1e6, errors: errors(cluster.window) + cluster.unfinished,
    };
  });
  const out = join(root, "bench", "cluster-results.json");
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: m,
        loadAverageAtEnd: (await import("node:os")).loadavg(),
        config: { clients, nodes, warmupS, measureS, single: single.note, cluster: clusters[0]?.note },
        target: { p99Ratio: TARGET_RATIO },
        result: {
          single: { p50Ms: single.window.all.p50, p99Ms: single.window.all.p99, maxMs: single.window.all.max, ackP99Ms: single.window.ack.p99, actionsPerSecond: actions(single.window), serverCpuPct: single.serverCpu, generatorCpuPct: single.generatorCpu, cpuUsPerAction: singleCpuPerAction * 1e6, errors: errors(single.window) + single.unfinished },
          clusters: results,
        },
        runs: { single, clusters },
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`\nwrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
