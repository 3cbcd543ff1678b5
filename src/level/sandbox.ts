// The sandbox (issue 18, part 4): players compose a scenario in the game (a kernel generation,
// a machine, a starting memory, what each CPU runs) and hunt in it with every invariant oracle
// watching. The catalogue says what a scenario may be made of; a scenario becomes a level file's
// text, and that text is loaded by the level loader like any file (parseLevel, then compileLevel):
// the rules of the format have one home, and what the sandbox adds here is only its own bounds
// (the limits, and each argument's values) so that no scenario can make the explorer blow up.

import { createHash } from "node:crypto";
import { Document, isMap, isSeq, type Node } from "yaml";
import type { SandboxScenario } from "../protocol/client.js";
import type { SandboxCatalogue } from "../protocol/server.js";
import { ORACLE_IDS, ORACLES, type OracleId } from "../sim/oracles.js";
import { compileLevel, PRESETS } from "./compile.js";
import { OP_SINCE } from "./eras.js";
import { LevelError, OP_ARGS, OP_KINDS, parseLevel, type Level } from "./load.js";
import { GENERATIONS } from "./schema.js";

export type { SandboxScenario } from "../protocol/client.js";

/** How big a scenario may be: CPUs, operations per CPU and in all, and the explorer's state budget for it (bench/sandbox.json). */
export const SANDBOX_LIMITS = { cpus: 3, opsPerCpu: 3, ops: 6, states: 300_000 } as const;

/** Every invariant oracle (the tutorial's milestones are not bugs, and would end every hunt at once). */
export const SANDBOX_ORACLES: OracleId[] = ORACLE_IDS.filter((id) => ORACLES[id].kind === "invariant");

/** A level built from a scenario carries it (the room saves it again under another id). */
export interface SandboxLevel extends Level {
  sandbox: SandboxScenario;
}

export const isSandbox = (level: Level): level is SandboxLevel => (level as Partial<SandboxLevel>).sandbox !== undefined;

/** A scenario that breaks the sandbox's own bounds (the level loader's refusals are LevelErrors). */
export class SandboxError extends Error {}

// ------------------------------------------------------------------ the catalogue's parts

const MACHINES = [
  { id: "x86", shootdown: "ipi-ack", text: "x86: a TLB shootdown sends flush IPIs and waits for every CPU's ack (a CPU with IRQs off cannot ack)" },
  { id: "arm64", shootdown: "broadcast", text: "arm64: a TLB shootdown is a broadcast TLBI instruction; nobody acks" },
] as const;

interface Memory {
  id: string;
  text: string;
  vmas: { start: number; pages: number; uffd_wp?: boolean }[];
  pages: { page: number; data: string; refs?: number; nr?: 4 }[];
}

const MEMORIES: Memory[] = [
  { id: "one-page", text: "P has one private anonymous page: page 0, holding \"data\"", vmas: [{ start: 0, pages: 1 }], pages: [{ page: 0, data: "data" }] },
  { id: "two-pages", text: "P has two private pages: page 0 holding \"data\", page 1 holding \"buf\" (one page table, one PTL)", vmas: [{ start: 0, pages: 2 }], pages: [{ page: 0, data: "data" }, { page: 1, data: "buf" }] },
  { id: "lru-ref", text: "P has page 0 holding \"data\", with one extra reference held elsewhere (a per-CPU LRU cache): page_count is 2 while mapcount is 1", vmas: [{ start: 0, pages: 1 }], pages: [{ page: 0, data: "data", refs: 1 }] },
  { id: "uffd-wp", text: "P has page 0 holding \"data\" (and an LRU reference) in a VMA registered for userfaultfd write-protect (5.7+)", vmas: [{ start: 0, pages: 1, uffd_wp: true }], pages: [{ page: 0, data: "data", refs: 1 }] },
  { id: "large-folio", text: "P has an 8-page VMA: pages 0-3 are one 4-page large folio holding \"blk\", pages 4-7 are empty (an mTHP fault fills a block there)", vmas: [{ start: 0, pages: 8 }], pages: [{ page: 0, data: "blk", nr: 4 }] },
];

const CHILDREN = [
  { id: "none", text: "no child: one process, P" },
  { id: "forked", text: "C exists from the start: P forked it a moment ago (every page shared read-only, mapcount 2)" },
  { id: "fork", text: "C is made by P's first fork during play; its CPUs wait until then" },
] as const;

const PROCESSES = [
  { id: "P", text: "the parent, P" },
  { id: "C", text: "the child, C (needs a child)" },
] as const;

