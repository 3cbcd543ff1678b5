// The level file format (YAML), validated with zod. levels/README.md documents
// every key; keep the two in step.

import { z } from "zod";
import { ORACLE_IDS } from "../sim/oracles.js";

export const RACE_IDS = ["basics", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "mixed"] as const;
export const GENERATIONS = ["4.19", "5.8", "5.9-rc", "5.9", "5.11", "5.12", "5.15", "5.19", "6.0", "6.4", "6.5", "6.9", "6.x"] as const;

const name = z.string().regex(/^[A-Za-z][\w-]*$/, "a name of letters, digits, _ or -, starting with a letter");
const page = z.int().min(0).max(4095);
const scalar = z.union([z.boolean(), z.number(), z.string()]);

const kernelFlags = {
  do_wp_page: z.enum(["mapcount", "page_count", "anon_exclusive"]).optional(),
  early_cow_pinned: z.boolean().optional(),
  write_protect_seq: z.boolean().optional(),
  gup_force_cow_break: z.boolean().optional(),
  progress_threshold: z.int().min(1).max(1024).optional(),
  zap_force_flush: z.boolean().optional(),
  cow_pte: z.enum(["none", "rfc-v2", "hildenbrand"]).optional(),
  uffd_wp_flush: z.boolean().optional(),
  spf: z.enum(["none", "spin", "abort", "retry", "max_try", "fail"]).optional(),
  spf_vma_recheck: z.boolean().optional(),
  per_vma_lock: z.boolean().optional(),
  fork_vma_start_write: z.boolean().optional(),
  contpte: z.enum(["none", "vendor", "convert", "in_place", "no_tlbi", "in_place_tlbi"]).optional(),
  fork_batch: z.boolean().optional(),
  fork_aligned_break: z.boolean().optional(),
};

export const kernelSchema = z.strictObject({
  generation: z.enum(GENERATIONS),
  ...kernelFlags,
});
export const kernelOverrideSchema = z.strictObject({ generation: z.enum(GENERATIONS).optional(), ...kernelFlags });

const vmaSchema = z.strictObject({
  start: page,
  pages: z.int().min(1).max(64),
  write: z.boolean().default(true),
  /** Registered with userfaultfd for write-protect (VM_UFFD_WP). */
  uffd_wp: z.boolean().default(false),
});

const populatedSchema = z.strictObject({
  page,
  data: z.string().min(1).max(32),
  /** Extra references held elsewhere (e.g. a per-CPU LRU cache), on top of the mapping's; a `$param` lets a knob set it. */
  refs: z.union([z.int().min(0).max(8), z.string().regex(/^\$[A-Za-z][\w-]*$/, "a number of references (0-8) or a $param")]).default(0),
  /** 4: a large folio mapped at page..page+3 (page aligned to 4); CONT on arm64 contpte kernels. */
  nr: z.union([z.literal(1), z.literal(4)]).default(1),
});

const processSchema = z.strictObject({
  name,
  child_of: name.optional(),
  /** Exists at the start as a child that P's fork has just created (pages shared read-only). */
  forked_from: name.optional(),
  vmas: z.array(vmaSchema).default([]),
  pages: z.array(populatedSchema).default([]),
});

const cpuSchema = z.strictObject({
  name,
  process: name,
  /** Operations, in order (see levels/README.md for each). */
  runs: z.array(z.unknown()).min(1),
  irqs_off: z.boolean().default(false),
  need_resched: z.boolean().default(false),
  /** Warm TLB entries, filled from the PTEs at the start. */
  tlb: z.array(page).default([]),
  /** Run the program again forever: a background stream of work (it never finishes). */
  loop: z.boolean().default(false),
  /** Versus levels: red CPUs try to trigger the race, blue ones must finish safely. */
  side: z.enum(["red", "blue"]).optional(),
});

/**
 * What `set.machine` may change. The processes, their VMAs and pages, the globals and the locks are
 * the level's one memory layout: the loader refuses them by name (see load.ts), and a `$param`
 * (an operation's argument, `if:`, or a page's `refs`) is the way to vary them.
 */
