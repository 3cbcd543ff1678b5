// The load generator (forked by bench/load.ts and bench/soak.ts; a process of
// its own, so the server it measures does not run the clients). It opens N real
// WebSocket clients on loopback, puts them in rooms of 4 on r5-six-steps, and
// has every room take 2 actions a second per member (8 a second a room).
//
// r5-six-steps has three CPUs and a DMA device (manual: players step it), and
// no level has four CPUs, so in each room members 0-2 hold CPUs 0-2 and member
// 3 watches (a spectator may not act). The room's 8 actions a second are
// spread over its three players: each tick (every 125 ms, at a random phase
// per room) steps the next runnable actor round-robin (CPU0, CPU1, CPU2, DMA),
// sent by the member who holds it (the DMA by any player), with the room's
// current seq. A CPU at a menu is given one of its choices in turn. When the
// attempt ends (about every 80 actions: every CPU finishes), the tick sends
// `retry`, a new attempt; it counts as an action like a step.
//
// Latency is measured from the moment a step is sent to the moment every one
// of the room's 4 members has received the `update` with the new seq (or a
// `state` snapshot at least that new). If a room's previous action has not
// completed when its next tick comes, the action is sent as soon as it has,
// and its latency counts from the tick instead (no coordinated omission).
// Every client is in this one process: the generator's own event-loop delay
// is part of what it measures and is reported next to it.

import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { WebSocket } from "ws";
import { LOAD_LEVEL, LOOP_RESOLUTION_MS, readInt, request, ROOM_SIZE, STEPS_PER_MEMBER_PER_SECOND, Samples, UPDATE_PREFIX, WELCOME, type FromClient, type PlayConfig, type ToClient, type Window } from "./load-common.js";

interface CpuLite {
  cpu: number;
  state: string;
  choices?: string[];
}
interface GameLite {
  phase: string;
  steps?: number;
  cpus: CpuLite[];
  dma: { ready: boolean; done: boolean } | null;
}
interface Msg {
  type: string;
  rid?: number;
  seq?: number;
  code?: string;
  message?: string;
  state?: { seq: number; room: { code: string }; game: GameLite };
  game?: GameLite;
}

interface Member {
  ws: WebSocket;
  slot: number;
  room: Room | null;
  rid: number;
  waiters: Map<number, (m: Msg) => void>;
}

interface Room {
  code: string;
  members: Member[];
  /** The latest seq any member heard. */
  seq: number;
  game: GameLite;
  inflight: boolean;
  sentSeq: number;
  tSched: number;
  tSend: number;
  /** Sent after its tick because the previous action was still in flight: its latency counts from the tick. */
  heldBack: boolean;
  /** Members (bitmask by slot) that have the new state. */
  got: number;
  /** A tick that came while an action was in flight: send when it completes. */
  owed: number | null;
  rr: number;
  choices: number;
}

const ALL = (1 << ROOM_SIZE) - 1;
/** The member who parses every update in full (the others only read its seq): the spectator. */
const PARSER = ROOM_SIZE - 1;
const RESET_EVERY = Number(process.env.FAULTLINE_LOAD_RESET_EVERY ?? 0);
const PERIOD_MS = 1000 / (ROOM_SIZE * STEPS_PER_MEMBER_PER_SECOND);

/** FAULTLINE_LOAD_TRACE=FILE: every measured action as "ms-since-start latency send-delay" (for looking at spikes). */
const trace: string[] | null = process.env.FAULTLINE_LOAD_TRACE ? [] : null;
const send = (m: FromClient) => process.send?.(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const members: Member[] = [];
const rooms: Room[] = [];
let running = false;
let tStart = Infinity;
let tEnd = Infinity;
const all = new Samples();
const ack = new Samples();
let win = freshCounters();
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });

function freshCounters() {
  return { errors: {} as Record<string, number>, late: 0, resyncs: 0, retries: 0, updateBytes: 0, updates: 0, t0: performance.now() };
}

function count(code: string): void {
  win.errors[code] = (win.errors[code] ?? 0) + 1;
}

// ---------------------------------------------------------------- messages

function onMessage(m: Member, data: Buffer): void {
  if (data.length > UPDATE_PREFIX.length && data.compare(UPDATE_PREFIX, 0, UPDATE_PREFIX.length, 0, UPDATE_PREFIX.length) === 0) {
    const room = m.room;
    if (!room) return;
    const seq = readInt(data, UPDATE_PREFIX.length);
    if (m.slot === PARSER) {
      room.game = (JSON.parse(data.toString()) as Msg).game!;
      win.updateBytes += data.length;
      win.updates++;
    }
    return arrived(room, m, seq);
  }
  const msg = JSON.parse(data.toString()) as Msg;
  const key = msg.type === "welcome" ? WELCOME : msg.rid;
  if (key !== undefined) {
    const w = m.waiters.get(key);
    if (w) {
      m.waiters.delete(key);
      return w(msg);
    }
  }
  if (msg.type === "state" && m.room && msg.state) {
    // The server skipped updates to this slow reader and sent a snapshot instead.
    win.resyncs++;
    if (m.slot === PARSER) m.room.game = msg.state.game;
    return arrived(m.room, m, msg.state.seq);
  }
  if (msg.type === "error") count(msg.code ?? "error");
}

