// Memory over a long run at full load:
//   npm run bench:soak [-- --minutes 10 --clients 1000 --warmup 30 --storage sqlite|memory]
//
// The same server child and load generator as bench/load.ts (N clients in
// rooms of 4, 2 actions a second each, retry when an attempt ends), for
// `--minutes` after a warm-up long enough for every room to have finished and
// retried attempts (an attempt on r5-six-steps lasts about 10 s). The server's
// RSS is read from /proc every 10 s; growth is the mean RSS over the second
// half against the mean over the first (target < 10%): single readings saw up
// and down by tens of MiB as V8 grows its heap and hands pages back. Latency is summarised every
// minute, to show whether it drifts. Writes bench/soak-results.json.

import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mib, procRss, type Window } from "./load-common.js";
import { machine, investigation, runLoad, warnInvestigation, type RssSample } from "./load-run.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET_GROWTH = 0.1;

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main() {
  const minutes = Number(flag("minutes", "10"));
  const clients = Number(flag("clients", "1000"));
  const warmupS = Number(flag("warmup", "30"));
  const storage = flag("storage", "sqlite");
  const measureS = Math.round(minutes * 60);
  const intervalS = Math.min(60, measureS);
  const m = machine();
  warnInvestigation();
  console.log(`Soak: ${clients} clients for ${minutes} min (after ${warmupS} s of warm-up); ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}`);
  const windows: (Window & { serverRss: number })[] = [];
  const r = await runLoad("game", {
    clients,
    warmupS,
    measureS,
    intervalS,
    storage,
    sampleEveryS: 10,
    log: (s) => console.log(s),
    onWindow: (w, server) => {
      const rss = procRss(server.pid).rss;
      if (windows.length === 0) console.log(`${"minute".padStart(6)}  ${"actions/s".padStart(9)}  ${"p50 ms".padStart(7)}  ${"p99 ms".padStart(7)}  ${"max ms".padStart(7)}  ${"errors".padStart(6)}  ${"server RSS".padStart(11)}`);
      windows.push({ ...w, serverRss: rss });
      const errors = Object.values(w.errors).reduce((a, b) => a + b, 0);
      console.log(`${f1(w.t / 60).padStart(6)}  ${String(Math.round(w.actionsPerSecond)).padStart(9)}  ${f2(w.all.p50).padStart(7)}  ${f2(w.all.p99).padStart(7)}  ${f1(w.all.max).padStart(7)}  ${String(errors).padStart(6)}  ${`${f1(mib(rss))} MiB`.padStart(11)}`);
    },
  });
  const s = r.rssSamples;
  const first = s[0].server;
  const last = s[s.length - 1].server;
  const peak = Math.max(...s.map((x) => x.server));
  // RSS saws up and down by ~80 MiB as V8 grows the heap and hands it back (a cycle of about 90 s
  // at 1,000 clients), so single readings and one-minute means depend on the phase: compare the
  // means of the first and second halves (several cycles each in a 10-minute soak).
  const mean = (xs: RssSample[]) => xs.reduce((a, x) => a + x.server, 0) / xs.length;
  const mid = s[s.length - 1].t / 2;
  const head = mean(s.filter((x) => x.t < mid));
  const tail = mean(s.filter((x) => x.t >= mid));
  const growth = (tail - head) / head;
  const perMin = slope(s.map((x) => x.t / 60), s.map((x) => mib(x.server)));
  const errors = Object.values(r.window.errors).reduce((a, b) => a + b, 0);
  console.log("");
  console.log(`server: ${r.note}`);
  console.log(`measured ${f1(measureS / 60)} min after ${warmupS} s of warm-up: ${r.window.all.count} actions (${Math.round(r.window.actionsPerSecond)}/s), p50 ${f2(r.window.all.p50)} ms, p99 ${f2(r.window.all.p99)} ms, max ${f1(r.window.all.max)} ms, errors ${errors}, server CPU ${Math.round(r.serverCpu)}%`);
  console.log(`server RSS (every 10 s): mean ${f1(mib(head))} MiB over the first half, ${f1(mib(tail))} MiB over the second: growth ${f1(growth * 100)}% (target < ${TARGET_GROWTH * 100}%: ${growth < TARGET_GROWTH ? "met" : "MISSED"})`);
  console.log(`  first sample ${f1(mib(first))} MiB, last ${f1(mib(last))} MiB, peak ${f1(mib(peak))} MiB; least-squares trend ${f2(perMin)} MiB/min`);
  console.log(`server heap after a full GC: ${f1(mib(r.mem.seated.heapUsed))} MiB before play, ${f1(mib(r.mem.played.heapUsed))} MiB after the soak (RSS then ${f1(mib(r.mem.played.rss))} MiB)`);
  const out = join(root, "bench", "soak-results.json");
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: m,
        config: { clients, minutes, warmupS, storage, server: r.note, investigation: investigation() },
        target: { growth: TARGET_GROWTH },
        rss: { firstHalfMeanMiB: mib(head), secondHalfMeanMiB: mib(tail), growth, firstSampleMiB: mib(first), lastSampleMiB: mib(last), peakMiB: mib(peak), trendMiBPerMinute: perMin },
        heapAfterGcMiB: { beforePlay: mib(r.mem.seated.heapUsed), afterSoak: mib(r.mem.played.heapUsed) },
        overall: r.window,
        serverCpu: r.serverCpu,
        generatorCpu: r.generatorCpu,
        windows,
        samples: s.map((x) => ({ t: x.t, serverMiB: mib(x.server), generatorMiB: mib(x.generator) })),
      },
      null,
      2,
    ) + "\n",
  );
  warnInvestigation();
  console.log(`wrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
