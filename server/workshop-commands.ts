// The instructor's commands: create a workshop, watch its dashboard, pause and
// resume it, announce, release hints. The hub (the connections' door) has
// already validated the frame and charged the sender's rate limits; these check
// the instructor token and act on the registry's workshops and rooms.

import { GameError } from "../src/game/session.js";
import type { ClientMessage, ClientMessageOf } from "../src/protocol/client.js";
import type { ServerMessage } from "../src/protocol/server.js";
import { hashToken, secretToken, workshopId } from "./ids.js";
import type { Registry } from "./registry.js";
import type { Workshop } from "./workshop.js";

const WORKSHOP_COMMANDS = ["createWorkshop", "watchWorkshop", "pauseWorkshop", "resumeWorkshop", "announce", "releaseHint", "workshopChat", "mute"] as const;

export type WorkshopMessage = ClientMessageOf<(typeof WORKSHOP_COMMANDS)[number]>;

export function isWorkshopMessage(msg: ClientMessage): msg is WorkshopMessage {
  return (WORKSHOP_COMMANDS as readonly string[]).includes(msg.type);
}

/** Where a command reaches the workshop's rooms on other nodes (server/cluster): none on one server. */
export interface WorkshopBus {
  pause(w: Workshop, paused: boolean): void;
  announce(w: Workshop, text: string): void;
  hint(w: Workshop, room: string | undefined): void;
  watch(w: Workshop): void;
  chat(w: Workshop, text: string, room: string | undefined): void;
  mute(w: Workshop, room: string, member: string, muted: boolean): void;
}

/** Pause or resume every room of the workshop this server runs. */
export function applyPause(reg: Registry, w: Workshop, paused: boolean): void {
  w.paused = paused;
  reg.loadWorkshopRooms(w);
  for (const r of w.rooms.values()) r.setPaused(paused);
  w.changed();
}

/** An announcement to every member of the workshop's rooms on this server. */
export function applyAnnounce(w: Workshop, text: string): void {
  for (const r of w.rooms.values()) r.sendAll({ type: "notice", from: "instructor", text });
}

/** The instructor's chat in one room of the workshop, or in each of them, on this server. */
export function applyChat(w: Workshop, text: string, room: string | undefined): void {
  const targets = room !== undefined ? [w.rooms.get(room)].filter((r) => r !== undefined) : [...w.rooms.values()];
  for (const r of targets) {
    try {
      r.chat("instructor", text);
    } catch (e) {
      // A room that cannot save it now (its disk refuses writes) misses this line; the others get it.
      if (!(e instanceof GameError)) throw e;
    }
  }
}

/** Mute or unmute a member of the workshop's room, when this server runs the room and the member is in it. */
export function applyMute(w: Workshop, room: string, member: string, muted: boolean): void {
  const r = w.rooms.get(room);
  if (r?.members.has(member)) r.setMuted(member, muted);
}

/** A free hint to one room of the workshop, or to each of them, on this server. */
export function applyHint(w: Workshop, room: string | undefined): void {
  const targets = room !== undefined ? [w.rooms.get(room)].filter((r) => r !== undefined) : [...w.rooms.values()];
  for (const r of targets) {
    try {
      r.perform("instructor", { kind: "hint", free: true }, null);
    } catch (e) {
      // A room that is over or out of hints simply gets none.
      if (!(e instanceof GameError)) throw e;
    }
  }
}

/** How a command answers its sender. */
export interface InstructorReply {
  /** A message, or one already serialised (a dashboard). */
  send(msg: ServerMessage | string): void;
  ack(): void;
  /** The sender watches this workshop's dashboard from now on (and no other). */
  watch(w: Workshop): void;
}

export function workshopCommand(reg: Registry, msg: WorkshopMessage, reply: InstructorReply, bus?: WorkshopBus): void {
  const rid = msg.rid !== undefined ? { rid: msg.rid } : {};
  switch (msg.type) {
    case "createWorkshop": {
      let id = workshopId();
      for (let i = 0; i < 10 && reg.workshop(id); i++) id = workshopId();
      // An instructor's own list of levels (campaign or custom): the workshop's rooms play only these.
      const unknown = msg.levels?.find((l) => !reg.level(l));
      if (unknown !== undefined) throw new GameError("no-such-level", `no level ${unknown} (see the welcome message's levels)`);
      const levels = msg.levels ? [...new Set(msg.levels)] : null;
      const token = secretToken();
      reg.storage.createWorkshop({ id, title: msg.title, tokenHash: hashToken(token), createdAt: reg.now(), paused: false, levels });
      // Not kept in memory until someone watches it or creates a room in it (registry.workshop loads it):
      // a flood of createWorkshop costs rows, bounded by the creation rate, not memory.
      return reply.send({ type: "workshop", ...rid, workshop: { id, title: msg.title, ...(levels ? { levels } : {}) }, token });
    }
    case "watchWorkshop": {
      const w = reg.instructor(msg.workshop, msg.token);
      reply.watch(w);
      bus?.watch(w);
      reply.ack();
      return reply.send(w.dashboardMessage());
    }
    case "pauseWorkshop":
    case "resumeWorkshop": {
      const w = reg.instructor(msg.workshop, msg.token);
      const paused = msg.type === "pauseWorkshop";
      reg.storage.setWorkshopPaused(w.id, paused);
      applyPause(reg, w, paused);
      bus?.pause(w, paused);
      return reply.ack();
    }
    case "announce": {
      const w = reg.instructor(msg.workshop, msg.token);
      applyAnnounce(w, msg.text);
      bus?.announce(w, msg.text);
      return reply.ack();
    }
    case "workshopChat": {
      // The instructor's chat goes into every room's log (or one room's), like anyone's.
      const w = reg.instructor(msg.workshop, msg.token);
      knownRoom(reg, w, msg.room, bus);
      applyChat(w, msg.text, msg.room);
      bus?.chat(w, msg.text, msg.room);
      return reply.ack();
    }
    case "mute": {
      const w = reg.instructor(msg.workshop, msg.token);
      knownRoom(reg, w, msg.room, bus);
      const here = w.rooms.get(msg.room);
      // On one server the member must be in the room; with other nodes the room's own node checks.
      if (here || !bus) {
        if (!here) throw new GameError("no-such-room", `workshop ${w.id} has no room ${msg.room}`);
        here.setMuted(msg.member, msg.muted);
      } else bus.mute(w, msg.room, msg.member, msg.muted);
      return reply.ack();
    }
    case "releaseHint": {
      const w = reg.instructor(msg.workshop, msg.token);
      reg.loadWorkshopRooms(w);
      // With other nodes, the workshop's rooms are those in the database (each runs somewhere).
      const known = bus ? reg.storage.workshopRooms(w.id) : [...w.rooms.keys()];
      if (msg.room !== undefined && !known.includes(msg.room)) throw new GameError("no-such-room", `workshop ${w.id} has no room ${msg.room}`);
      applyHint(w, msg.room);
      bus?.hint(w, msg.room);
      return reply.ack();
    }
  }
}

/** Refused (no-such-room) unless the workshop has this room (in memory here, or with other nodes, in the database). */
function knownRoom(reg: Registry, w: Workshop, room: string | undefined, bus: WorkshopBus | undefined): void {
  reg.loadWorkshopRooms(w);
  if (room === undefined) return;
  const known = bus ? reg.storage.workshopRooms(w.id) : [...w.rooms.keys()];
  if (!known.includes(room)) throw new GameError("no-such-room", `workshop ${w.id} has no room ${room}`);
}
