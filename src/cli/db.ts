// Where the server keeps its database unless --db says otherwise:
// $FAULTLINE_DB, else $XDG_DATA_HOME/faultline/faultline.db, else
// ~/.local/share/faultline/faultline.db. Or PostgreSQL: --postgres URL, else
// $FAULTLINE_POSTGRES.

import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "./usage.js";

export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_DB) return env.FAULTLINE_DB;
  const data = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(data, "faultline", "faultline.db");
}

/** --postgres URL, else $FAULTLINE_POSTGRES unless --db names a file, else none (SQLite). */
export function postgresUrl(flag: string | undefined, db: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag !== undefined && db !== undefined) throw new UsageError("choose one of --db (SQLite) and --postgres (PostgreSQL)");
  const url = flag ?? (db === undefined ? env.FAULTLINE_POSTGRES || undefined : undefined);
  if (url === undefined) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`bad ${flag !== undefined ? "--postgres" : "FAULTLINE_POSTGRES"} "${url}": expected a URL like postgres://USER@HOST:5432/DATABASE`);
  return url;
}
