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

const WORKSHOP_COMMANDS = ["createWorkshop", "watchWorkshop", "pauseWorkshop", "resumeWorkshop", "announce", "releaseHint"] as const;

export type WorkshopMessage = ClientMessageOf<(typeof WORKSHOP_COMMANDS)[number]>;

export function isWorkshopMessage(msg: ClientMessage): msg is WorkshopMessage {
  return (WORKSHOP_COMMANDS as readonly string[]).includes(msg.type);
}

/** How a command answers its sender. */
export interface InstructorReply {
  /** A message, or one already serialised (a dashboard). */
  send(msg: ServerMessage | string): void;
  ack(): void;
  /** The sender watches this workshop's dashboard from now on (and no other). */
  watch(w: Workshop): void;
}

export function workshopCommand(reg: Registry, msg: WorkshopMessage, reply: InstructorReply): void {
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
      reply.ack();
      return reply.send(w.dashboardMessage());
    }
    case "pauseWorkshop":
    case "resumeWorkshop": {
      const w = reg.instructor(msg.workshop, msg.token);
      const paused = msg.type === "pauseWorkshop";
      reg.storage.setWorkshopPaused(w.id, paused);
      w.paused = paused;
      reg.loadWorkshopRooms(w);
      for (const r of w.rooms.values()) r.setPaused(paused);
      w.changed();
      return reply.ack();
    }
    case "announce": {
      const w = reg.instructor(msg.workshop, msg.token);
      for (const r of w.rooms.values()) r.sendAll({ type: "notice", from: "instructor", text: msg.text });
      return reply.ack();
    }
    case "releaseHint": {
      const w = reg.instructor(msg.workshop, msg.token);
      reg.loadWorkshopRooms(w);
      let targets = [...w.rooms.values()];
      if (msg.room !== undefined) {
        const r = w.rooms.get(msg.room);
        if (!r) throw new GameError("no-such-room", `workshop ${w.id} has no room ${msg.room}`);
        targets = [r];
      }
      for (const r of targets) {
        try {
          r.perform("instructor", { kind: "hint", free: true }, null);
        } catch (e) {
          // A room that is over or out of hints simply gets none.
          if (!(e instanceof GameError)) throw e;
        }
      }
      return reply.ack();
    }
  }
}