/** Each argument's values in the sandbox (the format allows more; the sandbox keeps the state space small). */
const ARG_VALUES: Record<string, (number | boolean | string)[]> = {
  page: [0, 1, 4],
  pages: [1, 2, 4],
  to: [8],
  value: ["x", "y"],
  write: [true, false],
  lock: [true, false],
  advice: ["dontneed", "dontfork"],
};

/** What each operation runs, in kernel terms (levels/README.md, "Operations"). */
const OP_TEXT: Record<string, string> = {
  load: "a user read through the TLB; a miss walks the PTE; a fault enters do_user_addr_fault",
  store: "a user write through the TLB; a read-only or missing PTE faults (do_wp_page, COW)",
  fork: "kernel_clone -> dup_mmap -> copy_page_range: the child gets copies of the page tables",
  wait_child: "wait4(): sleep until the child exits",
  exit: "exit_mmap: the process tears its memory down (last operation; its process has only this CPU)",
  munmap: "__do_munmap -> zap_pte_range, TLB flush, free",
  madvise: "MADV_DONTNEED zaps the range under mmap_read_lock; MADV_DONTFORK sets VM_DONTCOPY",
  pin_user_pages: "slow GUP with FOLL_PIN (+1024 references), with FOLL_WRITE when write",
  get_user_pages: "slow GUP with FOLL_GET (+1 reference), with FOLL_WRITE when write",
  pin_user_pages_fast: "GUP-fast with FOLL_PIN: the lockless walk with IRQs off, falling back to slow GUP",
  vmsplice: "vmsplice_to_pipe -> GUP-fast FOLL_GET: the pipe keeps a read reference",
  uffd_unprotect: "mwriteprotect_range: userfaultfd write-unprotect; clears the write bit, defers the TLB flush",
  counter_inc: "the teaching counter: tmp = counter; counter = tmp + 1, with or without spin_lock",
  mthp_fault: "the mTHP anonymous fault: a 4-page folio mapped with one set_ptes() at the aligned block around page",
  try_to_unmap: "try_to_unmap_one: reclaim clears one PTE (ptep_clear_flush) and leaves a swap entry",
  mremap: "mremap moving [page, page+pages) to `to`: move_ptes clears each source entry and sets each destination entry",
};

const WP_RULE = {
  mapcount: "a write fault reuses a page mapped once (mapcount)",
  page_count: "a write fault reuses a page only when page_count is 1",
  anon_exclusive: "a write fault reuses a PageAnonExclusive page; a read-only pin unshares first",
} as const;

/** A generation in words, from what its preset does (compile.ts PRESETS): one home for the flags. */
function generationText(g: (typeof GENERATIONS)[number]): string {
  const p = PRESETS[g];
  const parts: string[] = [WP_RULE[p.do_wp_page]];
  if (p.gup_force_cow_break) parts.push("GUP breaks COW first");
  if (p.early_cow_pinned) parts.push("fork copies a maybe-pinned page at once");
  if (p.write_protect_seq) parts.push("fork bumps write_protect_seq");
  if (p.per_vma_lock) parts.push(p.fork_vma_start_write ? "per-VMA locks, fork write-locks each VMA" : "per-VMA locks, fork does not write-lock VMAs");
  if (p.fork_batch) parts.push("fork batches a large folio's PTEs");
  const what = g === "5.9-rc" ? " (the trial series of August 2020)" : g === "5.15" ? " (the Android vendor tree)" : g === "6.x" ? " (recent mainline)" : "";
  return `${g}${what}: ${parts.join("; ")}`;
}

/** A version number of eras.ts (major * 100 + minor) as a kernel version; undefined for 0 (every generation). */
const sinceText = (version: number): string | undefined => (version === 0 ? undefined : `${Math.floor(version / 100)}.${version % 100}`);

/** A scenario the catalogue offers to start from: the vmsplice attack of races.md R7 on 4.19. */
const EXAMPLE: SandboxScenario = {
  generation: "4.19",
  machine: "x86",
  memory: "one-page",
  child: "forked",
  cpus: [
    { process: "P", runs: [{ op: "store", args: { page: 0, value: "x" } }] },
    { process: "C", runs: [{ op: "vmsplice", args: { page: 0 } }, { op: "munmap", args: { page: 0, pages: 1 } }] },
  ],
};

let catalogueCache: SandboxCatalogue | null = null;

