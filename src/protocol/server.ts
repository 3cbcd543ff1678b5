// Messages the server sends, as zod schemas so a client (or a test) can check
// what it receives, and as the types the server builds them from.

import { z } from "zod";
import { ERROR_CODES } from "./codes.js";
import { MARK_KINDS, policy, sandboxScenario, side } from "./client.js";

export const actionSchema = z.union([z.strictObject({ cpu: z.int().min(0), choice: z.string().optional() }), z.strictObject({ dma: z.literal(true) })]);

export const levelInfoSchema = z.strictObject({
  id: z.string(),
  title: z.string(),
  mode: z.enum(["hunt", "defend", "versus"]),
  race: z.string(),
  /** The CPUs in order (index = CPU number); `side` when the level fixes the side a CPU plays for (versus levels). */
  cpus: z.array(z.strictObject({ name: z.string(), side: side.optional() })),
  /** The level has a DMA device (an actor like a CPU: step it with cpu "dma"). */
  dma: z.boolean(),
  /** Shortest triggering schedule in steps (hunt and versus levels), found by the explorer. */
  par: z.int().nullable(),
  /** Par: the fewest preemptions (context switches away from a CPU that could still run) of any schedule that triggers the race; null when the level states none. */
  parPreemptions: z.int().nullable(),
  /** How many written hints the level has. */
  hints: z.int(),
  knobs: z.array(
    z.strictObject({
      id: z.string(),
      prompt: z.string(),
      /** `cost`: points a win loses for choosing this fix (0 when absent). */
      options: z.array(z.strictObject({ value: z.string(), label: z.string(), cost: z.int().optional() })),
    }),
  ),
  /** The goal oracles' titles, in kernel terms ("Lost DMA write: ..."): what the race breaks. */
  goal: z.array(z.string()).optional(),
  /** The mailing-list message the level comes from, or null. */
  thread: z.strictObject({ subject: z.string(), date: z.string() }).nullable().optional(),
  /** Where the level comes from: "campaign", or "custom: FILE" (a level file of the server's --levels folder). Sent in `welcome.levels`. */
  source: z.string().optional(),
});
export type LevelInfo = z.infer<typeof levelInfoSchema>;

/** One step of the trace: who moved, the kernel line that ran, and what it changed. */
export const traceEntrySchema = z.strictObject({
  step: z.int().min(1),
  /** Member id, "bot" or "instructor". */
  by: z.string(),
  action: actionSchema,
  actor: z.string(),
  cpu: z.int().nullable(),
  fn: z.string(),
  line: z.string(),
  blocked: z.boolean(),
  wait: z.string().optional(),
  choice: z.string().optional(),
  loaded: z.string().optional(),
  notes: z.array(z.string()).optional(),
  changes: z.array(z.string()),
  /** This step preempted: the actor that stepped before it could still have run. */
  preempt: z.literal(true).optional(),
});
export type TraceEntry = z.infer<typeof traceEntrySchema>;

export const OUTCOMES = ["won", "lost"] as const;
export const REASONS = ["oracle", "finished", "deadlock", "livelock", "unsafe-fix"] as const;

export const resultSchema = z.strictObject({
  outcome: z.enum(OUTCOMES),
  /**
   * oracle: an oracle fired (a win in hunt, a loss in defend); finished: every CPU
   * finished; deadlock: every CPU is stuck; unsafe-fix: every CPU finished, but the
   * explorer found a schedule that breaks the chosen fix (see counterexample).
   */
  reason: z.enum(REASONS),
  oracle: z.strictObject({ id: z.string(), message: z.string(), step: z.int() }).nullable(),
  steps: z.int(),
  par: z.int().nullable(),
  /** Preemptions in the trace, and the level's par in preemptions (what a hunt is scored against); absent in results recorded before par counted preemptions. */
  preemptions: z.int().default(0),
  parPreemptions: z.int().nullable().default(null),
  hintsUsed: z.int(),
  rewinds: z.int(),
  resets: z.int(),
  durationMs: z.int(),
  score: z.int(),
  /** A schedule (the `faultline run --schedule` syntax) that breaks the chosen fix. */
  counterexample: z.string().nullable(),
  /** Versus rooms: red wins when the race happens, blue when every CPU finishes safely. */
  winner: side.nullable(),
  /** Hints the instructor released (free, not in hintsUsed); absent when none. */
  hintsReleased: z.int().optional(),
  /** Versus rooms: each side's score (the losing side's is 0); `outcome` and `score` are the winner's. */
  scores: z.strictObject({ red: z.int(), blue: z.int() }).optional(),
  /**
   * The attempt to share: its final trace as a `faultline run --schedule` string (a run to the next
   * decision as N+) and the shell command that replays it; absent in results recorded before it.
   */
  share: z.strictObject({ schedule: z.string(), command: z.string() }).optional(),
});
export type Result = z.infer<typeof resultSchema>;

