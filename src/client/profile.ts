// The player's profile on this computer: their name and their progress, as
// one small JSON file under $XDG_STATE_HOME/faultline (or ~/.local/state),
// or $FAULTLINE_HOME when set (the tests point it at a temporary folder).

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { mkdirs } from "../platform/mkdirs.js";
import type { Progress } from "./model/progress.js";

export interface Profile {
  name: string | null;
  progress: Progress;
}

export function profilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAULTLINE_HOME) return join(env.FAULTLINE_HOME, "profile.json");
  const state = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(state, "faultline", "profile.json");
}

export function loadProfile(path = profilePath()): Profile {
  try {
    const j = JSON.parse(readFileSync(path, "utf8")) as Partial<Profile>;
    return { name: typeof j.name === "string" ? j.name : null, progress: j.progress && typeof j.progress === "object" ? j.progress : {} };
  } catch {
    return { name: null, progress: {} };
  }
}

/** Write atomically (a temporary file renamed over the old one); a failure only costs the marks. */
export function saveProfile(p: Profile, path = profilePath()): void {
  try {
    mkdirs(dirname(path));
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(p, null, 2) + "\n");
    renameSync(tmp, path);
  } catch {
    // A read-only home: play on without saving.
  }
}

/** A name to start with: --name, the saved one, the login name, or "player". */
export function defaultName(flag: string | undefined, saved: string | null): string {
  const pick = (s: string | null | undefined) => (s ?? "").trim().replace(/[\p{Cc}\p{Cf}]/gu, "").slice(0, 32);
  let login = "";
  try {
    login = userInfo().username;
  } catch {
    login = "";
  }
  return pick(flag) || pick(saved) || pick(login) || "player";
}
