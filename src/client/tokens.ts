// The instructor's workshop tokens, kept where the instructor will find them:
// workshops.json beside the profile ($FAULTLINE_HOME, else
// $XDG_STATE_HOME/faultline or ~/.local/state/faultline), readable by its
// owner only. `faultline join URL --workshop ID` (without --team) picks the
// token up from there and opens the dashboard.

import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { mkdirs } from "../platform/mkdirs.js";
import { profilePath } from "./profile.js";

export interface SavedWorkshop {
  token: string;
  url: string;
  title: string;
}

export function tokensPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(profilePath(env)), "workshops.json");
}

function readAll(path: string): Record<string, SavedWorkshop> {
  try {
    const j = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return j && typeof j === "object" && !Array.isArray(j) ? (j as Record<string, SavedWorkshop>) : {};
  } catch {
    return {};
  }
}

/** Save a workshop's token (atomically, mode 0600); the path written, or null when it could not be. */
export function saveWorkshopToken(id: string, w: SavedWorkshop, path = tokensPath()): string | null {
  try {
    mkdirs(dirname(path));
    const all = { ...readAll(path), [id.toUpperCase()]: w };
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all, null, 2) + "\n", { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
    return path;
  } catch {
    return null;
  }
}

/** The saved token of a workshop, or null. */
export function loadWorkshopToken(id: string, path = tokensPath()): SavedWorkshop | null {
  const w = readAll(path)[id.toUpperCase()];
  return w && typeof w.token === "string" ? w : null;
}

/** The token `faultline join --workshop ID` uses: --token, else (without --team: the instructor) the saved one. */
export function tokenFor(workshop: string | undefined, team: string | undefined, token: string | undefined, path = tokensPath()): string | undefined {
  if (token || !workshop || team) return token;
  return loadWorkshopToken(workshop, path)?.token;
}