/** A value of a kernel path's locals. */
const localValue = z.union([z.number(), z.boolean(), z.string(), z.null(), z.array(z.number())]);

/** A kernel path's whole listing: every line, as the simulator shows it for this level setting. */
export const listingSchema = z.strictObject({ fn: z.string(), source: z.string(), generation: z.string(), lines: z.array(z.string()) });
export type Listing = z.infer<typeof listingSchema>;

/** The machine as the panel shows it: every section's lines, in kernel terms. */
export const machineViewSchema = z.strictObject({
  vars: z.array(z.string()),
  mms: z.array(z.string()),
  tables: z.array(
    z.strictObject({
      id: z.int(),
      title: z.string(),
      blocks: z.array(z.strictObject({ base: z.int(), strip: z.string(), cont: z.string().nullable(), entries: z.array(z.string()) })),
    }),
  ),
  folios: z.array(z.string()),
  pins: z.array(z.string()),
  locks: z.array(z.string()),
  cpus: z.array(z.string()),
  dma: z.string().nullable(),
});
export type MachineView = z.infer<typeof machineViewSchema>;

export const cpuViewSchema = z.strictObject({
  cpu: z.int(),
  name: z.string(),
  state: z.enum(["done", "unborn", "blocked", "menu", "ready"]),
  /** Why, in kernel terms ("spinning on the PTL of table 0, held by CPU1 (A2)"). */
  text: z.string(),
  choices: z.array(z.string()).optional(),
  /** The kernel-path stack, outermost first; the last frame's line runs next. `line` of a caller is the line that made the call. */
  frames: z.array(z.strictObject({ fn: z.string(), path: z.string(), source: z.string(), generation: z.string().optional(), pc: z.int(), line: z.string() })),
  /** The innermost frame's locals (what the listing shows under the code). */
  locals: z.record(z.string(), localValue).optional(),
  /** Between operations: the kernel path the CPU's next step enters (its listing is in `GameView.listings`). */
  upcoming: z.strictObject({ fn: z.string(), path: z.string(), source: z.string(), generation: z.string() }).nullable().optional(),
  /** At a menu: the path each choice enters, in the order of `choices`. */
  choiceEntries: z.array(z.strictObject({ fn: z.string(), path: z.string() })).optional(),
});
export type CpuView = z.infer<typeof cpuViewSchema>;

export const gameViewSchema = z.strictObject({
  /** Attempt id: ROOMCODE-N. */
  attempt: z.string(),
  level: z.string(),
  /** setup: knobs may change, nothing has run; play; over: a result is recorded. */
  phase: z.enum(["setup", "play", "over"]),
  knobs: z.record(z.string(), z.string()),
  /** Steps in the current trace (rewound steps are gone). */
  steps: z.int(),
  /** Every step taken this attempt, rewound ones included. */
  moves: z.int(),
  /** Preemptions in the current trace. */
  preemptions: z.int(),
  /** The hints shown so far, in order. */
  hints: z.array(z.string()),
  hintsUsed: z.int(),
  rewinds: z.int(),
  resets: z.int(),
  cpus: z.array(cpuViewSchema),
  dma: z.strictObject({ ready: z.boolean(), done: z.boolean() }).nullable(),
  /** The whole simulated machine (plain JSON, see src/sim/types.ts); `view` is what a screen draws. */
  machine: z.record(z.string(), z.unknown()),
  /** The machine panel's content, section by section. */
  view: machineViewSchema.optional(),
  /**
   * Listings of the kernel paths this view names (the CPUs' innermost frames, `upcoming`,
   * `choiceEntries`), keyed by path id: in an `update`, those the room has not sent in this
   * attempt and knob setting yet; in a snapshot, every one sent so far. Keep them per attempt,
   * and start again when `attempt` or `knobs` change.
   */
  listings: z.record(z.string(), listingSchema).optional(),
  result: resultSchema.nullable(),
  /** After a result: what the room may do next (next is the next level's id, or null after the last). */
  offers: z.strictObject({ replay: z.boolean(), retry: z.boolean(), next: z.string().nullable() }).nullable(),
  debrief: z.string().nullable(),
  /** During play, when no bot is about to move: who the game waits for and for what, in words. */
  waiting: z.string().nullable().optional(),
  /**
   * While the room has a plan: the item `planStep` plays next (0-based; null when the trace has
   * left the plan or it is played to its end), of how many, and where the room stands, in words.
   */
  plan: z.strictObject({ next: z.int().nullable(), of: z.int(), text: z.string() }).nullable().optional(),
});
export type GameView = z.infer<typeof gameViewSchema>;
/** setup: knobs may change, nothing has run; play; over: a result is recorded. */
export type Phase = GameView["phase"];

