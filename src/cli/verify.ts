import { findLevel, LevelError, loadCampaign, type Level } from "../level/load.js";
import { knobSettings } from "../level/compile.js";
import { errorRow, settingJson, verifySetting, type VerifyRow } from "../level/verify.js";
import { parse, UsageError } from "./usage.js";

const knobText = (k: Record<string, string>) => Object.entries(k).map(([a, b]) => `${a}=${b}`).join(" ") || "-";

export function cmdVerify(args: string[]): number {
  const { values, positionals } = parse(args, { json: { type: "boolean" } }, true);
  const campaign = loadCampaign();
  const rows: VerifyRow[] = [];
  // A level file that does not load is an error row; the others are still verified.
  const levels: Level[] = [];
  for (const p of positionals) {
    let l: Level | null;
    try {
      l = findLevel(campaign, p);
    } catch (e) {
      if (!(e instanceof LevelError)) throw e;
      rows.push(errorRow(p, {}, e.message));
      continue;
    }
    if (!l) throw new UsageError(`unknown level "${p}" (see faultline levels)`);
    levels.push(l);
  }
  if (!positionals.length) levels.push(...campaign);
  const tty = process.stderr.isTTY === true && !values.json;
  const started = Date.now();
  const settings = levels.flatMap((l) => knobSettings(l).map((s) => ({ l, s })));
  settings.forEach(({ l, s }, i) => {
    const label = `[${i + 1}/${settings.length}] ${l.id} ${knobText(s)}`;
    if (tty) process.stderr.write(`\r\x1b[K${label} ...`);
    const row = verifySetting(l, s, tty ? (n) => process.stderr.write(`\r\x1b[K${label} ... ${n.toLocaleString("en-US")} states`) : undefined);
    rows.push(row);
  });
  if (tty) process.stderr.write("\r\x1b[K");
  const secs = ((Date.now() - started) / 1000).toFixed(2);
  const bad = rows.filter((r) => r.problems.length > 0);
  if (values.json) {
    const out = rows.map((r) => ({ level: r.level, ...settingJson(r), problems: r.problems }));
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  } else {
    const wl = Math.max(5, ...rows.map((r) => r.level.length));
    const wk = Math.max(5, ...rows.map((r) => knobText(r.knobs).length));
    process.stdout.write(`${"level".padEnd(wl)}  ${"knobs".padEnd(wk)}  verdict    expected   ${"states".padStart(8)}  preempt/par  steps/par\n`);
    for (const r of rows) {
      const pp = r.preemptions === null ? "-" : `${r.preemptions}/${r.parPreemptions ?? "-"}`;
      const sp = r.shortest === null ? (r.steps === null ? "-" : String(r.steps)) : `${r.shortest}/${r.par ?? "-"}`;
      const mark = r.verdict === "error" ? "ERROR" : r.problems.length ? "MISMATCH" : "ok";
      process.stdout.write(
        `${r.level.padEnd(wl)}  ${knobText(r.knobs).padEnd(wk)}  ${r.verdict.padEnd(9)}  ${r.expected.padEnd(9)}  ${String(r.states).padStart(8)}  ${pp.padEnd(11)}  ${sp.padEnd(9)}  ${mark}\n`,
      );
    }
    process.stdout.write(`${rows.length} setting${rows.length === 1 ? "" : "s"} of ${levels.length} level${levels.length === 1 ? "" : "s"} explored in ${secs} s; ${bad.length ? `${bad.length} differ from their level files` : "all as the level files expect"}.\n`);
  }
  for (const r of bad) process.stderr.write(`faultline: ${r.level} ${knobText(r.knobs)}: ${r.problems.join("; ")}\n`);
  return bad.length ? 1 : 0;
}
