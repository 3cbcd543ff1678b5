// The Ink client: render time per frame of the game screen at 120×40, and the
// time from starting the game (no arguments: solo, with its embedded server)
// to the lobby's campaign list, in a real pseudo-terminal.
// Run: npm run bench:client   (writes bench/client-results.json)
//
// Frame time: the App is mounted once on a 120×40 virtual stdout, and the
// store is updated with the server's next state, alternating between two
// real states of a level; each update renders synchronously (Ink's debug mode:
// no frame throttle), so the time around the update is React + Yoga layout +
// Ink's output for one frame.

import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClientState } from "../src/client/model/store.js";
import type { Command, Session } from "../src/game/session.js";
import type { Level } from "../src/level/load.js";
import type { GameEvent, GameView, RoomInfo } from "../src/protocol/server.js";

// As the faultline binary does (src/cli/play.ts): React's production build, chosen before React loads.
process.env.NODE_ENV ??= "production";
const { render } = await import("ink");
const { createElement } = await import("react");
const { App } = await import("../src/client/App.js");
const { initialState, reduce } = await import("../src/client/model/store.js");
const { ClientStore } = await import("../src/client/client-store.js");
const { applyCommand, newSession } = await import("../src/game/session.js");
const { gameView, levelInfo } = await import("../src/game/view.js");
const { loadCampaign } = await import("../src/level/load.js");
const { installFrameCache, resetFrameCache } = await import("../src/client/frame-cache.js");
// As runClient() does before its first frame.
const frameCache = await installFrameCache();

const FRAMES = Number(process.env.BENCH_FRAMES ?? 400);
const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const COLS = 120;
const ROWS = 40;

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, "package.json"))) d = dirname(d);
  return d;
}
const ROOT = repoRoot();

// ------------------------------------------------------------------ frames

class VirtualStdout extends EventEmitter {
  columns = COLS;
  rows = ROWS;
  isTTY = true;
  bytes = 0;
  /** Called at each write (the end of a frame). */
  onWrite: (() => void) | null = null;
  write = (s: string) => {
    this.bytes += s.length;
    this.onWrite?.();
    return true;
  };
}
class VirtualStdin extends EventEmitter {
  isTTY = true;
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => null;
}

const ME = "bench";

function room(l: Level): RoomInfo {
  return {
    code: "BENCH1",
    level: levelInfo(l),
    policy: "manual",
    versus: false,
    paused: false,
    workshop: null,
    team: null,
    members: [{ id: ME, name: "bench", connected: true, seats: [0] }],
    seats: l.cpus.map((c, cpu) => ({ cpu, name: c.name, holder: cpu === 0 ? ME : null, side: null, bot: cpu === 0 ? null : "manual" })),
    dma: l.device === undefined ? null : "players",
    solver: { state: "ready", text: "solved" },
  };
}

/** The sessions along a run of the level's first CPUs, round robin, skipping refused steps. */
function sessions(l: Level, n: number): Session[] {
  let s = newSession(l);
  const out = [s];
  for (let i = 0; out.length <= n && i < n * 4; i++) {
    const cmd: Command = { kind: "step", actor: i % l.cpus.length };
    try {
      s = applyCommand(l, s, cmd, i * 1000, ME).s;
      if (s.phase === "over") break;
      out.push(s);
    } catch {
      // Not runnable now (unborn, finished): try the next CPU.
    }
  }
  return out;
}

/**
 * Frames along a game: the states after steps 0..n of the level, in order, each
 * rendered once as the server's next update; the walk repeats until FRAMES frames
 * have been timed. With the shared line cache (`cache`), it is emptied at the
 * start of each walk, so the first frame of a walk is cold and each later one
 * finds only the lines of the frames before it, as in play.
 */
