// The load generator of the defend benchmark (forked by bench/defend.ts; a
// process of its own, like bench/load-client.ts). Two kinds of rooms, on one
// server, at once:
//
// Hunt rooms: as bench/load-client.ts, but rooms of 1-4 clients (room r has
// 1 + r % 4): `r5-six-steps`, policy manual, members 0-2 hold CPUs 0-2 (a
// fourth member watches), the room takes 2 actions a second per member, one
// at a time, round-robin over the runnable actors, `retry` after a result.
// Latency: step sent -> every member has the update (from its tick when held
// back behind the room's previous action: no coordinated omission).
//
// Defend rooms: created with policy "adversary" on defend levels, one client
// per CPU but one (at least one client; the adversary drives the CPUs nobody
// holds and the DMA device), CPUs claimed in turn from an offset that moves
// with the room, so the adversary gets every CPU in some room. During setup
// the room's creator sets the room's knob setting (one `knob` a tick, then its
// first step starts play); after a result it sends `retry` and sets the knobs
// again (its first step starts play, or `start` when its CPU cannot run yet). Every client ticks twice a second (random phase) and steps its own
// CPU when the latest view says it can run (`ready`, or `menu` with a choice
// taken in turn); a CPU that is blocked is stepped only when the room has not
// changed for 3 s (it burns the step). One request in flight per client: a
// tick that finds one is skipped and counted (`busy`). Latency: step sent ->
// every member of the room has an update at least as new as the step's ack.
// A step refused as stale (the bot moved first) is counted, not timed.
//
// Only one member of each room parses updates in full (they are all in this
// process: the room's view is shared); the others read the seq.

import { monitorEventLoopDelay } from "node:perf_hooks";
import { WebSocket } from "ws";
import { LOOP_RESOLUTION_MS, readInt, request, Samples, UPDATE_PREFIX, WELCOME } from "./load-common.js";
import { roomPlans, type DefendFromClient, type DefendToClient, type DefendWindow, type RoomPlan } from "./defend-common.js";

interface CpuLite {
  cpu: number;
  state: string;
  choices?: string[];
}
interface GameLite {
  phase: string;
  knobs?: Record<string, string>;
  cpus: CpuLite[];
  dma: { ready: boolean; done: boolean } | null;
}
interface Msg {
  type: string;
  rid?: number;
  seq?: number;
  code?: string;
  message?: string;
  event?: { by?: string; kind?: string };
  room?: { solver?: { state: string } };
  state?: { seq: number; room: { code: string; solver?: { state: string } }; game: GameLite };
  game?: GameLite;
}

interface Pending {
  kind: string;
  tSend: number;
  /** The seq the ack gave, once it came. */
  ackSeq: number;
}

interface Member {
  ws: WebSocket;
  slot: number;
  room: Room;
  rid: number;
  waiters: Map<number, (m: Msg) => void>;
  /** The latest seq this member heard. */
  seq: number;
  /** Defend rooms: the CPU this member holds, and its request in flight. */
  cpu: number;
  pending: Pending | null;
}

interface Room {
  plan: RoomPlan;
  code: string;
  members: Member[];
  seq: number;
  game: GameLite;
  /** The seq of \`game\` (what a client acting on that view sends). */
  gameSeq: number;
  solver: string;
  lastChange: number;
  choices: number;
  // hunt rooms (as bench/load-client.ts)
  inflight: boolean;
  sentSeq: number;
  tSched: number;
  tSend: number;
  heldBack: boolean;
  got: number;
  owed: number | null;
  rr: number;
}

const DEFEND_PERIOD_MS = 500; // 2 actions a second per client
const STALL_MS = 3000;
const send = (m: DefendFromClient) => process.send?.(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const members: Member[] = [];
const rooms: Room[] = [];
let running = false;
let tStart = Infinity;
let tEnd = Infinity;
const inWindow = (t: number) => t >= tStart && t < tEnd;
const S = { hunt: new Samples(), huntAck: new Samples(), defendStep: new Samples(), defendOther: new Samples(), defendAck: new Samples() };
let c = counters();
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });

function counters() {
  return {
    errors: { hunt: {} as Record<string, number>, defend: {} as Record<string, number> },
    errorSamples: [] as string[],
    late: 0,
    resyncs: 0,
    huntRetries: 0,
    defendRetries: 0,
    knobs: 0,
    botMoves: 0,
    busy: 0,
    idle: 0,
    stallSteps: 0,
    huntBytes: 0,
    huntUpdates: 0,
    defendBytes: 0,
    defendUpdates: 0,
  };
}