const by = z.string();
export const gameEventSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("step"), by, entry: traceEntrySchema }),
  /** One `run` request: the lines the CPU ran to its next decision (or to the end of the attempt), in order. */
  z.strictObject({ kind: z.literal("run"), by, entries: z.array(traceEntrySchema).min(1) }),
  z.strictObject({ kind: z.literal("knob"), by, knob: z.string(), value: z.string() }),
  z.strictObject({ kind: z.literal("start"), by }),
  z.strictObject({ kind: z.literal("hint"), by, index: z.int(), text: z.string(), free: z.boolean() }),
  z.strictObject({ kind: z.literal("rewind"), by, steps: z.int(), to: z.int() }),
  z.strictObject({ kind: z.literal("reset"), by }),
  z.strictObject({ kind: z.literal("attempt"), by, attempt: z.string(), level: z.string() }),
]);
export type GameEvent = z.infer<typeof gameEventSchema>;

export const memberViewSchema = z.strictObject({ id: z.string(), name: z.string(), connected: z.boolean(), seats: z.array(z.int()) });
/** Someone who joined with `watch`: sees the room, holds no seat, may not act, and is not one of `members`. */
export const watcherViewSchema = z.strictObject({ id: z.string(), name: z.string(), connected: z.boolean() });
export const seatViewSchema = z.strictObject({
  cpu: z.int(),
  name: z.string(),
  /** Member id holding the CPU, or null (then `bot` drives it). */
  holder: z.string().nullable(),
  /** The side the CPU plays for in a versus room: its holder's; for a free CPU, the side its bot plays. */
  side: side.nullable(),
  /** What drives a free CPU: the room's policy, or "guard" (blue's bot in a versus room). */
  bot: z.enum([...policy.options, "guard"]).nullable(),
});
export const roomInfoSchema = z.strictObject({
  code: z.string(),
  level: levelInfoSchema,
  policy,
  versus: z.boolean(),
  paused: z.boolean(),
  workshop: z.string().nullable(),
  team: z.string().nullable(),
  members: z.array(memberViewSchema),
  /** Watchers (joined with `watch`); the server always sends it, a client treats it as empty when absent. */
  watchers: z.array(watcherViewSchema).optional(),
  seats: z.array(seatViewSchema),
  /** Who drives the DMA device: "bot", or "players" (any player with a seat, manual policy); null without one. */
  dma: z.enum(["bot", "players"]).nullable(),
  /**
   * The explorer's work on this level setting, which the adversary's moves and the explorer's
   * hints wait for: solving, ready, or too big (the adversary then plays eagerly). `text` says it.
   */
  solver: z.strictObject({ state: z.enum(["solving", "ready", "too-big"]), text: z.string() }),
});
export type RoomInfo = z.infer<typeof roomInfoSchema>;

/** One chat message: who said it (a member id, or "instructor"), when (server ms, and the attempt and its step), what. */
export const chatEntrySchema = z.strictObject({
  /** 1, 2, ... within the room. */
  n: z.int().min(1),
  attempt: z.string(),
  /** Steps in the attempt's trace when it was said (a replay shows it after that step). */
  step: z.int().min(0),
  at: z.int(),
  from: z.string(),
  name: z.string(),
  text: z.string(),
});
export type ChatEntry = z.infer<typeof chatEntrySchema>;

/** A marked line of a CPU's listing: `path` and `pc` as CpuView.frames name them, who set it, and the line. */
export const markSchema = z.strictObject({
  cpu: z.int(),
  path: z.string(),
  pc: z.int(),
  /** stop: Enter (a run) on this CPU stops before this line; run-to: Enter runs this CPU to it, through the decisions before it. */
  kind: z.enum(MARK_KINDS),
  by: z.string(),
  name: z.string(),
  fn: z.string(),
  line: z.string(),
});
export type Mark = z.infer<typeof markSchema>;

