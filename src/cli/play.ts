// `faultline` with no arguments (solo play) and `faultline join URL`: the
// interactive client. Both need a terminal; NO_COLOR is honoured here, before
// Ink (and its chalk) are loaded, because chalk reads only FORCE_COLOR.

import { parse, UsageError } from "./usage.js";

export const NOT_A_TTY =
  "faultline: the game needs a terminal, and standard input is not one.\n" +
  "Without a terminal, replay a schedule instead: faultline run LEVEL --schedule S (see faultline help run),\n" +
  "e.g. faultline run basics-lost-update --schedule \"0 1 0 1\"\n";

/**
 * Set up the environment Ink and React read when they load: chalk ignores
 * NO_COLOR (chalk #547), so map it to FORCE_COLOR=0; and pick React's
 * production build (its development build takes about twice as long per frame).
 */
export function prepareEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") env.FORCE_COLOR = "0";
  env.NODE_ENV ??= "production";
}

/** A server address as typed: ws://host:port, wss://..., http(s):// (mapped), or host:port. */
export function serverUrl(s: string): string {
  if (/^wss?:\/\//i.test(s)) return s;
  if (/^https?:\/\//i.test(s)) return s.replace(/^http/i, "ws");
  if (/^[\w.-]+(:\d+)?\/?$/.test(s) || /^\[[\d:a-f]+\](:\d+)?\/?$/i.test(s)) return `ws://${s}`;
  throw new UsageError(`bad server address "${s}": expected ws://HOST:PORT`);
}

function needTty(): boolean {
  if (process.stdin.isTTY) return true;
  process.stderr.write(NOT_A_TTY);
  return false;
}

export async function cmdPlay(args: string[]): Promise<number> {
  const { values } = parse(args, { name: { type: "string" } }, false);
  if (!needTty()) return 2;
  prepareEnv();
  const { runSolo } = await import("./solo.js");
  return runSolo({ name: values.name });
}

export async function cmdJoin(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { room: { type: "string" }, name: { type: "string" }, workshop: { type: "string" }, team: { type: "string" }, token: { type: "string" }, watch: { type: "boolean" } },
    true,
  );
  if (positionals.length !== 1) throw new UsageError("join needs one server address: faultline join ws://HOST:PORT [--room CODE] [--name NAME]");
  const url = serverUrl(positionals[0]);
  if (values.token && !values.workshop) throw new UsageError("--token goes with --workshop ID (the instructor's dashboard)");
  if (values.watch && !values.room) throw new UsageError("--watch goes with --room CODE: faultline join URL --room CODE --watch");
  if (!needTty()) return 2;
  prepareEnv();
  const { runClient } = await import("../client/run.js");
  const workshop = values.workshop?.toUpperCase();
  // The instructor, again: --workshop ID without --team or --token uses the token saved when the workshop was created here.
  const { tokenFor } = await import("../client/tokens.js");
  const token = tokenFor(workshop, values.team, values.token);
  return runClient({ url, name: values.name, room: values.room, watch: values.watch === true, workshop, team: values.team, token });
}
