// `faultline serve`: the multiplayer server until SIGINT or SIGTERM.

import { startServer } from "../../server/index.js";
import { defaultDbPath } from "./db.js";
import { parse, UsageError } from "./usage.js";

export const DEFAULT_PORT = 7373;
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export async function cmdServe(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: "string" }, db: { type: "string" }, host: { type: "string" } }, false);
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`bad --port "${values.port}": expected 0-65535 (0 picks a free port)`);
  const host = values.host ?? "127.0.0.1";
  const db = values.db ?? defaultDbPath();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let server;
  try {
    server = await startServer({ port, host, db, log: (line) => (line.startsWith("faultline: serving") ? undefined : log(`faultline: ${line}`)) });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE") throw new UsageError(`port ${port} is in use on ${host} (try --port 0 for a free one)`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`cannot listen on --host ${host}: no such local address`);
    if (code === "EACCES") throw new UsageError(`not allowed to listen on ${host}:${port}`);
    throw e;
  }
  process.stdout.write(`faultline: serving on ${server.url} (database ${db})\n`);
  if (!LOOPBACK.has(host)) {
    log(`faultline: listening on ${host}, reachable from other machines; traffic is not encrypted (put a TLS proxy in front for wss://)`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  log("faultline: server stopped; rooms and results are saved");
  return 0;
}
