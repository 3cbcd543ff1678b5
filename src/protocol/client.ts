// Messages a client sends. Every incoming frame is parsed with `clientMessage`
// before it reaches a room: strict objects (unknown keys are errors), bounded
// strings and integers, so nothing unexpected gets past the door.

import { z } from "zod";
import { CHAT_MAX, normaliseText } from "./text.js";

/** Join codes and workshop ids: letters and digits without 0/O, 1/I/L (case-insensitive on input). */
export const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const ROOM_CODE_LENGTH = 6;
export const WORKSHOP_ID_LENGTH = 8;

const printable = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
/**
 * At least one character that shows: not a space, a combining mark alone, or an invisible filler
 * (U+3164 HANGUL FILLER, U+2800 BRAILLE BLANK, the default-ignorable code points).
 */
const visible = /[^\p{White_Space}\p{M}\p{Default_Ignorable_Code_Point}\u2800\u115F\u1160\u3164\uFFA0]/u;
export const playerName = z.string().trim().min(1).max(32).regex(printable, "a name of printable characters").regex(visible, "a name needs at least one visible character");
const shortText = (max: number) => z.string().trim().min(1).max(max).regex(printable, "printable characters only");
const code = (len: number) =>
  z
    .string()
    .regex(new RegExp(`^[${CODE_ALPHABET}${CODE_ALPHABET.toLowerCase()}]{${len}}$`), `a ${len}-character code`)
    .transform((s) => s.toUpperCase());
export const roomCode = code(ROOM_CODE_LENGTH);
export const workshopId = code(WORKSHOP_ID_LENGTH);
export const token = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, "a token");
export const levelId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "a level id");
const ident = z.string().regex(/^[A-Za-z_][\w-]{0,31}$/, "a name of letters, digits, _ or -");
/** A request id the client picks; the server echoes it in the ack or error. */
const rid = z.int().min(0).max(2 ** 31 - 1).optional();
/** The room sequence number the client last saw (the state its action is about). */
const seq = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const cpu = z.int().min(0).max(63);
export const side = z.enum(["red", "blue"]);
export const policy = z.enum(["manual", "eager", "adversary"]);
/** Who drives the CPUs nobody holds; the side a player or a versus bot plays for. */
export type Policy = z.infer<typeof policy>;
export type Side = z.infer<typeof side>;
/** What a step moves: a CPU by number, or the DMA device. */
export const actor = z.union([z.int().min(0).max(63), z.literal("dma")]);
export type Actor = z.infer<typeof actor>;

/** Chat: normalised at the boundary (src/protocol/text.ts), then 1-CHAT_MAX characters. */
export const chatText = z.string().max(2000).transform(normaliseText).pipe(z.string().min(1, "a message with something to show").max(CHAT_MAX, `at most ${CHAT_MAX} characters`));
/** A kernel path's id, as `CpuView.frames[].path` names it. */
const pathId = z.string().regex(/^[A-Za-z_][\w.@-]{0,63}$/, "a kernel path id");
/** A plan in the schedule syntax (README, "Schedule syntax"). */
const scheduleText = z.string().trim().min(1).max(400).regex(/^[\w:+*,\s-]+$/, "a schedule: tokens such as 1, 1+, 0:fork, d, 2*3");
export const MARK_KINDS = ["stop", "run-to"] as const;
export type MarkKind = (typeof MARK_KINDS)[number];
/** A sandbox operation's argument: a page number or count, true or false, or a word (the catalogue lists each operation's values). */
const sandboxArg = z.union([z.int().min(0).max(4095), z.boolean(), ident]);
/**
 * A sandbox scenario as the players composed it from the catalogue (the server's `sandbox`
 * message): the server turns it into a level and checks it as it checks a level file.
 */
export const sandboxScenario = z.strictObject({
  generation: z.string().regex(/^[0-9][0-9a-z.-]{0,7}$/, "a kernel generation from the sandbox catalogue"),
  machine: ident,
  memory: ident,
  child: ident,
  device: z.boolean().optional(),
  cpus: z
    .array(
      z.strictObject({
        process: ident,
        runs: z.array(z.strictObject({ op: ident, args: z.record(ident, sandboxArg).optional() })).min(1).max(16),
        /** The CPU's TLB already caches its process's mapped pages. */
        tlb: z.boolean().optional(),
      }),
    )
    .min(1)
    .max(8),
});
export type SandboxScenario = z.infer<typeof sandboxScenario>;

const msg = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.strictObject({ type: z.literal(type), rid, ...shape });

