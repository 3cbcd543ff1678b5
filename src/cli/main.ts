#!/usr/bin/env node
// faultline: one binary, several subcommands. This file only dispatches and
// turns expected errors into one clear line on stderr with exit code 2.

import { LevelError } from "../level/load.js";
import { SimError } from "../sim/engine.js";
import { RunError } from "../sim/runner.js";
import { ScheduleError } from "../sim/schedule.js";
import { cmdDemo } from "./demo.js";
import { cmdLevels } from "./levels.js";
import { cmdLint } from "./lint.js";
import { cmdNew } from "./new.js";
import { cmdJoin, cmdPlay } from "./play.js";
import { cmdResults } from "./results.js";
import { cmdRun } from "./run.js";
import { cmdServe } from "./serve.js";
import { UsageError } from "./usage.js";
import { cmdVerify } from "./verify.js";

const HELP = `faultline - a multiplayer terminal game about the races in Linux memory management

Usage:
  faultline                     play solo: an embedded server, bots, and the game in this terminal
  faultline join URL [--room CODE [--watch]] [--name NAME]
                                play on a server (faultline serve) with others, or watch a room
  faultline demo                the first tutorial level played by the explorer, explained step by step
  faultline levels [--json]     list the campaign in order
  faultline verify [LEVEL...] [--json]
                                explore every interleaving of each level and knob setting;
                                exit 1 if a verdict or par differs from the level file
  faultline run LEVEL --schedule S [--knob K=V...] [--json]
                                replay a schedule: every step, the timeline and the oracle that fired
  faultline lint FILE... [--json] [--no-verify]
                                check level files you wrote: every problem with its key and line
  faultline new ID [--race R] [--kernel G] [--from LEVEL] [--out FILE]
                                start a level file from a campaign level of a race
  faultline serve [--port N] [--db FILE] [--host H] [--trust-proxy ADDR[,ADDR...]] [--levels DIR]
                [--postgres URL [--schema S]] [--redis URL]
                                run the multiplayer server (loopback unless --host says otherwise);
                                with --redis and --postgres, one node of several
  faultline results --workshop ID [--csv|--json] [--db FILE | --postgres URL [--schema S]]
                                export a workshop's results from the server's database
  faultline help [COMMAND]      this text, or a command's

Schedules are CPU numbers in order, e.g. "0 1 1:fork d 2*3"; "1+" runs CPU 1 to its next decision (see README.md).
LEVEL is a campaign level's id or a level file (path ending in .yaml); writing your own
levels: levels/README.md. In the game, s in the lobby opens the sandbox: compose a
scenario (kernel, machine, what each CPU runs), hunt in it with every oracle watching,
and save it as a level file (faultline help play).
`;

