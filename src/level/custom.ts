// Custom levels: a folder of level files a server offers beside the campaign (faultline serve
// --levels DIR). Each file is loaded and verified as faultline lint does; a broken one is
// reported and skipped, never fatal. Level files are data: loading one runs no code of its own.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { LevelError, loadLevelFile, type Level } from "./load.js";
import { verifyLevel } from "./verify.js";

/** A loader message without its "FILE: " prefix (the skipped entry names the file). */
const unprefixed = (line: string) => line.replace(/^[^\s:]+\.ya?ml: /, "");

export interface SkippedLevel {
  /** The file's name in the folder. */
  file: string;
  /** Why, one line each (the loader's or verify's messages). */
  problems: string[];
}

export interface CustomLevels {
  levels: Level[];
  skipped: SkippedLevel[];
}

/**
 * The level files (*.yaml, *.yml) directly in `dir`, in file-name order. `taken` holds the ids
 * already offered (the campaign's): a file with one of them is skipped, as is a second file
 * with the same id. `verify: false` skips the exploration (tests of the loading only).
 */
export function loadLevelsDir(dir: string, taken: Iterable<string>, opts: { verify?: boolean } = {}): CustomLevels {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (e) {
    throw new LevelError(`--levels ${dir}: cannot read the folder (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const ids = new Set(taken);
  const out: CustomLevels = { levels: [], skipped: [] };
  for (const f of names) {
    if (f === "campaign.yaml") continue;
    let level: Level;
    try {
      level = loadLevelFile(join(dir, f));
    } catch (e) {
      if (!(e instanceof LevelError)) throw e;
      out.skipped.push({ file: f, problems: e.message.split("\n").map(unprefixed) });
      continue;
    }
    if (ids.has(level.id)) {
      out.skipped.push({ file: f, problems: [`id: ${level.id} is already offered (a campaign level, or another file); rename it`] });
      continue;
    }
    if (opts.verify !== false) {
      const problems = verifyLevel(level).flatMap((r) => {
        const knobs = Object.entries(r.knobs).map(([k, v]) => `${k}=${v}`).join(" ");
        return r.problems.flatMap((p) => p.split("\n")).map((p) => `verify${knobs ? ` (${knobs})` : ""}: ${unprefixed(p)}`);
      });
      if (problems.length) {
        out.skipped.push({ file: f, problems });
        continue;
      }
    }
    ids.add(level.id);
    out.levels.push({ ...level, source: `custom: ${f}` });
  }
  return out;
}
