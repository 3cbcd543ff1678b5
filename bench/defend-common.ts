// Shared by the defend benchmark's processes (bench/defend.ts and its generator
// child bench/defend-client.ts): the rooms of each stage, and the messages they
// exchange over the Node IPC channel. The server child is bench/load-server.ts.

import { knobSettings, type KnobSetting } from "../src/level/compile.js";
import { loadCampaign } from "../src/level/load.js";
import { LOAD_LEVEL, type Summary } from "./load-common.js";

export type Scenario = "none" | "A" | "B";

export interface RoomPlan {
  kind: "hunt" | "defend";
  level: string;
  /** Clients in the room. */
  clients: number;
  /** CPUs of the level. */
  cpus: number;
  /** The knob setting a defend room plays (its creator sets it in every attempt's setup). */
  knobs: KnobSetting;
}

/** The rooms of a stage: 100 hunt rooms of 1-4 clients, and defend rooms for `defendClients` clients. */
export function roomPlans(scenario: "none" | "A" | "B", huntRooms: number, defendClients: number): RoomPlan[] {
  const plans: RoomPlan[] = [];
  for (let r = 0; r < huntRooms; r++) plans.push({ kind: "hunt", level: LOAD_LEVEL, clients: 1 + (r % 4), cpus: 3, knobs: {} });
  if (scenario === "none") return plans;
  const defend = loadCampaign().filter((l) => l.mode === "defend" && (scenario === "B" || l.id === "finale-rdma"));
  const settings: KnobSetting[][] = defend.map((l) => knobSettings(l));
  let left = defendClients;
  for (let r = 0; left > 0; r++) {
    const li = r % defend.length;
    const level = defend[li];
    const ks = settings[li];
    const cpus = level.cpus.length;
    const clients = Math.min(left, Math.max(1, Math.min(3, cpus - 1)));
    plans.push({ kind: "defend", level: level.id, clients, cpus, knobs: ks[Math.floor(r / defend.length) % ks.length] });
    left -= clients;
  }
  return plans;
}

export type DefendToClient =
  | { type: "connect"; url: string; scenario: Scenario; huntRooms: number; defendClients: number }
  | { type: "rooms" }
  | { type: "play"; warmupS: number; measureS: number }
  | { type: "quit" };

export interface DefendWindow {
  seconds: number;
  /** Hunt rooms: step sent (or its tick, when held back) -> every member has the update. */
  hunt: Summary;
  huntAck: Summary;
  /** Defend rooms: a player's step sent -> every member has an update at least as new as its ack. */
  defendStep: Summary;
  /** Defend rooms: knob and retry, the same way. */
  defendOther: Summary;
  defendAck: Summary;
  errors: { hunt: Record<string, number>; defend: Record<string, number> };
  /** The first refusal of each kind, with its message. */
  errorSamples: string[];
  late: number;
  resyncs: number;
  huntRetries: number;
  defendRetries: number;
  knobs: number;
  /** Updates whose event was the adversary's move (counted once a room). */
  botMoves: number;
  /** Defend ticks skipped: the client's previous request was still in flight. */
  busy: number;
  /** Defend ticks with nothing to do (own CPU not runnable, or not the creator in setup/over). */
  idle: number;
  /** Blocked CPUs stepped because the room had not changed for 3 s. */
  stallSteps: number;
  meanHuntUpdateBytes: number;
  meanDefendUpdateBytes: number;
  loopDelayP99: number;
  loopDelayMax: number;
  /** Defend rooms by RoomInfo.solver.state at the end. */
  solverAtEnd: Record<string, number>;
}

export type DefendFromClient =
  | { type: "connected"; clients: number; ms: number }
  | { type: "seated"; rooms: number; ms: number }
  | { type: "measure-start"; solver: Record<string, number> }
  | { type: "measure-end" }
  | { type: "result"; window: DefendWindow; unfinished: number }
  | { type: "fatal"; message: string };