export const clientMessages = {
  hello: z.strictObject({
    type: z.literal("hello"),
    /** Every protocol version the client speaks; the server picks the highest it shares. */
    protocol: z.array(z.int().min(1).max(1000)).min(1).max(16),
    name: playerName,
    /** A resume token from an earlier `joined`: take the seat back after a drop. */
    resume: token.optional(),
  }),
  ping: z.strictObject({ type: z.literal("ping"), t: z.number().finite().optional() }),
  create: msg("create", {
    level: levelId,
    /** Who drives CPUs no player holds (default: manual for hunt levels, adversary for defend). */
    policy: policy.optional(),
    /** Versus: players pick red or blue when they claim a CPU. */
    versus: z.boolean().optional(),
    /** Create the room inside a workshop (its id is the code the instructor hands out). */
    workshop: workshopId.optional(),
    team: shortText(40).optional(),
  }),
  /** `watch`: join as a watcher, without a seat (sees everything, may not act; docs/protocol.md). */
  join: msg("join", { room: roomCode, watch: z.boolean().optional() }),
  leave: msg("leave", {}),
  claim: msg("claim", { cpu, side: side.optional() }),
  release: msg("release", { cpu }),
  step: msg("step", { seq, cpu: actor, choice: ident.optional() }),
  /** Run the CPU to its next decision: one action, however many lines it runs (docs/protocol.md). */
  run: msg("run", { seq, cpu: actor, choice: ident.optional() }),
  knob: msg("knob", { seq, knob: ident, value: ident }),
  start: msg("start", { seq }),
  hint: msg("hint", { seq }),
  rewind: msg("rewind", { seq, steps: z.int().min(1).max(10_000).optional() }),
  reset: msg("reset", { seq }),
  retry: msg("retry", { seq }),
  next: msg("next", { seq }),
  replay: msg("replay", { attempt: z.string().regex(/^[A-Z0-9]{6}-\d{1,9}$/).optional() }),
  /** `levels`: the workshop's own list of level ids (campaign or custom, from `welcome.levels`); its rooms play only these. */
  createWorkshop: msg("createWorkshop", { title: shortText(80), levels: z.array(levelId).min(1).max(64).optional() }),
  watchWorkshop: msg("watchWorkshop", { workshop: workshopId, token }),
  pauseWorkshop: msg("pauseWorkshop", { workshop: workshopId, token }),
  resumeWorkshop: msg("resumeWorkshop", { workshop: workshopId, token }),
  announce: msg("announce", { workshop: workshopId, token, text: shortText(500) }),
  releaseHint: msg("releaseHint", { workshop: workshopId, token, room: roomCode.optional() }),
  /** Say something to the room (members and spectators alike); its own rate limit (section 11). */
  chat: msg("chat", { text: chatText }),
  /** Mark a line of a CPU's listing ("stop": Enter stops before it; "run-to": Enter runs to it), or clear it ("none"). */
  mark: msg("mark", { cpu, path: pathId, pc: z.int().min(0).max(999), kind: z.enum([...MARK_KINDS, "none"]) }),
  /** Propose a plan (a schedule, or the moves of the attempt so far) to the room, or drop the room's plan. */
  plan: msg("plan", { schedule: scheduleText.optional(), record: z.literal(true).optional(), drop: z.literal(true).optional() }).refine(
    (m) => [m.schedule !== undefined, m.record !== undefined, m.drop !== undefined].filter(Boolean).length === 1,
    "exactly one of schedule, record or drop",
  ),
  /** Play the room's plan one item further: a step or a run by the sender, checked like one. */
  planStep: msg("planStep", { seq }),
  /** The instructor's chat: to every room of the workshop, or to one. */
  workshopChat: msg("workshopChat", { workshop: workshopId, token, text: chatText, room: roomCode.optional() }),
  /** The instructor mutes (or unmutes) a member of a workshop room: their chat is refused. */
  mute: msg("mute", { workshop: workshopId, token, room: roomCode, member: z.string().regex(/^[\w-]{1,32}$/, "a member id"), muted: z.boolean() }),
  /** The sandbox's catalogue: what a scenario may be made of (answer: `sandbox`). */
  sandbox: msg("sandbox", {}),
  /** Create a room on a scenario composed from the catalogue and join it (answer: `joined`). */
  createSandbox: msg("createSandbox", { scenario: sandboxScenario, policy: policy.optional() }),
  /** In a sandbox room: which oracles can still fire from here, and in how few preemptions (answer: `explorer`, to the whole room). */
  explore: msg("explore", {}),
  /** In a sandbox room: the scenario as a level file with this id (answer: `levelFile`). */
  saveSandbox: msg("saveSandbox", { id: levelId }),
} as const;

export type ClientType = keyof typeof clientMessages;
export const CLIENT_TYPES = Object.keys(clientMessages) as ClientType[];

export const clientMessage = z.discriminatedUnion(
  "type",
  Object.values(clientMessages) as unknown as [(typeof clientMessages)[ClientType], ...(typeof clientMessages)[ClientType][]],
);
export type ClientMessage = z.infer<typeof clientMessage>;
/** What a client writes (before the server's normalisation, e.g. upper-casing codes). */
export type ClientMessageInput = z.input<typeof clientMessage>;
export type ClientMessageOf<T extends ClientType> = Extract<ClientMessage, { type: T }>;

/** Game actions: they carry `seq` and are applied in arrival order, one room sequence number each. */
export const GAME_ACTIONS = ["step", "run", "knob", "start", "hint", "rewind", "reset", "retry", "next", "planStep"] as const satisfies readonly ClientType[];
/** Talk: chat, marks and plans; one per-connection budget of their own (section 11), apart from game actions. */
export const TALK_TYPES = ["chat", "mark", "plan", "workshopChat"] as const satisfies readonly ClientType[];