/** What a scenario may be made of, in words: the `sandbox` message's catalogue. */
export function sandboxCatalogue(): SandboxCatalogue {
  return (catalogueCache ??= {
    generations: GENERATIONS.map((g) => ({ id: g, text: generationText(g) })),
    machines: MACHINES.map((m) => ({ id: m.id, text: m.text })),
    memories: MEMORIES.map((m) => ({ id: m.id, text: m.text })),
    children: CHILDREN.map((c) => ({ id: c.id, text: c.text })),
    processes: PROCESSES.map((p) => ({ id: p.id, text: p.text })),
    device: { text: "a DMA device that writes \"dma\" into the first page a CPU pins with pin_user_pages (step it as the DMA actor)" },
    operations: OP_KINDS.map((op) => {
      const since = sinceText(OP_SINCE[op].since);
      return {
        op,
        text: OP_TEXT[op] ?? op,
        ...(since ? { since } : {}),
        args: Object.keys(OP_ARGS[op]).map((name) => ({ name, values: ARG_VALUES[name] })),
      };
    }),
    oracles: SANDBOX_ORACLES.map((id) => ({ id, title: ORACLES[id].title })),
    limits: { ...SANDBOX_LIMITS },
    example: EXAMPLE,
  });
}

// ------------------------------------------------------------------ scenario -> level file

/** The sandbox's own bounds: the limits, and each argument's values (the loader checks the rest). */
function checkBounds(sc: SandboxScenario): void {
  const L = SANDBOX_LIMITS;
  if (sc.cpus.length > L.cpus) throw new SandboxError(`cpus: a sandbox scenario has at most ${L.cpus} CPUs (this one has ${sc.cpus.length})`);
  const total = sc.cpus.reduce((n, c) => n + c.runs.length, 0);
  if (total > L.ops) throw new SandboxError(`cpus: a sandbox scenario runs at most ${L.ops} operations in all (this one runs ${total})`);
  sc.cpus.forEach((c, i) => {
    if (c.runs.length > L.opsPerCpu) throw new SandboxError(`cpus[${i}].runs: a sandbox CPU runs at most ${L.opsPerCpu} operations (this one runs ${c.runs.length})`);
    c.runs.forEach((r, j) => {
      for (const [name, v] of Object.entries(r.args ?? {})) {
        const values = ARG_VALUES[name];
        if (values && !values.includes(v)) throw new SandboxError(`cpus[${i}].runs[${j}].${r.op}.${name}: the sandbox offers ${values.map((x) => JSON.stringify(x)).join(", ")} (got ${JSON.stringify(v)})`);
      }
    });
  });
  for (const [key, value, list] of [
    ["machine", sc.machine, MACHINES],
    ["memory", sc.memory, MEMORIES],
    ["child", sc.child, CHILDREN],
  ] as const) {
    if (!(list as readonly { id: string }[]).some((x) => x.id === value)) throw new SandboxError(`${key}: no ${key} "${value}" in the sandbox (offered: ${list.map((x) => x.id).join(", ")})`);
  }
}

