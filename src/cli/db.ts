// Where the server keeps its database unless --db says otherwise:
// $FAULTLINE_DB, else $XDG_DATA_HOME/faultline/faultline.db, else
// ~/.local/share/faultline/faultline.db.

import { homedir } from "node:os";
import { join } from "node:path";

export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_DB) return env.FAULTLINE_DB;
  const data = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(data, "faultline", "faultline.db");
}