/** A plan proposed to the room: its items in the schedule syntax, and the attempt they make from the level's start. */
export const planSchema = z.strictObject({
  by: z.string(),
  name: z.string(),
  /** The whole plan in the schedule syntax (`faultline run --schedule` takes it). */
  schedule: z.string(),
  /** The knob setting it was made for. */
  knobs: z.record(z.string(), z.string()),
  /** One per press of planStep: its token, what it moves (a CPU, or null for the DMA device), and its lines in `trace` (from, to). */
  items: z.array(z.strictObject({ token: z.string(), cpu: z.int().nullable(), run: z.boolean(), from: z.int(), to: z.int() })),
  /** The preview: every line the plan runs from the level's start, as the room would show it. */
  trace: z.array(traceEntrySchema),
  /** Where the preview ends: the oracle that fires (null if none), its preemptions, and whether every CPU finished. */
  ends: z.strictObject({ oracle: z.strictObject({ id: z.string(), message: z.string(), step: z.int() }).nullable(), preemptions: z.int(), finished: z.boolean() }),
});
export type Plan = z.infer<typeof planSchema>;

export const snapshotSchema = z.strictObject({
  seq: z.int(),
  room: roomInfoSchema,
  game: gameViewSchema,
  trace: z.array(traceEntrySchema),
  intro: z.string(),
  /** The room's latest chat (at most 50), oldest first. */
  chat: z.array(chatEntrySchema).optional(),
  /** The marks in this attempt (cleared on reset and with every new attempt). */
  marks: z.array(markSchema).optional(),
  plan: planSchema.nullable().optional(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const dashboardTeamSchema = z.strictObject({
  room: z.string(),
  team: z.string().nullable(),
  level: z.string(),
  attempt: z.string(),
  phase: z.enum(["setup", "play", "over"]),
  steps: z.int(),
  hintsUsed: z.int(),
  rewinds: z.int(),
  outcome: z.enum(OUTCOMES).nullable(),
  score: z.int().nullable(),
  /** Sum of the scores of this room's finished attempts. */
  totalScore: z.int(),
  finished: z.int(),
  members: z.int(),
  connected: z.int(),
  /** The room's members, with whether the instructor muted them (mute). */
  players: z.array(z.strictObject({ id: z.string(), name: z.string(), connected: z.boolean(), muted: z.boolean() })).optional(),
});
export type DashboardTeam = z.infer<typeof dashboardTeamSchema>;

/** One value a sandbox choice may take, with what it means in kernel terms. */
const sandboxChoiceSchema = z.strictObject({ id: z.string(), text: z.string() });

/**
 * What a sandbox scenario may be made of (the answer to `sandbox`): the server decides it and
 * describes every part; a client draws it and sends back a `createSandbox` scenario.
 */
export const sandboxCatalogueSchema = z.strictObject({
  generations: z.array(sandboxChoiceSchema),
  machines: z.array(sandboxChoiceSchema),
  /** The memory the processes start with. */
  memories: z.array(sandboxChoiceSchema),
  /** Whether there is a child process, and how it comes to exist. */
  children: z.array(sandboxChoiceSchema),
  /** The processes a CPU may run in (`child` says whether the child exists). */
  processes: z.array(sandboxChoiceSchema),
  /** The DMA device (`scenario.device`). */
  device: z.strictObject({ text: z.string() }),
  /** Each operation a CPU may run: its arguments and the values each may take; `since`: the kernel that brought it, when not every generation has it. */
  operations: z.array(
    z.strictObject({
      op: z.string(),
      text: z.string(),
      since: z.string().optional(),
      args: z.array(z.strictObject({ name: z.string(), values: z.array(z.union([z.int(), z.boolean(), z.string()])).min(1) })),
    }),
  ),
  /** The oracles every sandbox hunt watches: the first to fire ends it. */
  oracles: z.array(z.strictObject({ id: z.string(), title: z.string() })),
  /** At most this many CPUs, operations per CPU, operations in all; the explorer gives up past `states` states. */
  limits: z.strictObject({ cpus: z.int(), opsPerCpu: z.int(), ops: z.int(), states: z.int() }),
  /** A scenario to start composing from. */
  example: sandboxScenario,
});
export type SandboxCatalogue = z.infer<typeof sandboxCatalogueSchema>;

const rid = z.int().optional();
export const serverMessages = {
  welcome: z.strictObject({
    type: z.literal("welcome"),
    protocol: z.int(),
    player: z.strictObject({ id: z.string(), name: z.string() }),
    resumed: z.boolean(),
    levels: z.array(levelInfoSchema),
    limits: z.strictObject({ maxPayload: z.int(), messagesPerSecond: z.number(), graceMs: z.int() }),
    /** The server's version, and a digest of its levels (the same levels, the same digest): a client can tell what it talks to. */
    server: z.strictObject({ version: z.string(), levels: z.string() }).optional(),
  }),
  joined: z.strictObject({
    type: z.literal("joined"),
    rid,
    /** Private to this connection: `token` resumes the seat after a drop (a new one comes with every join and resume); `watch` when you joined as a watcher. */
    you: z.strictObject({ member: z.string(), token: z.string(), watch: z.literal(true).optional() }),
    state: snapshotSchema,
  }),
  state: z.strictObject({ type: z.literal("state"), state: snapshotSchema }),
  update: z.strictObject({ type: z.literal("update"), seq: z.int(), event: gameEventSchema, game: gameViewSchema }),
  room: z.strictObject({ type: z.literal("room"), room: roomInfoSchema }),
  ack: z.strictObject({ type: z.literal("ack"), rid, seq: z.int().optional() }),
  error: z.strictObject({ type: z.literal("error"), rid, code: z.enum(ERROR_CODES), message: z.string(), seq: z.int().optional() }),
  notice: z.strictObject({ type: z.literal("notice"), from: z.enum(["instructor", "server"]), text: z.string() }),
  replay: z.strictObject({
    type: z.literal("replay"),
    rid,
    attempt: z.string(),
    level: z.string(),
    knobs: z.record(z.string(), z.string()),
    trace: z.array(traceEntrySchema),
    result: resultSchema.nullable(),
    /** What the room said during the attempt (each with the step it came after). */
    chat: z.array(chatEntrySchema).optional(),
  }),
  workshop: z.strictObject({ type: z.literal("workshop"), rid, workshop: z.strictObject({ id: z.string(), title: z.string(), levels: z.array(z.string()).optional() }), token: z.string() }),
  dashboard: z.strictObject({
    type: z.literal("dashboard"),
    workshop: z.strictObject({ id: z.string(), title: z.string(), paused: z.boolean(), levels: z.array(z.string()).optional() }),
    teams: z.array(dashboardTeamSchema),
  }),
  pong: z.strictObject({ type: z.literal("pong"), t: z.number().optional(), now: z.number() }),
  /** Someone in the room said something (sent to every member, the sender included). */
  chat: z.strictObject({ type: z.literal("chat"), entry: chatEntrySchema }),
  /** The room's marks after a change: every mark, and what changed (null: a reset or a new attempt cleared them). */
  marks: z.strictObject({
    type: z.literal("marks"),
    marks: z.array(markSchema),
    change: z.strictObject({ kind: z.enum(["set", "cleared"]), by: z.string(), name: z.string(), mark: markSchema }).nullable(),
  }),
  /** The room's plan after a change (null: none). */
  plan: z.strictObject({
    type: z.literal("plan"),
    plan: planSchema.nullable(),
    change: z.strictObject({ kind: z.enum(["proposed", "dropped", "cleared"]), by: z.string(), name: z.string() }),
  }),
  sandbox: z.strictObject({ type: z.literal("sandbox"), rid, catalogue: sandboxCatalogueSchema }),
  /**
   * The explorer's answer to `explore`, sent to everyone in the room (`rid` only to the one who
   * asked): from the room's position at `seq`, the oracles that can still fire and the fewest
   * preemptions each needs, never the schedule.
   */
  explorer: z.strictObject({
    type: z.literal("explorer"),
    rid,
    /** Who asked (a member id). */
    by: z.string(),
    attempt: z.string(),
    seq: z.int(),
    oracles: z.array(z.strictObject({ id: z.string(), title: z.string(), preemptions: z.int().min(0) })),
    /** How many oracles the hunt watches. */
    watched: z.int(),
    /** The answer in words. */
    text: z.string(),
  }),
  /** The sandbox scenario as a level file (`faultline lint` passes it): write `text` to `file`. */
  levelFile: z.strictObject({
    type: z.literal("levelFile"),
    rid,
    id: z.string(),
    file: z.string(),
    text: z.string(),
    /** What the file claims, from the explorer: reachable (with `preemptions`), safe, or null when the explorer could not solve it. */
    verdict: z.enum(["reachable", "safe"]).nullable(),
    preemptions: z.int().nullable(),
  }),
} as const;

export type ServerType = keyof typeof serverMessages;
export const serverMessage = z.discriminatedUnion(
  "type",
  Object.values(serverMessages) as unknown as [(typeof serverMessages)[ServerType], ...(typeof serverMessages)[ServerType][]],
);
export type ServerMessage = z.infer<typeof serverMessage>;
export type ServerMessageOf<T extends ServerType> = Extract<ServerMessage, { type: T }>;
