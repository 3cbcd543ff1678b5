// `faultline lint FILE...`: every problem of each level file, with its key and line.

import { join, resolve } from "node:path";
import { levelsDir, loadCampaign } from "../level/load.js";
import { formatProblem, lintFile, type LintReport } from "../level/lint.js";
import { settingJson } from "../level/verify.js";
import { parse, UsageError } from "./usage.js";

const knobText = (k: Record<string, string>) => Object.entries(k).map(([a, b]) => `${a}=${b}`).join(" ");

export function cmdLint(args: string[]): number {
  const { values, positionals } = parse(args, { json: { type: "boolean" }, "no-verify": { type: "boolean" } }, true);
  if (!positionals.length) throw new UsageError("lint needs one or more level files (faultline lint my-level.yaml)");
  const campaignIds = loadCampaign().map((l) => l.id);
  const dir = levelsDir();
  // A campaign level's own file is not a custom level that would replace it.
  const othersThan = (file: string) => campaignIds.filter((id) => resolve(file) !== join(dir, `${id}.yaml`));
  const tty = process.stderr.isTTY === true && !values.json;
  const reports: LintReport[] = positionals.map((file) =>
    lintFile(file, {
      verify: !values["no-verify"],
      campaignIds: othersThan(file),
      onProgress: tty ? (label, n) => process.stderr.write(`\r\x1b[K${file} ${label} ... ${n.toLocaleString("en-US")} states`) : undefined,
    }),
  );
  if (tty) process.stderr.write("\r\x1b[K");
  if (values.json) {
    const out = reports.map((r) => ({
      file: r.file,
      level: r.level,
      ok: r.ok,
      problems: r.problems,
      settings: r.settings.map(settingJson),
    }));
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  } else {
    for (const r of reports) {
      for (const p of r.problems) process.stdout.write(formatProblem(r.file, p) + "\n");
      for (const s of r.settings) {
        if (s.verdict === "error") continue;
        const k = knobText(s.knobs);
        // The schedule shown is the one with the fewest preemptions (the par players are scored
        // against); the shortest in steps, which the file's `par` states, may be another.
        const what =
          s.verdict === "reachable"
            ? `reachable${s.preemptions !== null ? ` with ${s.preemptions} preemption${s.preemptions === 1 ? "" : "s"}` : ""} in ${s.steps} steps${s.shortest !== null && s.shortest !== s.steps ? ` (the shortest schedule takes ${s.shortest})` : ""}: ${s.schedule}`
            : `${s.verdict} (${s.states} states)`;
        process.stdout.write(`${r.file}: ${k ? `${k}: ` : ""}${what}${s.problems.length ? "" : " (as the file says)"}\n`);
      }
      const errors = r.problems.filter((p) => p.severity === "error").length;
      const warnings = r.problems.length - errors;
      process.stdout.write(`${r.file}: ${r.ok ? "ok" : `${errors} error${errors === 1 ? "" : "s"}`}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}\n`);
    }
  }
  return reports.every((r) => r.ok) ? 0 : 1;
}
