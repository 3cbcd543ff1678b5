// The sandbox's requests (issue 18, part 4): the catalogue, a room on a composed scenario, the
// explorer's answer, and the scenario as a level file. The hub (the connections' door) has
// validated the frame and charges the rate limits; the scenario becomes a level through the
// level loader (src/level/sandbox.ts), so a refusal names the part of the scenario and why.

import { GameError } from "../src/game/session.js";
import { LevelError } from "../src/level/load.js";
import { sandboxCatalogue, sandboxLevel, SandboxError, type SandboxLevel } from "../src/level/sandbox.js";
import type { ClientMessage, ClientMessageOf, SandboxScenario } from "../src/protocol/client.js";

const SANDBOX_COMMANDS = ["sandbox", "createSandbox", "explore", "saveSandbox"] as const;

export type SandboxMessage = ClientMessageOf<(typeof SANDBOX_COMMANDS)[number]>;

export function isSandboxMessage(msg: ClientMessage): msg is SandboxMessage {
  return (SANDBOX_COMMANDS as readonly string[]).includes(msg.type);
}

let catalogueJson: string | null = null;

/** The `sandbox` answer, serialised once (the catalogue never changes while the server runs). */
export function catalogueMessage(rid: number | undefined): string {
  catalogueJson ??= JSON.stringify({ type: "sandbox", rid: 0, catalogue: sandboxCatalogue() });
  return rid === undefined ? catalogueJson.replace('"rid":0,', "") : catalogueJson.replace('"rid":0,', `"rid":${rid},`);
}

/** The scenario as a level, or bad-scenario with the loader's (or the sandbox's) words, one problem a line. */
export function scenarioLevel(sc: SandboxScenario): SandboxLevel {
  try {
    return sandboxLevel(sc);
  } catch (e) {
    if (e instanceof LevelError || e instanceof SandboxError) throw new GameError("bad-scenario", e.message.slice(0, 1000));
    throw e;
  }
}

/** A saved file's id must not shadow a level the server offers (serve --levels would skip it). */
export function checkSaveId(id: string, offered: (id: string) => boolean): void {
  if (offered(id)) throw new GameError("bad-scenario", `${id} is the id of a level this server offers: save the scenario under another id`);
}