async function frameBench(l: Level, steps: number, cache: boolean) {
  const ss = sessions(l, steps);
  const views: GameView[] = ss.map((s) => gameView(l, s, "BENCH1-1", null));
  const a = ss[0];
  let st: ClientState = reduce(initialState("ws://bench/"), { kind: "open" });
  st = reduce(st, { kind: "message", msg: { type: "welcome", protocol: 1, player: { id: ME, name: "bench" }, resumed: false, levels: loadCampaign().map(levelInfo), limits: { maxPayload: 4096, messagesPerSecond: 20, graceMs: 1 } } });
  st = reduce(st, { kind: "message", msg: { type: "joined", you: { member: ME, token: "x".repeat(32) }, state: { seq: 1, room: room(l), game: views[0], trace: a.trace, intro: l.intro } } });
  const store = new ClientStore("ws://bench/", { ...st });
  const stdout = new VirtualStdout();
  resetFrameCache(cache);
  const app = render(
    createElement(App, {
      store,
      progress: {},
      size: { cols: COLS, rows: ROWS },
      actions: { send: () => true, rename: () => {}, left: () => {}, flash: () => {}, quit: () => {} },
    }),
    { stdout: stdout as unknown as NodeJS.WriteStream, stdin: new VirtualStdin() as unknown as NodeJS.ReadStream, debug: true, exitOnCtrlC: false, patchConsole: false },
  );
  const times: number[] = [];
  /** CPU time of this process per frame: steadier than wall time when other work shares the machine. */
  const cpu: number[] = [];
  /** Frames of the last state of the walk, the densest screen. */
  const last: number[] = [];
  const WARM = 50;
  for (let i = 0; i < FRAMES + WARM; i++) {
    const k = i % views.length;
    if (k === 0) resetFrameCache(cache);
    const game = views[k];
    // React flushes the store's update in a microtask: the frame ends at Ink's write.
    const written = new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("the update did not render a frame")), 5000);
      stdout.onWrite = () => {
        clearTimeout(t);
        stdout.onWrite = null;
        resolve(performance.now());
      };
    });
    // The server's message for this state, through the client's reducer as the connection delivers it:
    // a step (the event log and timeline grow), or a rewind to the start when the walk begins again.
    const event: GameEvent = k === 0 ? { kind: "rewind", by: ME, steps: views.length - 1, to: 0 } : { kind: "step", by: ME, entry: ss[k].trace[k - 1] };
    // A fresh object each time, as a new server message would be (parsed before the frame starts).
    const msg = { type: "update" as const, seq: store.get().seq + 1, event, game: structuredClone(game) };
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    store.dispatch({ kind: "message", msg });
    const dt = (await written) - t0;
    const c = process.cpuUsage(c0);
    if (i >= WARM) {
      // the first frames warm up the JIT
      times.push(dt);
      cpu.push((c.user + c.system) / 1000);
      if (k === views.length - 1) last.push(dt);
    }
  }
  app.unmount();
  resetFrameCache(true);
  times.sort((x, y) => x - y);
  cpu.sort((x, y) => x - y);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    level: l.id,
    cache,
    steps: views.length - 1,
    frames: times.length,
    meanMs: Number(mean(times).toFixed(3)),
    medianMs: Number(times[Math.floor(times.length / 2)].toFixed(3)),
    p95Ms: Number(times[Math.floor(times.length * 0.95)].toFixed(3)),
    maxMs: Number(times[times.length - 1].toFixed(3)),
    cpuMedianMs: Number(cpu[Math.floor(cpu.length / 2)].toFixed(3)),
    lastStateMeanMs: Number(mean(last).toFixed(3)),
  };
}

// ------------------------------------------------------------------ start to lobby

const BRIDGE = join(ROOT, "test", "client", "pty-bridge.py");

