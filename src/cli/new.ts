// `faultline new ID --race R [--kernel G]`: start a level file from a campaign level of that race,
// with a new id, the kernel generation asked for, and a header that says what to change.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { loadCampaign, levelsDir } from "../level/load.js";
import { GENERATIONS, RACE_IDS } from "../level/schema.js";
import { parse, UsageError } from "./usage.js";

export function newLevelText(id: string, opts: { race?: string; kernel?: string; from?: string }): { text: string; from: string } {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new UsageError(`bad level id "${id}": lower-case letters, digits and - (it is also the file name)`);
  const campaign = loadCampaign();
  if (campaign.some((l) => l.id === id)) throw new UsageError(`${id} is a campaign level's id: choose another`);
  if (opts.kernel !== undefined && !(GENERATIONS as readonly string[]).includes(opts.kernel)) throw new UsageError(`bad --kernel "${opts.kernel}" (generations: ${GENERATIONS.join(", ")})`);
  let template;
  if (opts.from !== undefined) {
    template = campaign.find((l) => l.id === opts.from);
    if (!template) throw new UsageError(`unknown level "${opts.from}" (see faultline levels)`);
  } else {
    const race = opts.race ?? "basics";
    if (!(RACE_IDS as readonly string[]).includes(race)) throw new UsageError(`bad --race "${race}" (races: ${RACE_IDS.join(", ")})`);
    // The first hunt level of the race (a hunt is the simplest to change), else its first level.
    const of = campaign.filter((l) => l.race === race);
    template = of.find((l) => l.mode === "hunt") ?? of[0];
    if (!template) throw new UsageError(`no campaign level of race ${race} to start from (races with levels: ${[...new Set(campaign.map((l) => l.race))].join(", ")})`);
  }
  const doc = parseDocument(readFileSync(join(levelsDir(), `${template.id}.yaml`), "utf8"));
  doc.setIn(["id"], id);
  doc.setIn(["title"], `${template.title} (your variant)`);
  if (opts.kernel !== undefined) doc.setIn(["kernel", "generation"], opts.kernel);
  doc.commentBefore =
    ` ${id}: started by faultline new from ${template.id} (race ${template.race}${opts.kernel ? `, kernel ${opts.kernel}` : ""}).\n` +
    ` Change the machine, the CPUs' runs and the goal; then run faultline lint ${id}.yaml, and state\n` +
    ` the verdicts, par and preemptions it reports. Rewrite title, hints, intro and debrief, and cite\n` +
    ` your own source under seed and thread (seed: null if it is not a shared/seeds thread).\n` +
    ` The format: levels/README.md ("Your first level in fifteen minutes").`;
  return { text: doc.toString({ lineWidth: 0, flowCollectionPadding: true }), from: template.id };
}

export function cmdNew(args: string[]): number {
  const { values, positionals } = parse(args, { race: { type: "string" }, kernel: { type: "string" }, from: { type: "string" }, out: { type: "string" }, force: { type: "boolean" } }, true);
  if (positionals.length !== 1) throw new UsageError("new needs one level id (faultline new my-level --race R5 --kernel 5.9)");
  const id = positionals[0];
  const { text, from } = newLevelText(id, values);
  if (values.out === "-") {
    process.stdout.write(text);
    return 0;
  }
  const out = values.out ?? `${id}.yaml`;
  if (existsSync(out) && !values.force) throw new UsageError(`${out} exists (pass --force to overwrite it, or --out FILE)`);
  writeFileSync(out, text);
  process.stdout.write(`faultline: wrote ${out} from ${from}; edit it, then: faultline lint ${out}\n`);
  return 0;
}