function arrived(room: Room, m: Member, seq: number): void {
  if (seq > room.seq) room.seq = seq;
  if (!room.inflight || seq <= room.sentSeq) return;
  room.got |= 1 << m.slot;
  if (room.got === ALL) complete(room);
}

function complete(room: Room): void {
  const now = performance.now();
  if (room.tSched >= tStart && room.tSched < tEnd) {
    // From the send; an action held back by the room's previous one (still in flight at its tick) counts from its tick.
    const from = room.heldBack ? room.tSched : room.tSend;
    all.push(now - from);
    trace?.push(`${(room.tSched - tStart).toFixed(2)} ${(now - from).toFixed(3)} ${(room.tSend - room.tSched).toFixed(3)}`);
  }
  done(room);
}

function done(room: Room): void {
  room.inflight = false;
  if (room.owed !== null && running) {
    const t = room.owed;
    room.owed = null;
    win.late++;
    act(room, t, true);
  }
}

// ---------------------------------------------------------------- actions

function choose(room: Room): { by: Member; msg: Record<string, unknown> } {
  const g = room.game;
  if (g.phase === "over") {
    win.retries++;
    return { by: room.members[0], msg: { type: "retry" } };
  }
  // Investigation only (FAULTLINE_LOAD_RESET_EVERY=K): reset the attempt after K steps, so rooms keep short histories.
  if (RESET_EVERY > 0 && g.phase === "play" && (g.steps ?? 0) >= RESET_EVERY) return { by: room.members[0], msg: { type: "reset" } };
  const n = g.cpus.length + 1;
  const players = Math.min(ROOM_SIZE, g.cpus.length);
  for (let i = 0; i < n; i++) {
    const k = room.rr++ % n;
    if (k < g.cpus.length) {
      const c = g.cpus[k];
      if (c.state === "done" || c.state === "unborn") continue;
      const choice = c.state === "menu" && c.choices?.length ? { choice: c.choices[room.choices++ % c.choices.length] } : {};
      return { by: room.members[k], msg: { type: "step", cpu: k, ...choice } };
    }
    if (g.dma?.ready && !g.dma.done) return { by: room.members[room.rr % players], msg: { type: "step", cpu: "dma" } };
  }
  // Nothing can move and the attempt is not over: cannot happen on this level; the error is counted.
  return { by: room.members[0], msg: { type: "retry" } };
}

function act(room: Room, tSched: number, heldBack = false): void {
  const { by, msg } = choose(room);
  const rid = by.rid++;
  const tSend = performance.now();
  room.inflight = true;
  room.sentSeq = room.seq;
  room.got = 0;
  room.tSched = tSched;
  room.tSend = tSend;
  room.heldBack = heldBack;
  by.waiters.set(rid, (reply) => {
    if (reply.type === "error") {
      count(reply.code ?? "error");
      if (reply.seq !== undefined && reply.seq > room.seq) room.seq = reply.seq;
      if (room.inflight && room.tSend === tSend) done(room);
      return;
    }
    if (tSched >= tStart && tSched < tEnd) ack.push(performance.now() - tSend);
  });
  by.ws.send(JSON.stringify({ ...msg, rid, seq: room.seq }));
}

function tick(room: Room, t: number): void {
  if (!running) return;
  if (!room.inflight) act(room, t);
  else if (room.owed === null) room.owed = t;
  // else: two ticks behind; the owed one keeps the earliest time, this one is skipped.
  const next = t + PERIOD_MS;
  setTimeout(() => tick(room, next), Math.max(0, next - performance.now()));
}

// ---------------------------------------------------------------- phases

async function open(url: string, i: number): Promise<Member> {
  const ws = new WebSocket(url, ["faultline.v1"], { perMessageDeflate: false });
  const m: Member = { ws, slot: i % ROOM_SIZE, room: null, rid: 1, waiters: new Map() };
  ws.on("message", (d) => onMessage(m, d as Buffer));
  ws.on("close", (code) => {
    if (running) count(`closed-${code}`);
  });
  ws.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  await request(m, { type: "hello", protocol: [1], name: `load${i}` }, WELCOME);
  return m;
}

async function inBatches<T>(n: number, batch: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => f(i + k)))));
  return out;
}

async function connect(url: string, n: number): Promise<void> {
  const t0 = performance.now();
  // Several servers (comma-separated, bench/cluster.ts): client i connects to the (i mod k)th, as a
  // load balancer spreading connections would, so a room's four members are on different nodes.
  const urls = url.split(",");
  members.push(...(await inBatches(n, 50, (i) => open(urls[i % urls.length], i))));
  send({ type: "connected", clients: members.length, ms: performance.now() - t0 });
}