function count(kind: "hunt" | "defend", code: string, message?: string): void {
  c.errors[kind][code] = (c.errors[kind][code] ?? 0) + 1;
  if (message && c.errorSamples.length < 8 && !c.errorSamples.some((x) => x.startsWith(`${kind} ${code}`))) c.errorSamples.push(`${kind} ${code}: ${message}`);
}

// ---------------------------------------------------------------- messages

function onMessage(m: Member, data: Buffer): void {
  const room = m.room;
  if (data.length > UPDATE_PREFIX.length && data.compare(UPDATE_PREFIX, 0, UPDATE_PREFIX.length, 0, UPDATE_PREFIX.length) === 0) {
    const seq = readInt(data, UPDATE_PREFIX.length);
    if (m.slot === 0) {
      const u = JSON.parse(data.toString()) as Msg;
      room.game = u.game!;
      room.gameSeq = seq;
      room.lastChange = performance.now();
      if (room.plan.kind === "hunt") {
        c.huntBytes += data.length;
        c.huntUpdates++;
      } else {
        c.defendBytes += data.length;
        c.defendUpdates++;
        if (u.event?.by === "bot" && running) c.botMoves++;
      }
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
  if (msg.type === "room" && m.slot === 0 && msg.room?.solver) room.solver = msg.room.solver.state;
  else if (msg.type === "state" && msg.state) {
    c.resyncs++;
    if (m.slot === 0) {
      room.game = msg.state.game;
      room.gameSeq = msg.state.seq;
    }
    return arrived(room, m, msg.state.seq);
  } else if (msg.type === "error") count(room.plan.kind, msg.code ?? "error");
}

function arrived(room: Room, m: Member, seq: number): void {
  if (seq > m.seq) m.seq = seq;
  if (seq > room.seq) room.seq = seq;
  if (room.plan.kind === "hunt") {
    if (!room.inflight || seq <= room.sentSeq) return;
    room.got |= 1 << m.slot;
    if (room.got === (1 << room.members.length) - 1) huntComplete(room);
  } else {
    for (const x of room.members) if (x.pending && x.pending.ackSeq > 0) defendCheck(room, x);
  }
}

// ---------------------------------------------------------------- hunt rooms (bench/load-client.ts's workload)

function huntComplete(room: Room): void {
  const now = performance.now();
  if (inWindow(room.tSched)) S.hunt.push(now - (room.heldBack ? room.tSched : room.tSend));
  huntDone(room);
}

function huntDone(room: Room): void {
  room.inflight = false;
  if (room.owed !== null && running) {
    const t = room.owed;
    room.owed = null;
    c.late++;
    huntAct(room, t, true);
  }
}

function huntChoose(room: Room): { by: Member; msg: Record<string, unknown> } {
  const g = room.game;
  if (g.phase === "over") {
    c.huntRetries++;
    return { by: room.members[0], msg: { type: "retry" } };
  }
  const players = Math.min(room.members.length, 3);
  const n = g.cpus.length + 1;
  for (let i = 0; i < n; i++) {
    const k = room.rr++ % n;
    if (k < g.cpus.length) {
      const cpu = g.cpus[k];
      if (cpu.state === "done" || cpu.state === "unborn") continue;
      const choice = cpu.state === "menu" && cpu.choices?.length ? { choice: cpu.choices[room.choices++ % cpu.choices.length] } : {};
      return { by: room.members[k % players], msg: { type: "step", cpu: k, ...choice } };
    }
    if (g.dma?.ready && !g.dma.done) return { by: room.members[room.rr % players], msg: { type: "step", cpu: "dma" } };
  }
  return { by: room.members[0], msg: { type: "retry" } };
}

function huntAct(room: Room, tSched: number, heldBack = false): void {
  const { by, msg } = huntChoose(room);
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
      count("hunt", reply.code ?? "error", reply.message);
      if (reply.seq !== undefined && reply.seq > room.seq) room.seq = reply.seq;
      if (room.inflight && room.tSend === tSend) huntDone(room);
      return;
    }
    if (inWindow(tSched)) S.huntAck.push(performance.now() - tSend);
  });
  by.ws.send(JSON.stringify({ ...msg, rid, seq: room.seq }));
}

function huntTick(room: Room, t: number): void {
  if (!running) return;
  if (!room.inflight) huntAct(room, t);
  else if (room.owed === null) room.owed = t;
  const next = t + 1000 / (2 * room.members.length);
  setTimeout(() => huntTick(room, next), Math.max(0, next - performance.now()));
}

// ---------------------------------------------------------------- defend rooms

