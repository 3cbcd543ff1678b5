// TLB shootdown, in the machine's style (races.md F6, P5): x86 sends IPIs and
// waits for every ack; arm64 broadcasts a TLBI and waits for nobody.

import { broadcastFlush, sendFlushIpis, tlbFlushRange } from "../machine.js";
import { kver } from "../era.js";
import { defineVariant, definePath, num, ret } from "../path.js";

definePath("flush_tlb_mm_range@x86", {
  name: "flush_tlb_mm_range",
  source: "arch/x86/mm/tlb.c, kernel/smp.c",
  generation: "x86 5.12+ (4ce94eabac16: flush_tlb_multi)",
  steps: [
    {
      line: "flush_tlb_multi(mm_cpumask(mm), info);   /* smp_call_function_many_cond(): send a flush IPI to each other CPU of mm */",
      run: (x) => sendFlushIpis(x.m, x.cpu, num(x.f, "mm"), num(x.f, "start"), num(x.f, "end"), x.notes),
    },
    {
      line: "if (run_local) flush_tlb_func(info);   /* this CPU's own TLB */",
      run: (x) => tlbFlushRange(x.c, num(x.f, "mm"), num(x.f, "start"), num(x.f, "end")),
    },
    {
      line: "csd_lock_wait(csd);   /* wait until every target CPU has run flush_tlb_func() and acked */",
      run: (x) => (x.c.waitAcks.length > 0 ? { wait: { kind: "acks" } } : ret(null)),
    },
  ],
});

definePath("flush_tlb_range@arm64", {
  name: "__flush_tlb_range",
  source: "arch/arm64/include/asm/tlbflush.h",
  generation: "arm64 5.x",
  steps: [
    {
      line: "dsb(ishst); __tlbi(vale1is, addr); dsb(ish);   /* broadcast invalidate: no IPI, nobody acks */",
      run: (x) => {
        broadcastFlush(x.m, num(x.f, "mm"), num(x.f, "start"), num(x.f, "end"));
        return ret(null);
      },
    },
  ],
});

// Before 5.12 the local flush came first, then flush_tlb_others() sent the IPIs and
// smp_call_function_many(..., wait = 1) waited for them.
definePath("flush_tlb_mm_range@x86-old", {
  name: "flush_tlb_mm_range",
  source: "arch/x86/mm/tlb.c, kernel/smp.c",
  generation: "x86 4.x-5.11 (flush_tlb_others)",
  steps: [
    {
      line: "if (mm == this_cpu_read(cpu_tlbstate.loaded_mm)) { local_irq_disable(); flush_tlb_func_local(&info, TLB_LOCAL_MM_SHOOTDOWN); local_irq_enable(); }",
      run: (x) => tlbFlushRange(x.c, num(x.f, "mm"), num(x.f, "start"), num(x.f, "end")),
    },
    {
      line: "flush_tlb_others(mm_cpumask(mm), &info);   /* native_flush_tlb_others() -> smp_call_function_many(cpumask, flush_tlb_func_remote, info, 1): a flush IPI to each other CPU of mm */",
      run: (x) => sendFlushIpis(x.m, x.cpu, num(x.f, "mm"), num(x.f, "start"), num(x.f, "end"), x.notes),
    },
    {
      line: "smp_call_function_many(): for_each_cpu(cpu, cfd->cpumask) csd_lock_wait(csd);   /* wait = 1: until every target CPU has run flush_tlb_func_remote() and acked */",
      run: (x) => (x.c.waitAcks.length > 0 ? { wait: { kind: "acks" } } : ret(null)),
    },
  ],
});

defineVariant("flush_tlb", (cfg) => (cfg.shootdown === "broadcast" ? "flush_tlb_range@arm64" : kver(cfg) >= 512 ? "flush_tlb_mm_range@x86" : "flush_tlb_mm_range@x86-old"));