async function seat(): Promise<void> {
  const t0 = performance.now();
  const groups = Math.floor(members.length / ROOM_SIZE);
  const made = await inBatches(groups, 25, async (r) => {
    const ms = members.slice(r * ROOM_SIZE, (r + 1) * ROOM_SIZE);
    const joined = await request(ms[0], { type: "create", level: LOAD_LEVEL, policy: "manual" });
    const state = joined.state!;
    const room: Room = { code: state.room.code, members: ms, seq: state.seq, game: state.game, inflight: false, sentSeq: 0, tSched: 0, tSend: 0, heldBack: false, got: 0, owed: null, rr: 0, choices: 0 };
    for (const m of ms) m.room = room;
    for (const m of ms.slice(1)) await request(m, { type: "join", room: room.code });
    const players = Math.min(ROOM_SIZE, state.game.cpus.length);
    for (let cpu = 0; cpu < players; cpu++) await request(ms[cpu], { type: "claim", cpu });
    return room;
  });
  rooms.push(...made);
  send({ type: "seated", rooms: rooms.length, ms: performance.now() - t0 });
}

function windowOf(t: number, seconds: number, allS: Samples, ackS: Samples): Window {
  const s = allS.summary();
  return {
    t,
    seconds,
    actionsPerSecond: s.count / seconds,
    all: s,
    ack: ackS.summary(),
    errors: win.errors,
    late: win.late,
    resyncs: win.resyncs,
    loopDelayP99: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    loopDelayMax: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS),
    retries: win.retries,
    meanUpdateBytes: win.updates ? win.updateBytes / win.updates : 0,
  };
}

async function play(cfg: PlayConfig): Promise<void> {
  running = true;
  const now = performance.now();
  tStart = now + cfg.warmupS * 1000;
  tEnd = tStart + cfg.measureS * 1000;
  for (const room of rooms) {
    const t = now + Math.random() * PERIOD_MS;
    setTimeout(() => tick(room, t), t - now);
  }
  await sleep(tStart - performance.now());
  win = freshCounters();
  loop.reset();
  loop.enable();
  send({ type: "measure-start" });
  // Overall samples across windows (the soak reports both).
  const total = new Samples();
  const totalAck = new Samples();
  const totals = { errors: {} as Record<string, number>, late: 0, resyncs: 0, retries: 0, updateBytes: 0, updates: 0 };
  const fold = () => {
    total.addAll(all);
    totalAck.addAll(ack);
    for (const [k, v] of Object.entries(win.errors)) totals.errors[k] = (totals.errors[k] ?? 0) + v;
    totals.late += win.late;
    totals.resyncs += win.resyncs;
    totals.retries += win.retries;
    totals.updateBytes += win.updateBytes;
    totals.updates += win.updates;
  };
  if (cfg.intervalS > 0) {
    for (let t = cfg.intervalS; t < cfg.measureS; t += cfg.intervalS) {
      await sleep(tStart + t * 1000 - performance.now());
      const w = windowOf(t, cfg.intervalS, all, ack);
      fold();
      all.clear();
      ack.clear();
      win = freshCounters();
      loop.reset();
      send({ type: "window", window: w });
    }
  }
  await sleep(tEnd - performance.now());
  running = false;
  send({ type: "measure-end" });
  // Let actions scheduled inside the window finish (they are counted).
  const deadline = performance.now() + 5000;
  while (rooms.some((r) => r.inflight) && performance.now() < deadline) await sleep(20);
  const lastSeconds = cfg.intervalS > 0 ? cfg.measureS - Math.floor((cfg.measureS - 1e-9) / cfg.intervalS) * cfg.intervalS : cfg.measureS;
  if (cfg.intervalS > 0) send({ type: "window", window: windowOf(cfg.measureS, lastSeconds, all, ack) });
  fold();
  win = { ...totals, t0: 0 };
  const result = windowOf(cfg.measureS, cfg.measureS, total, totalAck);
  loop.disable();
  if (trace) writeFileSync(process.env.FAULTLINE_LOAD_TRACE!, trace.join("\n") + "\n");
  send({ type: "result", window: result, unfinished: rooms.filter((r) => r.inflight).length });
}

process.on("message", (cmd: ToClient) => {
  const run = async () => {
    switch (cmd.type) {
      case "connect":
        return connect(cmd.url, cmd.clients);
      case "rooms":
        return seat();
      case "play":
        return play(cmd);
      case "quit":
        for (const m of members) m.ws.close(4000);
        await sleep(300);
        process.exit(0);
    }
  };
  run().catch((e: unknown) => {
    send({ type: "fatal", message: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  });
});
process.on("disconnect", () => process.exit(0));
