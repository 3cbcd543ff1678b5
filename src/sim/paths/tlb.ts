// TLB shootdown, in the machine's style (races.md F6, P5): x86 sends IPIs and
// waits for every ack; arm64 broadcasts a TLBI and waits for nobody.

import { broadcastFlush, sendFlushIpis, tlbFlushRange } from "../machine.js";
import { defineVariant, definePath, num, ret } from "../path.js";

definePath("flush_tlb_mm_range@x86", {
  name: "flush_tlb_mm_range",
  source: "arch/x86/mm/tlb.c, kernel/smp.c",
  generation: "x86 5.x",
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

defineVariant("flush_tlb", (cfg) => (cfg.shootdown === "broadcast" ? "flush_tlb_range@arm64" : "flush_tlb_mm_range@x86"));