function defendCheck(room: Room, x: Member): void {
  const p = x.pending!;
  for (const m of room.members) if (m.seq < p.ackSeq) return;
  const now = performance.now();
  if (inWindow(p.tSend)) (p.kind === "step" ? S.defendStep : S.defendOther).push(now - p.tSend);
  x.pending = null;
}

function defendChoose(m: Member): Record<string, unknown> | null {
  const room = m.room;
  const g = room.game;
  const step = (cpu: CpuLite | undefined) => ({ type: "step", cpu: m.cpu, ...(cpu?.state === "menu" && cpu.choices?.length ? { choice: cpu.choices[room.choices++ % cpu.choices.length] } : {}) });
  if (g.phase === "over") {
    if (m.slot !== 0) return null;
    c.defendRetries++;
    return { type: "retry" };
  }
  const mine = g.cpus[m.cpu];
  if (g.phase === "setup") {
    if (m.slot !== 0) return null;
    for (const [knob, value] of Object.entries(room.plan.knobs)) {
      if (g.knobs && g.knobs[knob] !== value) {
        c.knobs++;
        return { type: "knob", knob, value };
      }
    }
    // The first step starts play; a creator whose CPU cannot run yet (not forked) starts it instead.
    return mine && (mine.state === "ready" || mine.state === "menu") ? step(mine) : { type: "start" };
  }
  if (!mine) return null;
  if (mine.state === "ready" || mine.state === "menu") return step(mine);
  if (mine.state === "blocked" && performance.now() - room.lastChange > STALL_MS) {
    c.stallSteps++;
    return step(mine);
  }
  return null;
}

function defendTick(m: Member, t: number): void {
  if (!running) return;
  const next = t + DEFEND_PERIOD_MS;
  setTimeout(() => defendTick(m, next), Math.max(0, next - performance.now()));
  if (m.pending) {
    c.busy++;
    return;
  }
  const msg = defendChoose(m);
  if (!msg) {
    c.idle++;
    return;
  }
  const room = m.room;
  const rid = m.rid++;
  const p: Pending = { kind: String(msg.type), tSend: performance.now(), ackSeq: 0 };
  m.pending = p;
  m.waiters.set(rid, (reply) => {
    if (m.pending !== p) return;
    if (reply.type === "error") {
      count("defend", reply.code ?? "error", `${reply.message} (sent ${JSON.stringify(msg)} at view seq ${room.gameSeq})`);
      if (reply.seq !== undefined && reply.seq > room.seq) room.seq = reply.seq;
      m.pending = null;
      return;
    }
    if (inWindow(p.tSend)) S.defendAck.push(performance.now() - p.tSend);
    p.ackSeq = reply.seq ?? 0;
    if (p.ackSeq === 0) m.pending = null;
    else defendCheck(room, m);
  });
  // The seq of the view the choice was made on: a client acts on what it sees (a newer seq with an older view would make moves the room no longer allows).
  m.ws.send(JSON.stringify({ ...msg, rid, seq: room.gameSeq }));
}

// ---------------------------------------------------------------- phases

async function open(url: string, i: number): Promise<WebSocket> {
  const ws = new WebSocket(url, ["faultline.v1"], { perMessageDeflate: false });
  ws.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  void i;
  return ws;
}

async function inBatches<T>(n: number, batch: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => f(i + k)))));
  return out;
}

async function connect(url: string, plans: RoomPlan[]): Promise<void> {
  const t0 = performance.now();
  const slots = plans.flatMap((plan, r) => Array.from({ length: plan.clients }, (_, slot) => ({ r, slot })));
  const made = new Map<number, Room>();
  for (const [r, plan] of plans.entries()) {
    made.set(r, { plan, code: "", members: [], seq: 0, game: { phase: "setup", cpus: [], dma: null }, gameSeq: 0, solver: "unknown", lastChange: 0, choices: 0, inflight: false, sentSeq: 0, tSched: 0, tSend: 0, heldBack: false, got: 0, owed: null, rr: 0 });
  }
  const ms = await inBatches(slots.length, 50, async (i) => {
    const { r, slot } = slots[i];
    const room = made.get(r)!;
    const ws = await open(url, i);
    const plan = room.plan;
    const cpu = plan.kind === "defend" ? (slot + r) % plan.cpus : slot;
    const m: Member = { ws, slot, room, rid: 1, waiters: new Map(), seq: 0, cpu, pending: null };
    ws.on("message", (d) => onMessage(m, d as Buffer));
    ws.on("close", (code) => {
      if (running) count(room.plan.kind, `closed-${code}`);
    });
    await request(m, { type: "hello", protocol: [1], name: `${plan.kind}${i}` }, WELCOME);
    return m;
  });
  for (const m of ms) {
    members.push(m);
    m.room.members[m.slot] = m;
  }
  rooms.push(...made.values());
  send({ type: "connected", clients: members.length, ms: performance.now() - t0 });
}

