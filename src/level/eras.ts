// What the model cannot say, refused when a level loads (issue 15 item 9): an
// operation on a kernel that did not have it, a flag on a kernel that did not
// have it, or a combination the simulator does not model. Each problem names
// the key it comes from and the versions involved; a problem a knob option
// brings is reported against that option.

import type { KernelConfig, Op } from "../sim/config.js";
import type { KnobOption } from "./schema.js";
import type { GENERATIONS } from "./schema.js";
import { condHolds, type Level, type RawOp } from "./load.js";
import { GENERATION_VERSION as GV } from "../sim/era.js";

type Generation = (typeof GENERATIONS)[number];

/** A generation as a comparable number (src/sim/era.ts). */
export const GENERATION_VERSION = GV as Record<Generation, number>;

/** The first kernel with each operation a level may run (0: every generation the format offers). */
export const OP_SINCE: Record<Op["kind"], { since: number; what: string }> = {
  load: { since: 0, what: "" },
  store: { since: 0, what: "" },
  fork: { since: 0, what: "" },
  exit: { since: 0, what: "" },
  wait_child: { since: 0, what: "" },
  munmap: { since: 0, what: "" },
  madvise: { since: 0, what: "" }, // MADV_DONTFORK 2.6.16, MADV_DONTNEED older
  get_user_pages: { since: 0, what: "" },
  vmsplice: { since: 0, what: "" }, // 2.6.17
  counter_inc: { since: 0, what: "" },
  try_to_unmap: { since: 0, what: "" },
  mremap: { since: 0, what: "" },
  pin_user_pages: { since: 506, what: "pin_user_pages() and FOLL_PIN arrived in 5.6 (eddb1c228f79)" },
  pin_user_pages_fast: { since: 506, what: "pin_user_pages_fast() and FOLL_PIN arrived in 5.6 (eddb1c228f79)" },
  uffd_unprotect: { since: 507, what: "userfaultfd write-protect (UFFDIO_WRITEPROTECT) arrived in 5.7" },
  mthp_fault: { since: 608, what: "multi-size THP anonymous faults arrived in 6.8 (a vendor tree may form blocks earlier: contpte: vendor)" },
};

export interface EraProblem {
  /** The key in the level file the problem comes from, e.g. "kernel.per_vma_lock" or "cpus[1].runs[0].pin_user_pages". */
  key: string;
  message: string;
}

function opsOf(level: Level, params: Record<string, unknown>): { key: string; op: RawOp }[] {
  const out: { key: string; op: RawOp }[] = [];
  level.programs.forEach((prog, i) =>
    prog.forEach((item, j) => {
      if ("choose" in item) item.choose.forEach((o, k) => condHolds(o.if, params) && out.push({ key: `cpus[${i}].runs[${j}].choose[${k}].${o.op.kind}`, op: o }));
      else if (condHolds(item.if, params)) out.push({ key: `cpus[${i}].runs[${j}].${item.op.kind}`, op: item });
    }),
  );
  return out;
}

