// The simulated machine: plain, JSON-serialisable data. Nothing here holds a
// function, a class instance, a clock or a random source, so a state can be
// hashed, cloned, sent over the network and replayed bit for bit.

/** A locals value inside a kernel-path frame. */
export type Val = number | boolean | string | null | number[];
export type Locals = Record<string, Val>;

/** One activation of a kernel path on a CPU's stack. */
export interface Frame {
  /** Resolved path id, e.g. "do_wp_page@5.9". */
  path: string;
  /** Index of the next step to run. */
  pc: number;
  l: Locals;
}

/** Why a CPU that was stepped could not run its line (it stays at that line). */
export type Wait =
  | { kind: "spin"; lock: LockRef }
  | { kind: "rwsem"; mm: number; write: boolean }
  | { kind: "acks" }
  | { kind: "process" }
  | { kind: "child"; mm: number }
  | { kind: "vmalock"; mm: number; start: number };

/** A lock the machine knows: a page table's PTL, or a named teaching lock. */
export type LockRef = { kind: "ptl"; table: number } | { kind: "spinlock"; id: number };

/**
 * A cached translation in one CPU's TLB. A `cont` entry is the one block
 * entry the arm64 walker may cache for a whole contiguous block: it covers
 * [va, va + CONT_PTES) with pfn..pfn + CONT_PTES - 1 (va and pfn aligned).
 */
export interface TlbEntry {
  mm: number;
  va: number;
  pfn: number;
  write: boolean;
  cont: boolean;
}

/** A broken hardware rule, recorded when it happens (races.md INV-CONT, INV-TLB). */
export interface HwFault {
  oracle: "tlb-conflict" | "cont-misprogrammed";
  message: string;
}

/** A TLB-shootdown IPI not yet handled because the target had IRQs off. */
export interface PendingIpi {
  from: number;
  mm: number;
  start: number;
  end: number;
}

export interface Cpu {
  name: string;
  /** The mm this CPU's task runs in; -1 before its process exists or after exit. */
  mm: number;
  /** Index of the next item of this CPU's program (level `runs`). */
  prog: number;
  /** Kernel-path stack; empty between operations. */
  frames: Frame[];
  irqsOff: boolean;
  needResched: boolean;
  tlb: TlbEntry[];
  ipis: PendingIpi[];
  /** CPUs whose acknowledgement of this CPU's IPI is still awaited. */
  waitAcks: number[];
  /** Set when the CPU was stepped and could not proceed. */
  wait: Wait | null;
  done: boolean;
  /** The task was killed (SIGSEGV). */
  segv: boolean;
}

export interface RwSem {
  writer: number; // CPU id or -1
  readers: number[]; // CPU ids, sorted
  /**
   * Sleeping waiters in arrival order. Linux rwsems are fair: a new reader
   * queues behind a waiting writer instead of starving it.
   */
  waiters: { cpu: number; write: boolean }[];
}

/** VMA flags (a subset, kernel names). */
export const VM_READ = 1;
export const VM_WRITE = 2;
export const VM_SHARED = 8;
export const VM_MAYWRITE = 0x20;
/** Registered for userfaultfd write-protect (VM_UFFD_WP). */
export const VM_UFFD_WP = 0x1000;
export const VM_DONTCOPY = 0x20000;

export interface Vma {
  start: number; // first virtual page
  end: number; // one past the last virtual page
  flags: number;
  anon: boolean;
  anonVma: boolean;
  /** vm_sequence (SPF) / a change counter. */
  seq: number;
  /** Per-VMA lock sequence (vm_lock_seq): equal to mm_lock_seq while write-locked. */
  lockSeq: number;
  /** vma->vm_lock: CPUs holding it for read (per-VMA-lock faults), and a writer or -1. */
  lockReaders: number[];
  lockWriter: number;
  detached: boolean;
  /** The CPU whose fork is copying this VMA (between anon_vma_fork and copy_page_range's end), or -1. */
  forkCopying: number;
  /** Witness: another CPU changed this VMA's PTEs or anon_vma while fork copied it. */
  changedDuringFork: boolean;
}

