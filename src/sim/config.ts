// A level compiled for one knob setting: everything the pure step function
// needs besides the machine state. Immutable during a game.

export type DoWpPage = "mapcount" | "page_count" | "anon_exclusive";
export type Shootdown = "ipi-ack" | "broadcast";

/** Kernel behaviour, one flag per variant a level may choose. */
export interface KernelConfig {
  /** Shown to the player, e.g. "5.9-rc5". */
  generation: string;
  /** do_wp_page's reuse rule: pre-5.9 mapcount, 5.9-5.18 page_count, 5.19+ PageAnonExclusive. */
  do_wp_page: DoWpPage;
  /** 70e806e4e645: fork copies maybe-DMA-pinned anon pages at once. */
  early_cow_pinned: boolean;
  /** 57efa1fe5957 (5.11): fork brackets the copy with mm->write_protect_seq. */
  write_protect_seq: boolean;
  /** 17839856fd58 (5.8, "COW can break either way"): GUP on a COW mapping breaks COW first. */
  gup_force_cow_break: boolean;
  /** copy_pte_range's lock-break threshold (32 in the kernel; levels may scale it). */
  progress_threshold: number;
  /** zap_pte_range flushes the TLB before dropping the PTL (force_flush). */
  zap_force_flush: boolean;
  /** The speculative page fault (RFC) and how pte_map_lock() takes the PTL; "none": no SPF. */
  spf: "none" | "spin" | "abort" | "retry" | "max_try" | "fail";
  /** pte_map_lock() re-checks vma_has_changed() after taking the PTL. */
  spf_vma_recheck: boolean;
  /** Per-VMA locks (6.4): user faults try lock_vma_under_rcu() before mmap_lock. */
  per_vma_lock: boolean;
  /** fb49c455323f (6.5; 6.4.3 has it with CONFIG_PER_VMA_LOCK off): dup_mmap() calls vma_start_write() on every parent VMA. */
  fork_vma_start_write: boolean;
  /** 6ce64428d620 (5.12): do_wp_page flushes the TLB first when userfaultfd-wp deferred a flush. */
  uffd_wp_flush: boolean;
  /** COW page tables at fork: none (mainline), the RFC v2 patches, or David Hildenbrand's proposed design. */
  cow_pte: "none" | "rfc-v2" | "hildenbrand";
  /**
   * Who sets the arm64 CONT bit and how a block changes shape:
   * none: no CONT bits (x86, or arm64 without contpte);
   * vendor: core mm sets and copies CONT itself (the Android phone tree of races.md R1);
   * convert: transparent contpte (6.9+): contpte_convert() does break-before-make;
   * in_place / no_tlbi / in_place_tlbi: what contpte_convert() would be missing a part of it.
   */
  contpte: "none" | "vendor" | "convert" | "in_place" | "no_tlbi" | "in_place_tlbi";
  /** f8d937761d65 (6.9): copy_pte_range() batches a large folio's PTEs (copy_present_ptes + folio_pte_batch). */
  fork_batch: boolean;
  /** The vendor fix (races.md R1): copy_pte_range() breaks only at a block-aligned address. */
  fork_aligned_break: boolean;
}

/** A user or kernel operation a CPU runs (a level `runs` entry). */
export type Op =
  | { kind: "load"; page: number }
  | { kind: "store"; page: number; value: string }
  | { kind: "fork" }
  | { kind: "exit" }
  | { kind: "wait_child" }
  | { kind: "munmap"; page: number; pages: number }
  | { kind: "madvise"; page: number; pages: number; advice: "dontfork" | "dontneed" }
  | { kind: "pin_user_pages"; page: number; write: boolean }
  | { kind: "get_user_pages"; page: number; write: boolean }
  | { kind: "pin_user_pages_fast"; page: number; write: boolean }
  | { kind: "vmsplice"; page: number }
  | { kind: "uffd_unprotect"; page: number }
  | { kind: "counter_inc"; lock: boolean }
  | { kind: "mthp_fault"; page: number }
  | { kind: "try_to_unmap"; page: number }
  | { kind: "mremap"; page: number; pages: number; to: number };


/** One item of a CPU's program: an operation, or a menu the player chooses from. */
export type ProgramItem = { op: Op; label: string } | { choose: { op: Op; label: string }[] };

export interface CpuConfig {
  name: string;
  program: ProgramItem[];
  /** Index of the process (and mm) the CPU's task runs in. */
  process: number;
  /** Runs its program again forever (a background stream of work, e.g. other lockers of a PTL). */
  loop: boolean;
}

export interface Config {
  kernel: KernelConfig;
  shootdown: Shootdown;
  /** Entries per PTE table. */
  ptrs: number;
  cpus: CpuConfig[];
  /** What the DMA device writes, or null when the level has no device. */
  dmaPayload: string | null;
  varNames: string[];
  lockNames: string[];
  processNames: string[];
  /** For each process: the process whose fork creates it, or -1 for one that exists at the start. */
  parents: number[];
}
