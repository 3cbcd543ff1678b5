#!/usr/bin/env node
// faultline: one binary, several subcommands. This file only dispatches and
// turns expected errors into one clear line on stderr with exit code 2.

import { LevelError } from "../level/load.js";
import { SimError } from "../sim/engine.js";
import { RunError } from "../sim/game.js";
import { ScheduleError } from "../sim/schedule.js";
import { cmdDemo } from "./demo.js";
import { cmdLevels } from "./levels.js";
import { cmdRun } from "./run.js";
import { UsageError } from "./usage.js";
import { cmdVerify } from "./verify.js";

const HELP = `faultline - a multiplayer terminal game about the races in Linux memory management

Usage:
  faultline                     play the first tutorial level, step by step, and explain it
  faultline levels [--json]     list the campaign in order
  faultline verify [LEVEL...] [--json]
                                explore every interleaving of each level and knob setting;
                                exit 1 if a verdict or par differs from the level file
  faultline run LEVEL --schedule S [--knob K=V...] [--json]
                                replay a schedule and print every step and the oracle that fired
  faultline help [COMMAND]      this text, or a command's

Schedules are CPU numbers in order, e.g. "0 1 1:fork d 2*3" (see README.md).
`;

export const COMMAND_HELP: Record<string, string> = {
  levels: `Usage: faultline levels [--json]

List the campaign in the order players meet it. With --json, print an array of
{id, title, mode, race, seed}: race is the races.md id (R1-R9) or "basics";
seed is the source thread's file in shared/seeds, or null.
`,
  verify: `Usage: faultline verify [LEVEL...] [--json]

Explore every interleaving and menu choice of each level (all levels if none is
named), once per knob setting, breadth-first. A verdict is "reachable" with the
shortest schedule that makes the goal oracle fire, or "safe" with the number of
states explored. Exit 1 when a verdict differs from what the level file expects,
or a hunt level's shortest schedule differs from its par.

  --json   print an array of {level, knobs, verdict, expected, states, schedule, par}
           (schedule in the syntax run --schedule takes, null when safe)
`,
  run: `Usage: faultline run LEVEL --schedule S [--knob K=V...] [--json]

Replay a schedule on a level and print each step: the CPU, the kernel line it
ran, and what changed. Stops at the first oracle that fires.

  --schedule S   tokens separated by spaces or commas, one step each:
                   3       step CPU 3
                   1:fork  step CPU 1, choosing "fork" from its menu
                   d       step the DMA device
                   2*4     any token repeated four times
  --knob K=V     a defend level's knob (default: each knob's first value)
  --json         print {level, knobs, steps, oracle, finished}
`,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) return cmdDemo();
  if (cmd === "--help" || cmd === "-h" || cmd === "help") {
    const topic = rest[0];
    if (topic && COMMAND_HELP[topic]) process.stdout.write(COMMAND_HELP[topic]);
    else process.stdout.write(HELP);
    return 0;
  }
  if (cmd === "--version") {
    process.stdout.write("faultline 0.1.0\n");
    return 0;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(COMMAND_HELP[cmd] ?? HELP);
    return 0;
  }
  switch (cmd) {
    case "levels":
      return cmdLevels(rest);
    case "verify":
      return cmdVerify(rest);
    case "run":
      return cmdRun(rest);
    default:
      throw new UsageError(`unknown command "${cmd}" (commands: levels, verify, run, help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof LevelError || e instanceof ScheduleError || e instanceof RunError || e instanceof SimError) {
      process.stderr.write(`faultline: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    // Anything else is a bug in Faultline: say so, with the stack for the report.
    process.stderr.write(`faultline: internal error (please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