/** unborn: a declared child not forked yet; forking: dup_mmap is filling it; alive; dead: exited. */
export type MmState = "unborn" | "forking" | "alive" | "dead";

export interface Mm {
  name: string;
  state: MmState;
  mmapLock: RwSem;
  /** mm->write_protect_seq: odd while fork write-protects. */
  writeProtectSeq: number;
  /** MMF_HAS_PINNED (5.9: mm->has_pinned). Never cleared. */
  hasPinned: boolean;
  vmas: Vma[];
  /** pmd[i] = id of the PTE table covering pages [i*PTRS, (i+1)*PTRS), or -1. */
  pmd: number[];
  /** pmd[i] is write-protected (a COW-shared page table). */
  pmdWrprotect: boolean[];
  /** What this process last stored at each virtual page (null: nothing). Oracle shadow. */
  expect: (string | null)[];
  /** mm_lock_seq (per-VMA locks). */
  lockSeq: number;
  /** mm->tlb_flush_pending: PTE changes whose TLB flush has not happened yet. */
  tlbFlushPending: number;
}

export interface PteTable {
  /** PTEs encoded as numbers (see pte.ts). */
  ptes: number[];
  /** The page-table lock: holder CPU or -1. */
  ptl: number;
  /** Owning mm, or -1 once freed. */
  mm: number;
  /** Page-table refcount: above 1 when COW page tables share it between mms. */
  refcount: number;
  /** COW_PTE_OWNER_EXCLUSIVE (COW page-table RFC v2): never share this table. */
  cowExclusive: boolean;
}

/** struct page: per page-frame state. */
export interface Page {
  /** Head pfn of the folio this page belongs to, or -1 when free. */
  folio: number;
  mapcount: number;
  /** PageAnonExclusive. */
  anonExclusive: boolean;
  /** The word user code loads and stores. */
  data: string;
  /** The buffer area a DMA device writes. */
  dmabuf: string;
}

/** struct folio: lives at its head pfn. */
export interface Folio {
  nr: number;
  refcount: number;
  /** _pincount: used for large folios only (small folios count pins in refcount). */
  pincount: number;
  locked: boolean;
  anon: boolean;
}

/** An active FOLL_PIN (or FOLL_GET) reference taken for a user address. */
export interface Pin {
  mm: number;
  va: number;
  pfn: number;
  write: boolean;
  /** true: FOLL_PIN (+1024); false: FOLL_GET (+1). */
  foll_pin: boolean;
  by: number;
  /** The page's data when the reference was taken (what the holder saw). */
  data: string;
}

export interface Dma {
  /** Index into pins of the buffer the device targets, or -1. */
  pin: number;
  done: boolean;
}

export interface Machine {
  cpus: Cpu[];
  mms: Mm[];
  tables: PteTable[];
  pages: Page[];
  /** Indexed by head pfn; null for tail and free frames. */
  folios: (Folio | null)[];
  pins: Pin[];
  dma: Dma;
  /** Teaching globals (tutorial levels). */
  vars: number[];
  /** Teaching spinlocks: holder CPU or -1. */
  spinlocks: number[];
  /**
   * Spinlock waiters in arrival order, by lock ("t3" = PTL of table 3, "s0" =
   * teaching lock 0); empty queues are absent. Linux spinlocks (qspinlock)
   * are FIFO: the head waiter gets a released lock before anyone new.
   */
  lockQueues: Record<string, number[]>;
  /** The first broken hardware rule (contpte), or null. */
  hw: HwFault | null;
}

/** One scheduling decision: step CPU `cpu` (choosing from its menu if it has one), or the DMA device. */
export type Action = { cpu: number; choice?: string } | { dma: true };