/** The same scenario, the same id: a room on it shares the solved game with every other. */
export function sandboxId(sc: SandboxScenario): string {
  const canon = JSON.stringify(sc, (_, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
  return `sandbox-${createHash("sha256").update(canon).digest("hex").slice(0, 10)}`;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;

/** A CPU's program in words: "store(page=0, value=x), munmap(page=0, pages=1)". */
function programText(c: SandboxScenario["cpus"][number]): string {
  return c.runs.map((r) => `${r.op}${r.args && Object.keys(r.args).length ? `(${Object.entries(r.args).map(([k, v]) => `${k}=${String(v)}`).join(", ")})` : ""}`).join(", ");
}

/** What the file claims, from the explorer: the verdict, and par in preemptions when the race is reachable. */
export type SandboxClaims = { verdict: "reachable"; preemptions: number } | { verdict: "safe" } | null;

/**
 * The scenario as a level file (YAML). `claims` adds what the explorer found, so that
 * `faultline lint` agrees with the file; without them the file states no verdict.
 */
export function sandboxText(sc: SandboxScenario, opts: { id?: string; claims?: SandboxClaims } = {}): string {
  checkBounds(sc);
  const id = opts.id ?? sandboxId(sc);
  const machine = MACHINES.find((m) => m.id === sc.machine)!;
  const memory = MEMORIES.find((m) => m.id === sc.memory)!;
  const names: string[] = [];
  const cpuName = (proc: string) => {
    let k = 1;
    while (names.includes(`${proc}${k}`)) k++;
    names.push(`${proc}${k}`);
    return `${proc}${k}`;
  };
  const counter = sc.cpus.some((c) => c.runs.some((r) => r.op === "counter_inc"));
  const processes: Record<string, unknown>[] = [{ name: "P", vmas: memory.vmas.map((v) => ({ ...v })), pages: memory.pages.map((p) => ({ ...p })) }];
  if (sc.child === "forked") processes.push({ name: "C", forked_from: "P" });
  if (sc.child === "fork") processes.push({ name: "C", child_of: "P" });
  const cpus = sc.cpus.map((c) => {
    const cpu: Record<string, unknown> = { name: cpuName(c.process), process: c.process };
    if (c.tlb) {
      const mapped = sc.child === "fork" && c.process === "C" ? [] : memory.pages.flatMap((p) => Array.from({ length: p.nr ?? 1 }, (_, k) => p.page + k));
      cpu.tlb = mapped;
    }
    cpu.runs = c.runs.map((r) => (r.args && Object.keys(r.args).length ? { [r.op]: { ...r.args } } : r.op));
    return cpu;
  });
  const described = sc.cpus.map((c, i) => `${names[i]} (in ${c.process}): ${programText(c)}`);
  const file: Record<string, unknown> = {
    id,
    title: `Sandbox: ${sc.generation} on ${sc.machine}, ${plural(sc.cpus.length, "CPU")}`,
    race: "mixed",
    mode: "hunt",
    seed: null,
    thread: null,
    label: "teaching",
    kernel: { generation: sc.generation },
    machine: {
      shootdown: machine.shootdown,
      frames: 16,
      processes,
      ...(counter ? { globals: { counter: 0 }, locks: ["counter_lock"] } : {}),
    },
    cpus,
    ...(sc.device ? { device: { dma: { writes: "dma" } } } : {}),
    goal: { oracle: [...SANDBOX_ORACLES], ...(opts.claims?.verdict === "safe" ? { expect: "safe" } : {}) },
    ...(opts.claims?.verdict === "reachable" ? { preemptions: opts.claims.preemptions } : {}),
    // Words true in a sandbox room and in a saved file served as a custom level (no sandbox keys).
    hints: [
      "Every invariant oracle watches this machine: look for two CPUs whose lines touch the same page, PTE, reference count or lock, and for the line between which the other CPU must run.",
      "A preemption is a switch away from a CPU that could still run: the fewest any race here needs is how many of your switches must land in the right place.",
    ],
    intro: [
      `A scenario composed in the sandbox: kernel ${sc.generation} on ${machine.text}.`,
      `Memory: ${memory.text}.${sc.child !== "none" ? ` ${CHILDREN.find((c) => c.id === sc.child)!.text}.` : ""}${sc.device ? " A DMA device writes the first page a CPU pins." : ""}`,
      ...described,
      "Every invariant oracle watches: make any of them fire.",
    ].join("\n"),
    debrief: opts.id === undefined || opts.id === sandboxId(sc)
      ? "This was a sandbox scenario. Save it as a level file (S) to keep it: faultline lint checks it, and faultline serve --levels offers it to a class."
      : "A scenario composed in the Faultline sandbox: every invariant oracle watched, and the first to fire ended the hunt.",
  };
  const doc = new Document(file);
  // Short maps and lists on one line, as the campaign's files write them.
  const flow = (n: unknown, depth: number) => {
    if (!isMap(n) && !isSeq(n)) return;
    const items = n.items as unknown[];
    if (depth >= 2) (n as Node & { flow?: boolean }).flow = true;
    for (const it of items) {
      const v = isMap(n) ? (it as { value?: unknown }).value : it;
      flow(v, depth + 1);
    }
  };
  for (const key of ["kernel", "goal"]) (doc.get(key, true) as Node & { flow?: boolean }).flow = true;
  flow(doc.getIn(["machine", "processes"], true), 1);
  flow(doc.get("cpus", true), 0);
  doc.commentBefore =
    ` ${id}: a scenario saved from the Faultline sandbox.\n` +
    ` Check it with: faultline lint ${id}.yaml   Serve it with: faultline serve --levels DIR\n` +
    ` Rewrite the title, hints, intro and debrief, and narrow goal.oracle to the race you teach (levels/README.md).`;
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true });
}

/**
 * The scenario as a level: its file text loaded by the level loader and compiled, so every rule
 * of the format applies. Throws SandboxError (the sandbox's bounds) or LevelError (the format's),
 * each message naming the scenario's part ("cpus[1].runs[0].pin_user_pages: ...").
 */
export function sandboxLevel(sc: SandboxScenario): SandboxLevel {
  const id = sandboxId(sc);
  const file = `${id}.yaml`;
  const text = sandboxText(sc, { id });
  let level: Level;
  try {
    level = parseLevel(file, text);
    compileLevel(level);
  } catch (e) {
    if (e instanceof LevelError) throw new LevelError(e.message.split("\n").map((l) => l.replace(`${file}: `, "")).join("\n"));
    throw e;
  }
  return { ...level, source: "sandbox", sandbox: sc };
}