export const machineOverrideSchema = z.strictObject({
  shootdown: z.enum(["ipi-ack", "broadcast"]).optional(),
  frames: z.int().min(2).max(64).optional(),
  table_entries: z.int().min(4).max(64).optional(),
  processes: z.unknown().optional(),
  globals: z.unknown().optional(),
  locks: z.unknown().optional(),
});

const knobOptionSchema = z.strictObject({
  value: name,
  label: z.string().min(1),
  expect: z.enum(["safe", "reachable"]),
  /** What the fix costs (lock hold time, copies, retries), in points taken off a win. */
  cost: z.int().min(0).max(500).default(0),
  explain: z.string().optional(),
  set: z
    .strictObject({
      kernel: kernelOverrideSchema.optional(),
      params: z.record(z.string(), scalar).optional(),
      /** Machine properties a knob may change (x86 IPI shootdown vs arm64 broadcast, the frames, the table size). */
      machine: machineOverrideSchema.optional(),
    })
    .default({}),
});

const knobSchema = z.strictObject({
  id: name,
  prompt: z.string().min(1),
  options: z.array(knobOptionSchema).min(2),
});

export const levelSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and -"),
  title: z.string().min(1),
  race: z.enum(RACE_IDS),
  /** hunt: make the goal fire; defend: choose a fix; versus: red CPUs hunt, blue CPUs must finish safely (checked like a hunt). */
  mode: z.enum(["hunt", "defend", "versus"]),
  seed: z.string().regex(/^\d{3}_[0-9a-f]+\.txt$/, "a file name in shared/seeds, like 004_2ca8e14a342d9231.txt").nullable(),
  thread: z
    .strictObject({
      subject: z.string().min(1),
      date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD"),
      message_id: z.string().optional(),
    })
    .nullable(),
  label: z.enum(["mainline", "historical", "vendor", "RFC", "teaching"]),
  kernel: kernelSchema,
  machine: z.strictObject({
    shootdown: z.enum(["ipi-ack", "broadcast"]),
    frames: z.int().min(2).max(64),
    table_entries: z.int().min(4).max(64).default(16),
    processes: z.array(processSchema).min(1),
    globals: z.strictObject({ counter: z.int() }).optional(),
    locks: z.array(name).default([]),
  }),
  params: z.record(name, scalar).default({}),
  cpus: z.array(cpuSchema).min(1).max(8),
  device: z.strictObject({ dma: z.strictObject({ writes: z.string().min(1).max(32) }) }).optional(),
  knobs: z.array(knobSchema).default([]),
  /** Who drives the CPUs no player claims, unless the room says otherwise (default: manual for hunt, adversary for defend). */
  bots: z.enum(["manual", "eager", "adversary"]).optional(),
  goal: z.strictObject({
    oracle: z.union([z.enum(ORACLE_IDS), z.array(z.enum(ORACLE_IDS)).min(1)], { error: `an oracle id, or a list of them: one of ${ORACLE_IDS.join(", ")}` }),
    expect: z.enum(["safe", "reachable"]).optional(),
    /** Defend levels with several knobs: the verdict for combinations the per-option rule gets wrong (first match wins). */
    expect_when: z.array(z.strictObject({ knobs: z.record(z.string(), z.string()), expect: z.enum(["safe", "reachable"]) })).default([]),
  }),
  /** The shortest triggering schedule in steps (lines): a claim verify checks. */
  par: z.int().min(1).optional(),
  /** Par: the fewest preemptions of any schedule that triggers the race (hunt, versus); verify checks it. */
  preemptions: z.int().min(0).optional(),
  hints: z.array(z.string().min(1)).min(2).max(3),
  intro: z.string().min(1),
  debrief: z.string().min(1),
});

export type LevelFile = z.infer<typeof levelSchema>;
export type KnobOption = LevelFile["knobs"][number]["options"][number];