export const COMMAND_HELP: Record<string, string> = {
  play: `Usage: faultline [play] [--name NAME]

Play solo in this terminal: Faultline starts its server inside this process on
a free loopback port (127.0.0.1, saving to the same database as faultline
serve), connects the game to it, and lets bots drive the CPUs you do not take.
Keys: Space steps your CPU, Tab moves between CPUs, ? lists every key, q quits.
It needs a terminal; without one, use faultline run.

The sandbox (s in the lobby): compose a scenario from the server's catalogue
(kernel generation, x86 or arm64, the starting memory, a child, what each CPU
runs) and hunt in it with every invariant oracle watching. In its room, e asks
the explorer which oracles can still fire and in how few preemptions; S saves
the scenario as ID.yaml in the current folder, ready for faultline lint and
faultline serve --levels.
`,
  join: `Usage: faultline join URL [--room CODE] [--name NAME]
       faultline join URL --room CODE --watch [--name NAME]
       faultline join URL --workshop ID [--team NAME]
       faultline join URL --workshop ID --token TOKEN

Play on a Faultline server (faultline serve) with other people. URL is
ws://HOST:PORT (the address faultline serve prints).

  --room CODE      join this room at once (otherwise pick or create one in the lobby)
  --watch          with --room: watch the room without taking a seat. You see the
                   game, the machine, the log and the debrief as the players do;
                   keys that would act are refused. Watchers are listed to the room,
                   do not take members' places, and do not keep its bots moving.
  --name NAME      your name in the room (default: the last one you used, or your login)
  --workshop ID    create your rooms inside this workshop (its id is the instructor's code)
  --team NAME      your team's name on the instructor's dashboard
  --token TOKEN    with --workshop: open the instructor dashboard of that workshop

In a room, t opens a line to chat with it, k marks lines of a CPU's code for
your team ("stop here", "run to here"), P proposes a plan in the schedule
syntax of faultline run (an empty line records your moves), and . plays the
plan's next step. ? lists every key.
`,
  demo: `Usage: faultline demo

Play the first tutorial level with the explorer's shortest schedule, print each
step and what it changed, and explain the race. Needs no terminal.
`,
  levels: `Usage: faultline levels [--json]

List the campaign in the order players meet it. With --json, print an array of
{id, title, mode, race, seed}: mode is "hunt", "defend" or "versus"; race is
the races.md id (R1-R9) or "basics";
seed is the source thread's file in shared/seeds, or null.
`,
  verify: `Usage: faultline verify [LEVEL...] [--json]

Explore every interleaving and menu choice of each level (all levels if none is
named), once per knob setting. A verdict is "reachable" with a schedule that
makes the goal oracle fire (for a hunt or versus level one with the fewest
preemptions, which is its par), or "safe" with the number of states explored.
Exit 1 when a verdict differs from what the level file expects, or a hunt or
versus level's fewest preemptions (or its shortest schedule in steps, where the
file states par) differs from the file. A setting that cannot be explored is an
ERROR row; the others are still verified.

  --json   print an array of {level, knobs, verdict, expected, states, schedule,
           steps, preemptions, parPreemptions, par, shortest, problems}
           (schedule in the syntax run --schedule takes, null when safe)
`,
  lint: `Usage: faultline lint FILE... [--json] [--no-verify]

Check level files you wrote (the format: levels/README.md). Each file is loaded
and validated, then every knob setting is explored as faultline verify does.
Every problem is printed as FILE:LINE:COL: error|warning: KEY: message, with the
key path in the file (e.g. cpus[0].runs[1].store.page) and its line; a problem
found only while building one knob setting has no line and ends with the
setting in [brackets]. After the problems, one line per knob setting: the
verdict, and the schedule with the fewest preemptions. Exit 1 when a file has an
error (warnings, e.g. a hunt that does not state its preemptions, or an access
to a page outside every VMA, do not fail it).

  --json        print an array of {file, level, ok, problems, settings}; each
                problem is {severity, path, line, column, message, knobs?}
  --no-verify   load and validate only (no exploration)
`,
  new: `Usage: faultline new ID [--race R] [--kernel G] [--from LEVEL] [--out FILE] [--force]

Start a level file ID.yaml from a campaign level: the first hunt level of race R
(basics, R1-R9, or mixed: its first level if it has no hunt; default basics), or
--from LEVEL. The id is replaced and the title marked "(your variant)", --kernel
sets kernel.generation (lint then says what that kernel cannot run, and the par
to state), and a header comment lists what to change.
Then edit it and run faultline lint ID.yaml.

  --out FILE   write here instead of ID.yaml (- prints it)
  --force      overwrite an existing file
`,
  run: `Usage: faultline run LEVEL --schedule S [--knob K=V...] [--json]

Replay a schedule on a level and print each step: the CPU, the kernel line it
ran, and what changed; then the timeline the game's debrief draws (one lane per
CPU, one column per step, in pages as wide as the terminal); then the oracle
that fired, if any. Stops at the first oracle that fires. Every debrief gives
the command that replays its attempt this way ("Share:").

  --schedule S   tokens separated by spaces or commas, one step each:
                   3       step CPU 3
                   1:fork  step CPU 1, choosing "fork" from its menu
                   d       step the DMA device
                   3+      run CPU 3 to its next decision (the game's Enter;
                           1:fork+ picks fork first)
                   2*4     any token repeated four times
  --knob K=V     a defend level's knob (default: each knob's first value)
  --json         print {level, knobs, steps, oracle, finished} (no timeline)
`,
  serve: `Usage: faultline serve [--port N] [--db FILE] [--host H] [--trust-proxy ADDR[,ADDR...]] [--levels DIR]
                       [--postgres URL [--schema S] [--synchronous-commit on|off]]
                       [--redis URL [--redis-prefix P] [--lease-ms N] [--node ID]]

Run the multiplayer game server: rooms, seats, bots, workshops, all saved to a
SQLite database (or PostgreSQL). Clients speak the WebSocket protocol in
docs/protocol.md. Stop it with Ctrl-C; rooms and results stay in the database.

  --port N     TCP port (default 7373; 0 picks a free one, printed on start)
  --db FILE    database file (default $FAULTLINE_DB, else
               $XDG_DATA_HOME/faultline/faultline.db, else ~/.local/share/faultline/faultline.db)
  --host H     address to listen on (default 127.0.0.1, this machine only;
               0.0.0.0 serves the network, unencrypted)
  --postgres URL
               keep everything in PostgreSQL instead of SQLite (default
               $FAULTLINE_POSTGRES unless --db is given), e.g.
               postgres://faultline@127.0.0.1:5432/faultline. Tables are
               created (and migrated) in the schema --schema S (default
               faultline). An action is acknowledged once PostgreSQL has
               committed it; a write it cannot commit stops the server (exit
               70), and nothing after that write was acknowledged.
  --synchronous-commit on|off
               on (default): a commit is on PostgreSQL's disk before it is
               acknowledged; off: once PostgreSQL has it (survives this server
               being killed, not PostgreSQL crashing)
  --redis URL  run as one node of several (needs --postgres; default
               $FAULTLINE_REDIS), e.g. redis://127.0.0.1:6379. Each room runs
               on one node (a lease in Redis); clients may connect to any node
               (put one address in front: README, "Running several nodes"),
               and a client whose room runs elsewhere is relayed there. When
               a node dies its rooms move to the node where their members
               resume. See docs/cluster.md.
  --redis-prefix P
               Redis key prefix of this service (default faultline:)
  --lease-ms N how long a dead node's rooms wait before another node takes
               them (default 10000); a node renews its leases every N/3 ms
  --node ID    this node's id in logs and /health (default random)
  --levels DIR also offer the level files (*.yaml) in DIR, after the campaign.
               Each is loaded and verified at start (as faultline lint does);
               one that fails is named on stderr and skipped. Players see
               them in the lobby, marked custom; workshops may use them.
  --trust-proxy ADDR[,ADDR...]
               reverse proxies (addresses, or ADDR/PREFIX subnets) whose
               X-Forwarded-For names the client (default $FAULTLINE_TRUST_PROXY,
               else none). Only connections from these addresses are read
               this way; the client is the rightmost forwarded address that is
               not one of them. Without it, every client behind the proxy
               counts as the proxy's address.

Limits per client address: 600 arrivals at once, then 20 a second (each
hello, with or without a resume token, create, join and createWorkshop is one:
a class of 300 behind one NAT gets in at once); rooms and workshops created:
300 at once, then 1 a second; joins of room codes that do not exist: 60 at
once, then 30 a minute, and 10 per connection. While the address's or the
connection's unknown codes are spent, every join from there is refused
(rate-limited), right code or wrong. Connections: 1,000 per address (never
more than half the server's; HTTP 429), of which 400 before hello; 2,000 in
all (HTTP 503), capped below the open-file limit, which serve raises to the
hard limit where allowed and states at start. A handshake must finish within
10 s; a connection in no room that sends nothing for 10 minutes is closed
(4012). Rooms in memory: 320 per creating address; empty rooms leave memory
(and come back from the database when joined). Replays: 30 a minute per
connection; sandbox requests (catalogue, createSandbox, explore, saveSandbox):
30 a minute per connection. A sandbox scenario has at most 3 CPUs and 6
operations, and its explorer gives up past 300,000 states. Chat, marks and
plans: 30 a minute per connection, bursts of 8 (past it they are refused;
play goes on).

If the database stops taking writes (read-only, full, failing), changes are
refused with "unavailable", reads go on, GET /health answers 503 naming the
fault, and the log says so once a minute until it recovers. A database that
cannot be opened at start is named with the reason (exit 2).

The server runs on a worker thread with a 32 MiB V8 semi-space, which keeps
garbage-collection pauses rare at a workshop's load. Setting the heap yourself
(NODE_OPTIONS=--max-semi-space-size=N) runs it on the main thread with yours.
`,
  results: `Usage: faultline results --workshop ID [--csv|--json] [--db FILE | --postgres URL [--schema S]]

Print every finished attempt of a workshop's teams: level, outcome, steps and
par, hints, rewinds, duration and score. Reads the database faultline serve
writes (the same default as serve's --db, or its PostgreSQL).

  --workshop ID  the workshop id the instructor got when creating it
  --csv          comma-separated values with a header row
  --json         an array of objects, one per attempt
  --db FILE      the server's database file
  --postgres URL the server's PostgreSQL (default $FAULTLINE_POSTGRES unless
                 --db is given); --schema S its schema (default faultline)
`,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) return cmdPlay([]);
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
    case "lint":
      return cmdLint(rest);
    case "new":
      return cmdNew(rest);
    case "play":
      return cmdPlay(rest);
    case "join":
      return cmdJoin(rest);
    case "demo":
      return cmdDemo();
    case "serve":
      return cmdServe(rest);
    case "results":
      return cmdResults(rest);
    default:
      throw new UsageError(`unknown command "${cmd}" (commands: play, join, demo, levels, verify, run, lint, new, serve, results, help)`);
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