async function seat(): Promise<void> {
  const t0 = performance.now();
  await inBatches(rooms.length, 25, async (r) => {
    const room = rooms[r];
    const [first, ...rest] = room.members;
    const policy = room.plan.kind === "hunt" ? "manual" : "adversary";
    const joined = await request(first, { type: "create", level: room.plan.level, policy });
    const st = joined.state!;
    room.code = st.room.code;
    room.seq = st.seq;
    room.game = st.game;
    room.gameSeq = st.seq;
    room.solver = st.room.solver?.state ?? "unknown";
    for (const m of rest) await request(m, { type: "join", room: room.code });
    if (room.plan.kind === "hunt") {
      for (let cpu = 0; cpu < Math.min(room.members.length, 3); cpu++) await request(room.members[cpu], { type: "claim", cpu });
    } else {
      for (const m of room.members) await request(m, { type: "claim", cpu: m.cpu });
      // The creator sets the room's setting now, so the server starts solving it during seating.
      for (const [knob, value] of Object.entries(room.plan.knobs)) {
        if (room.game.knobs && room.game.knobs[knob] === value) continue;
        const ack = await request(first, { type: "knob", knob, value, seq: room.seq });
        if (ack.seq !== undefined && ack.seq > room.seq) room.seq = room.gameSeq = ack.seq;
        c.knobs++;
      }
    }
    room.lastChange = performance.now();
  });
  send({ type: "seated", rooms: rooms.length, ms: performance.now() - t0 });
}

function solverStates(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rooms) if (r.plan.kind === "defend") out[r.solver] = (out[r.solver] ?? 0) + 1;
  return out;
}

function result(seconds: number): DefendWindow {
  const mean = (b: number, n: number) => (n ? b / n : 0);
  return {
    seconds,
    hunt: S.hunt.summary(),
    huntAck: S.huntAck.summary(),
    defendStep: S.defendStep.summary(),
    defendOther: S.defendOther.summary(),
    defendAck: S.defendAck.summary(),
    errors: c.errors,
    errorSamples: c.errorSamples,
    late: c.late,
    resyncs: c.resyncs,
    huntRetries: c.huntRetries,
    defendRetries: c.defendRetries,
    knobs: c.knobs,
    botMoves: c.botMoves,
    busy: c.busy,
    idle: c.idle,
    stallSteps: c.stallSteps,
    meanHuntUpdateBytes: mean(c.huntBytes, c.huntUpdates),
    meanDefendUpdateBytes: mean(c.defendBytes, c.defendUpdates),
    loopDelayP99: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    loopDelayMax: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS),
    solverAtEnd: solverStates(),
  };
}

async function play(warmupS: number, measureS: number): Promise<void> {
  running = true;
  const now = performance.now();
  tStart = now + warmupS * 1000;
  tEnd = tStart + measureS * 1000;
  for (const room of rooms) {
    if (room.plan.kind === "hunt") {
      const t = now + Math.random() * (1000 / (2 * room.members.length));
      setTimeout(() => huntTick(room, t), t - now);
    } else {
      for (const m of room.members) {
        const t = now + Math.random() * DEFEND_PERIOD_MS;
        setTimeout(() => defendTick(m, t), t - now);
      }
    }
  }
  await sleep(tStart - performance.now());
  c = counters();
  loop.reset();
  loop.enable();
  send({ type: "measure-start", solver: solverStates() });
  await sleep(tEnd - performance.now());
  running = false;
  send({ type: "measure-end" });
  const deadline = performance.now() + 5000;
  while ((rooms.some((r) => r.inflight) || members.some((m) => m.pending && m.pending.ackSeq > 0)) && performance.now() < deadline) await sleep(20);
  const w = result(measureS);
  loop.disable();
  send({ type: "result", window: w, unfinished: rooms.filter((r) => r.inflight).length + members.filter((m) => m.pending).length });
}

process.on("message", (cmd: DefendToClient) => {
  const run = async () => {
    switch (cmd.type) {
      case "connect":
        return connect(cmd.url, roomPlans(cmd.scenario, cmd.huntRooms, cmd.defendClients));
      case "rooms":
        return seat();
      case "play":
        return play(cmd.warmupS, cmd.measureS);
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
