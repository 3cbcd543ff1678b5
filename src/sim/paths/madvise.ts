// madvise(MADV_DONTFORK): the user-space fix for R5 that RDMA libraries use.

import { upWrite } from "../machine.js";
import { definePath, num, ret, mmapLockStep } from "../path.js";
import { VM_DONTCOPY } from "../types.js";
import { splitVmas } from "./unmap.js";

definePath("madvise_dontfork", {
  name: "do_madvise",
  source: "mm/madvise.c",
  generation: "5.x",
  steps: [
    mmapLockStep("if (write) { if (mmap_write_lock_killable(current->mm)) return -EINTR; }", true),
    {
      line: "vma = find_vma_prev(current->mm, start, &prev); ... case MADV_DONTFORK: new_flags |= VM_DONTCOPY;   /* madvise_behavior(), split_vma() if partial */",
      run: (x) => {
        for (const v of splitVmas(x.m.mms[x.c.mm], num(x.f, "start"), num(x.f, "end"))) v.flags |= VM_DONTCOPY;
      },
    },
    {
      line: "mmap_write_unlock(current->mm); return 0;",
      run: (x) => {
        upWrite(x.m, x.cpu, x.c.mm);
        return ret(0);
      },
    },
  ],
});
