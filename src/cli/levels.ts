import { loadCampaign } from "../level/load.js";
import { parse } from "./usage.js";

export function cmdLevels(args: string[]): number {
  const { values } = parse(args, { json: { type: "boolean" } }, false);
  const campaign = loadCampaign();
  if (values.json) {
    const out = campaign.map((l) => ({ id: l.id, title: l.title, mode: l.mode, race: l.race, seed: l.seed }));
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
    return 0;
  }
  const w = Math.max(...campaign.map((l) => l.id.length));
  campaign.forEach((l, i) => {
    const tag = l.label === "mainline" || l.label === "teaching" ? "" : ` [${l.label}]`;
    process.stdout.write(`${String(i + 1).padStart(2)}. ${l.id.padEnd(w)}  ${l.mode.padEnd(6)}  ${l.race.padEnd(6)}  ${l.title}${tag}\n`);
  });
  return 0;
}
