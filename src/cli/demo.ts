// `faultline` with no arguments, until the interactive client lands: play the
// first tutorial level with the explorer's shortest schedule and explain it.

import { compileLevel } from "../level/compile.js";
import { loadCampaign } from "../level/load.js";
import { explore } from "../sim/explore.js";
import { runSchedule } from "../sim/runner.js";
import { formatSchedule } from "../sim/schedule.js";
import { printRun } from "./run.js";

export function cmdDemo(): number {
  const campaign = loadCampaign();
  const level = campaign[0];
  const c = compileLevel(level);
  const found = explore(c.cfg, c.machine, { oracles: c.oracles });
  const out = (s: string) => process.stdout.write(s);
  out(`FAULTLINE: the races of Linux memory management, one line at a time.\n\n`);
  out(`Level 1: ${level.title}\n\n${level.intro.trim()}\n\n`);
  if (!found.schedule) {
    out("(The explorer found no schedule for this level: please report this.)\n");
    return 1;
  }
  const schedule = formatSchedule(found.schedule);
  out(`The explorer tried every interleaving (${found.states} states) and found this schedule: ${schedule}\n\n`);
  printRun(level, {}, c.cfg, runSchedule(c.cfg, c.machine, found.schedule, c.oracles), out);
  out(`\n${level.debrief.trim()}\n\n`);
  out(`Next:\n`);
  out(`  faultline levels                         the campaign (${campaign.length} levels)\n`);
  out(`  faultline run r5-six-steps --schedule S  play a schedule on a level yourself\n`);
  out(`  faultline verify                         check every level against the explorer\n`);
  out(`  faultline help                           everything else\n`);
  return 0;
}
