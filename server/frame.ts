// A frame off the wire, turned into a validated client message or the typed
// error to answer it with. Pure: no sockets, no rooms.

import type { z } from "zod";
import type { Command } from "../src/game/session.js";
import { CLIENT_TYPES, clientMessage, GAME_ACTIONS, type ClientMessage, type ClientMessageOf } from "../src/protocol/client.js";
import type { ErrorCode } from "../src/protocol/codes.js";
import type { RoomCommand } from "./room.js";

/** Game actions that name their command; planStep's is the room plan's next item (Room.planStep). */
export type GameMessage = ClientMessageOf<Exclude<(typeof GAME_ACTIONS)[number], "planStep">>;

const GAME_COMMAND_TYPES = new Set<string>(GAME_ACTIONS.filter((t) => t !== "planStep"));

/** A message that acts on the game (a room command), rather than on connections, rooms or workshops. */
export function isGameMessage(msg: ClientMessage): msg is GameMessage {
  return GAME_COMMAND_TYPES.has(msg.type);
}

/** The room command a game message asks for. */
export function commandOf(msg: GameMessage): RoomCommand {
  switch (msg.type) {
    case "step":
    case "run":
      return msg.choice === undefined ? { kind: msg.type, actor: msg.cpu } : { kind: msg.type, actor: msg.cpu, choice: msg.choice };
    case "knob":
      return { kind: "knob", knob: msg.knob, value: msg.value };
    case "rewind":
      return { kind: "rewind", steps: msg.steps ?? 1 };
    case "start":
    case "hint":
    case "reset":
    case "retry":
    case "next":
      return { kind: msg.type } as Command | { kind: "retry" } | { kind: "next" };
  }
}

export type Parsed = { ok: true; msg: ClientMessage } | { ok: false; code: ErrorCode; message: string; rid: number | undefined };

/** Frame -> validated message, or the typed error to answer with. */
export function parseFrame(data: string | null): Parsed {
  const fail = (code: ErrorCode, message: string, rid?: number): Parsed => ({ ok: false, code, message, rid });
  if (data === null) return fail("bad-frame", "binary frames are not part of the protocol: send JSON text");
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return fail("bad-frame", "not JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail("bad-frame", "a message is a JSON object with a type");
  const o = raw as Record<string, unknown>;
  // Echo a well-formed rid even on a bad message, so the client can match the error.
  const rid = wellFormedRid(o.rid);
  if (typeof o.type !== "string") return fail("bad-frame", "a message needs a string type", rid);
  if (!(CLIENT_TYPES as string[]).includes(o.type)) return fail("unknown-type", `unknown message type "${o.type.slice(0, 40)}"`, rid);
  const r = clientMessage.safeParse(raw);
  if (!r.success) return fail("bad-frame", describeIssues(r.error), rid);
  return { ok: true, msg: r.data };
}

function wellFormedRid(v: unknown): number | undefined {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 31 ? (v as number) : undefined;
}

/** The well-formed rid of a frame, or undefined: for replies sent without parsing the whole message (rate-limited). */
export function ridOf(data: string | null): number | undefined {
  if (data === null) return undefined;
  try {
    const raw: unknown = JSON.parse(data);
    return typeof raw === "object" && raw !== null && !Array.isArray(raw) ? wellFormedRid((raw as Record<string, unknown>).rid) : undefined;
  } catch {
    return undefined;
  }
}

function describeIssues(e: z.ZodError): string {
  const i = e.issues[0];
  const at = i.path.length ? i.path.map(String).join(".") : "(message)";
  const text = i.code === "unrecognized_keys" ? `unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.slice(0, 3).join(", ")}` : i.message;
  return `${at.slice(0, 60)}: ${text}`.slice(0, 200);
}
