// Solo play with nothing else to run: the game server embedded in this
// process on a free loopback port, with the embedded database, and the
// client connected to it. The bots drive every CPU the player has not taken.

import { defaultDbPath } from "./db.js";
import { startServer, type RunningServer } from "../../server/index.js";
import { runClient, type ClientOptions } from "../client/run.js";

export async function startEmbedded(db = defaultDbPath()): Promise<{ server: RunningServer; note: string }> {
  try {
    const server = await startServer({ port: 0, host: "127.0.0.1", db });
    return { server, note: `Solo: an embedded server on ${server.url}, saving to ${db}` };
  } catch (e) {
    // A database we cannot open (a read-only home, a locked file) must not stop a solo game.
    const server = await startServer({ port: 0, host: "127.0.0.1" });
    return { server, note: `Solo: an embedded server on ${server.url}; scores are not saved (${e instanceof Error ? e.message : String(e)})` };
  }
}

export async function runSolo(opts: Omit<ClientOptions, "url" | "note">): Promise<number> {
  const { server, note } = await startEmbedded();
  try {
    return await runClient({ ...opts, url: server.url, note });
  } finally {
    await server.close();
  }
}
