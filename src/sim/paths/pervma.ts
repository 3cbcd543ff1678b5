// Per-VMA locks (6.4, races.md R8): faults lock one VMA for read instead of
// taking mmap_lock; writers mark a VMA with vm_lock_seq = mm_lock_seq under
// mmap_write_lock, and mmap_write_unlock() releases them all at once.

import type { Config } from "../config.js";
import { kver } from "../era.js";
import { findVma } from "../machine.js";
import { call, defineVariant, definePath, goto, num, ret, type Ctx, type Step } from "../path.js";
import type { Vma } from "../types.js";

const vmaAt = (x: Ctx, mm: number, start: number): Vma => {
  const v = x.m.mms[mm].vmas.find((w) => w.start === start);
  if (!v) throw new Error(`no VMA at page ${start}`);
  return v;
};

definePath("lock_vma_under_rcu", {
  name: "lock_vma_under_rcu",
  source: "mm/memory.c",
  generation: "6.4+",
  steps: [
    {
      line: "rcu_read_lock(); vma = mas_walk(&mas); if (!vma) goto inval;",
      run: (x) => {
        const v = findVma(x.m.mms[x.c.mm], num(x.f, "va"));
        if (!v) return goto("inval");
        x.f.l.vstart = v.start;
      },
    },
    {
      line: "if (!vma_is_anonymous(vma) || !vma->anon_vma) goto inval;   /* the first fault takes mmap_lock: find_mergeable_anon_vma() looks at neighbours */",
      // A VMA removed since mas_walk (munmap, mremap) is detached: the fault falls back to mmap_lock.
      run: (x) => (x.m.mms[x.c.mm].vmas.find((w) => w.start === num(x.f, "vstart"))?.anonVma ? undefined : goto("inval")),
    },
    {
      // One line for the lock and the range re-check after it: nobody can change vm_start/vm_end while the read lock is held.
      line: "if (!vma_start_read(vma)) goto inval;   /* fails while vm_lock_seq == mm_lock_seq (write-locked) or if down_read_trylock() fails */ if (unlikely(address < vma->vm_start || address >= vma->vm_end)) goto inval_end_read;",
      run: (x) => {
        const v = x.m.mms[x.c.mm].vmas.find((w) => w.start === num(x.f, "vstart"));
        if (!v || v.detached || v.lockSeq === x.m.mms[x.c.mm].lockSeq || v.lockWriter >= 0) return goto("inval");
        // munmap may have split the VMA since mas_walk: the struct found by its start may now end below the address.
        const va = num(x.f, "va");
        if (va < v.start || va >= v.end) return goto("inval");
        v.lockReaders = [...v.lockReaders, x.cpu].sort((a, b) => a - b);
      },
    },
    { local: true, line: "rcu_read_unlock(); return vma;", run: () => ret(true) },
    { label: "inval", local: true, line: "inval: rcu_read_unlock(); return NULL;", run: () => ret(false) },
  ],
});

definePath("vma_start_write", {
  name: "vma_start_write",
  source: "include/linux/mm.h",
  generation: "6.4+",
  steps: [
    {
      line: "if (__is_vma_write_locked(vma, &mm_lock_seq)) return;   /* already write-locked in this mmap_lock cycle */",
      run: (x) => (vmaAt(x, num(x.f, "mm"), num(x.f, "start")).lockSeq === x.m.mms[num(x.f, "mm")].lockSeq ? ret(null) : undefined),
    },
    {
      line: "down_write(&vma->vm_lock->lock);   /* waits for the faults that hold it for read */",
      run: (x) => {
        const v = vmaAt(x, num(x.f, "mm"), num(x.f, "start"));
        if (v.lockReaders.length > 0 || v.lockWriter >= 0) return { wait: { kind: "vmalock", mm: num(x.f, "mm"), start: v.start } };
        v.lockWriter = x.cpu;
      },
    },
    {
      line: "vma->vm_lock_seq = mm_lock_seq; up_write(&vma->vm_lock->lock);   /* new vma_start_read() calls fail until mmap_write_unlock() */",
      run: (x) => {
        const v = vmaAt(x, num(x.f, "mm"), num(x.f, "start"));
        v.lockSeq = x.m.mms[num(x.f, "mm")].lockSeq;
        v.lockWriter = -1;
        return ret(null);
      },
    },
  ],
});

/** The x86 fault entry of 6.4+: per-VMA lock first, mmap_lock as the fallback. */
export function perVmaFaultHead(): Step[] {
  return [
    {
      local: true, line: "vma = lock_vma_under_rcu(mm, address); if (!vma) goto lock_mmap;",
      run: (x: Ctx) => call("lock_vma_under_rcu", { va: x.f.l.va }, { branch: ["vma_locked", "lock_mmap"] }),
    },
    {
      label: "vma_locked",
      local: true, line: "fault = handle_mm_fault(vma, address, flags | FAULT_FLAG_VMA_LOCK, regs);",
      run: (x: Ctx) => call("handle_pte_fault", { va: x.f.l.va, write: x.f.l.write, unshare: false }),
    },
    {
      // 6.4 and 6.5 dropped the VMA lock unconditionally; later kernels let handle_mm_fault() drop it on RETRY/COMPLETED.
      line: (cfg: Config) =>
        kver(cfg) < 609
          ? "vma_end_read(vma); if (!(fault & VM_FAULT_RETRY)) { count_vm_vma_lock_event(VMA_LOCK_SUCCESS); goto done; }"
          : "if (!(fault & (VM_FAULT_RETRY | VM_FAULT_COMPLETED))) vma_end_read(vma); return;",
      run: (x: Ctx) => {
        const v = findVma(x.m.mms[x.c.mm], num(x.f, "va")) ?? x.m.mms[x.c.mm].vmas.find((w) => w.lockReaders.includes(x.cpu));
        if (v) v.lockReaders = v.lockReaders.filter((r) => r !== x.cpu);
        return ret(null);
      },
    },
  ];
}

/** dup_mmap()'s per-VMA step in 6.5 (fb49c455323f): write-lock each parent VMA before copying it. */
export const forkVmaStartWrite = {
  line: "    vma_start_write(mpnt);   /* fb49c455323f: no per-VMA-lock fault may touch it while we copy */",
  run: (x: Ctx) => call("vma_start_write", { mm: x.f.l.old, start: x.m.mms[num(x.f, "old")].vmas[num(x.f, "i")].start }),
};

defineVariant("vma_start_write", () => "vma_start_write");