/** Spawn `cmd` in a 120×40 pty; resolve with ms until the lobby's first level is on screen, then quit it with q, y. */
function timeToLobby(cmd: string, args: string[], home: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (k !== "CI" && !k.startsWith("CI_") && k !== "CONTINUOUS_INTEGRATION") env[k] = v;
    Object.assign(env, { TERM: "xterm-256color", FAULTLINE_HOME: home, FAULTLINE_DB: join(home, "faultline.db") });
    const t0 = performance.now();
    const child = spawn("python3", [BRIDGE, String(COLS), String(ROWS), "--", cmd, ...args], { env, cwd: ROOT, stdio: "pipe" });
    let out = "";
    let at: number | null = null;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no lobby after 20 s:\n${out.slice(-2000)}`));
    }, 20_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      if (at === null && out.includes("1. Two CPUs, one counter")) {
        at = performance.now() - t0;
        child.stdin.write("q");
        setTimeout(() => child.stdin.write("y"), 100);
      }
    });
    child.on("close", () => {
      clearTimeout(timer);
      if (at === null) reject(new Error(`exited before the lobby:\n${out.slice(-2000)}`));
      else resolve(at);
    });
  });
}

/** The bridge's own cost: Python starting, forking a pty, and running `true`. */
function bridgeBaseline(): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn("python3", [BRIDGE, "80", "24", "--", "true"], { stdio: "pipe" });
    child.on("close", () => resolve(performance.now() - t0));
  });
}

async function startBench(label: string, cmd: string, args: string[]) {
  const home = mkdtempSync(join(tmpdir(), "faultline-bench-"));
  await timeToLobby(cmd, args, home); // warm the disk cache and create the database
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) times.push(await timeToLobby(cmd, args, home));
  times.sort((a, b) => a - b);
  return { what: label, runs: times.length, medianMs: Math.round(times[Math.floor(times.length / 2)]), minMs: Math.round(times[0]), maxMs: Math.round(times[times.length - 1]) };
}

// ------------------------------------------------------------------ main

const campaign = loadCampaign();
const pick = (id: string) => campaign.find((l) => l.id === id) ?? campaign[0];
const walks: [string, number][] = [["basics-lost-update", 2], ["r5-six-steps", 12], ["r3-cow-page-tables", 20]];
/** Ink alone, then with the shared line cache the client installs. */
const inkAlone: Awaited<ReturnType<typeof frameBench>>[] = [];
for (const [id, n] of walks) inkAlone.push(await frameBench(pick(id), n, false));
const frames: typeof inkAlone = [];
for (const [id, n] of walks) frames.push(await frameBench(pick(id), n, frameCache));

const bin = join(ROOT, "dist", "src", "cli", "main.js");
const starts = [await startBench("node dist/src/cli/main.js", process.execPath, [bin]), await startBench("npm start", "npm", ["start", "--silent"])];
const baselines: number[] = [];
for (let i = 0; i < 3; i++) baselines.push(await bridgeBaseline());
const bridgeMs = Math.round(baselines.sort((a, b) => a - b)[1]);

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
/** The worse of a walk's mean frame and its densest state's mean frame, over the walks. */
const worstFrame = Math.max(...frames.map((f) => Math.max(f.meanMs, f.lastStateMeanMs)));
const nodeStart = starts[0].medianMs;
const results = {
  machine,
  frameTargetMs: 5,
  startTargetMs: 1500,
  frameCacheInstalled: frameCache,
  frames,
  inkAlone,
  starts,
  ptyBridgeMs: bridgeMs,
  summary: { worstMeanFrameMs: worstFrame, frameOk: worstFrame <= 5, startToLobbyMs: nodeStart, startOk: nodeStart <= 1500 },
};
writeFileSync(join(ROOT, "bench", "client-results.json"), JSON.stringify(results, null, 2) + "\n");

const out = (s: string) => process.stdout.write(s + "\n");
out(`Ink client (${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, Node ${machine.node})`);
const row = (f: (typeof frames)[number]) =>
  `  ${f.level.padEnd(22)} steps 0-${String(f.steps).padEnd(3)} mean ${f.meanMs.toFixed(2)} ms  median ${f.medianMs.toFixed(2)}  p95 ${f.p95Ms.toFixed(2)}  max ${f.maxMs.toFixed(2)}  last state ${f.lastStateMeanMs.toFixed(2)}  cpu median ${f.cpuMedianMs.toFixed(2)}  (${f.frames} frames)`;
out(`\nGame screen at ${COLS}×${ROWS}, one frame per server update, walking the game's states (target 5 ms):`);
out(`Ink alone:`);
for (const f of inkAlone) out(row(f));
out(`As the client renders (Ink's line caches kept across frames: ${frameCache ? "installed" : "NOT installed, Ink changed"}):`);
for (const f of frames) out(row(f));
out(`\nStart to the lobby in a ${COLS}×${ROWS} pty (target 1.5 s; includes ~${bridgeMs} ms for the pty bridge's Python):`);
for (const s of starts) out(`  ${s.what.padEnd(28)} median ${s.medianMs} ms  (min ${s.minMs}, max ${s.maxMs}, ${s.runs} runs)`);
out(`\n${results.summary.frameOk ? "ok  " : "SLOW"} frame: ${worstFrame.toFixed(2)} ms (worst mean)   ${results.summary.startOk ? "ok  " : "SLOW"} start: ${nodeStart} ms`);