/** Every reason this kernel and these operations cannot be said by the model; empty when they can. */
export function eraProblems(level: Level, k: KernelConfig, params: Record<string, unknown>, kernelKey = "kernel"): EraProblem[] {
  const out: EraProblem[] = [];
  const gen = GENERATION_VERSION[k.generation as Generation] ?? 0;
  const at = `kernel ${k.generation}`;
  const flag = (name: keyof KernelConfig, message: string) => out.push({ key: `${kernelKey}.${name}`, message });

  // Operations.
  const ops = opsOf(level, params);
  for (const { key, op } of ops) {
    const need = OP_SINCE[op.op.kind];
    if (op.op.kind === "mthp_fault" && k.contpte === "vendor") continue;
    if (gen < need.since) out.push({ key, message: `${need.what}; this level runs ${at}` });
  }
  level.machine.processes.forEach((p, i) =>
    p.vmas.forEach((vma, j) => {
      if (vma.uffd_wp && gen < 507) out.push({ key: `machine.processes[${i}].vmas[${j}].uffd_wp`, message: `userfaultfd write-protect arrived in 5.7; this level runs ${at}` });
    }),
  );

  // Flags a generation did not have.
  if (k.do_wp_page === "anon_exclusive" && gen < 519) flag("do_wp_page", `PageAnonExclusive arrived in 5.19; this level runs ${at}`);
  if (k.do_wp_page === "anon_exclusive" && (!k.early_cow_pinned || !k.write_protect_seq || !k.uffd_wp_flush)) {
    flag("do_wp_page", "PageAnonExclusive (5.19+) kernels always have the early COW, write_protect_seq and the uffd-wp flush");
  }
  if (k.do_wp_page === "page_count" && gen < 508.9) flag("do_wp_page", `reuse by page_count is 09854ba94c6a (5.9); this level runs ${at}`);
  if (k.do_wp_page === "mapcount" && gen >= 509) flag("do_wp_page", `reuse by mapcount ended with 09854ba94c6a (5.9); this level runs ${at}`);
  if (k.early_cow_pinned && gen < 506) flag("early_cow_pinned", `the early COW of pinned pages (70e806e4e645, 5.9) needs FOLL_PIN (5.6); this level runs ${at}`);
  if (k.write_protect_seq && !k.early_cow_pinned) flag("write_protect_seq", "write_protect_seq (57efa1fe5957) guards the early COW of pinned pages (70e806e4e645): give early_cow_pinned too");
  if (k.uffd_wp_flush && gen < 507) flag("uffd_wp_flush", `the uffd-wp flush needs userfaultfd write-protect (5.7); this level runs ${at}`);
  if (k.per_vma_lock && gen < 604) flag("per_vma_lock", `per-VMA locks arrived in 6.4; this level runs ${at}`);
  if (k.fork_vma_start_write && gen < 604) flag("fork_vma_start_write", `fb49c455323f (vma_start_write() in fork) is 6.4.3/6.5; this level runs ${at}`);
  if (k.fork_batch && gen < 609) flag("fork_batch", `fork batching (f8d937761d65) arrived in 6.9; this level runs ${at}`);
  if (k.contpte === "convert" && gen < 609) flag("contpte", `transparent contpte (contpte_convert) arrived in 6.9; this level runs ${at}`);
  if (k.contpte === "vendor" && k.generation !== "5.15") flag("contpte", `contpte: vendor is the Android 5.15 phone tree (races.md R1); this level runs ${at}`);
  if (k.fork_aligned_break && k.contpte !== "vendor") flag("fork_aligned_break", "the aligned lock break is the vendor tree's fix: it needs contpte: vendor");
  if (k.fork_batch && k.contpte === "vendor") flag("fork_batch", "the vendor tree copies CONT blocks itself; fork batching is mainline 6.9 (not modelled together)");
  if (k.cow_pte === "rfc-v2" && gen < 600) flag("cow_pte", `COW page tables RFC v2 was posted against 6.0; this level runs ${at}`);
  if (k.cow_pte === "hildenbrand" && gen < 519) flag("cow_pte", `David Hildenbrand's design relies on PageAnonExclusive (5.19); this level runs ${at}`);

  // Combinations the simulator does not model.
  if (k.spf !== "none" && k.per_vma_lock) flag("spf", "the speculative page fault (RFC) and per-VMA locks never shipped together, and the model does not run both (give per_vma_lock: false for an SPF kernel)");
  if (k.cow_pte !== "none") {
    const zaps = new Set<Op["kind"]>(["munmap", "exit", "mremap", "try_to_unmap"]);
    // Only an operation that may run once a fork has shared a table can reach the unmodelled code:
    // one in a child that fork creates, one after a fork on its own CPU, or one beside a forking CPU of its process.
    const forks = (i: number) => level.programs[i].some((it) => ("choose" in it ? it.choose : [it]).some((o) => o.op.kind === "fork"));
    const mayFollowFork = (key: string) => {
      const [, ci, ri] = /^cpus\[(\d+)\]\.runs\[(\d+)\]/.exec(key)!.map(Number);
      const proc = level.machine.processes.find((p) => p.name === level.cpus[ci].process)!;
      if (proc.child_of !== undefined) return true;
      if (level.programs[ci].slice(0, ri).some((it) => ("choose" in it ? it.choose : [it]).some((o) => o.op.kind === "fork"))) return true;
      return level.cpus.some((c, i) => i !== ci && c.process === level.cpus[ci].process && forks(i));
    };
    for (const { key, op } of ops.filter((o) => mayFollowFork(o.key))) {
      if (zaps.has(op.op.kind) || (op.op.kind === "madvise" && op.op.advice === "dontneed")) {
        out.push({ key, message: `zapping a COW-shared page table (cow_pte: ${k.cow_pte}) is not modelled` });
      }
      if (k.cow_pte === "rfc-v2" && (op.op.kind === "store" || op.op.kind === "pin_user_pages" || op.op.kind === "get_user_pages" || op.op.kind === "uffd_unprotect")) {
        out.push({ key, message: "a fault that breaks a COW page table under RFC v2 (handle_cow_pte) is not modelled: races.md marks it not verified" });
      }
    }
  }
  return out;
}

/** Where the kernel of one knob setting comes from: the file's kernel, and the options' set.kernel in order. */
export function kernelOf(level: Level, options: KnobOption[], presets: Record<string, Partial<KernelConfig>>): KernelConfig {
  const overrides: Partial<KernelConfig> & { generation?: string } = {};
  for (const o of options) Object.assign(overrides, o.set.kernel ?? {});
  const { generation: fileGeneration, ...fileFlags } = level.kernel;
  const { generation: knobGeneration, ...knobFlags } = overrides;
  // A knob may swap the whole kernel generation (e.g. "run the 5.19 kernel"): the file's flags then do not apply.
  const generation = knobGeneration ?? fileGeneration;
  return {
    generation,
    progress_threshold: 32,
    zap_force_flush: false,
    cow_pte: "none",
    spf: "none",
    spf_vma_recheck: true,
    contpte: "none",
    fork_batch: false,
    fork_aligned_break: false,
    ...presets[generation],
    ...(knobGeneration ? {} : defined(fileFlags)),
    ...defined(knobFlags),
  } as KernelConfig;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;
}
