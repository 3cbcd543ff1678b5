// Identifiers and secrets. Join codes are short because people type them, and
// unguessable because they are random (31^6, about 8.9e8, with joins rate
// limited per address); tokens are 256-bit secrets stored only as hashes.

import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { CODE_ALPHABET, ROOM_CODE_LENGTH, WORKSHOP_ID_LENGTH } from "../src/protocol/client.js";

export function randomCode(length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return s;
}

export const roomCode = () => randomCode(ROOM_CODE_LENGTH);
export const workshopId = () => randomCode(WORKSHOP_ID_LENGTH);
/** Public ids for players and members: never secrets. */
export const publicId = () => randomBytes(6).toString("base64url");
/** A secret: resume tokens and instructor tokens. */
export const secretToken = () => randomBytes(32).toString("base64url");

export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

/** Compare a presented token against a stored hash in constant time. */
export function tokenMatches(token: string, hash: string): boolean {
  const a = Buffer.from(hashToken(token), "hex");
  const b = Buffer.from(hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
