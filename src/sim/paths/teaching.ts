// The tutorial's counter: a teaching example, not kernel source. It shows a
// read-modify-write that loses an update unless a spinlock covers it.

import { spinLock, spinUnlock } from "../machine.js";
import { definePath, ret, type Ctx, type Step } from "../path.js";

const LOCK = { kind: "spinlock", id: 0 } as const;
const COUNTER = 0;
const INCREMENTS = 1;

const readStep: Step = {
  line: "tmp = READ_ONCE(counter);",
  run: (x: Ctx) => {
    x.f.l.tmp = x.m.vars[COUNTER];
  },
};
const writeStep = (last: boolean): Step => ({
  line: "WRITE_ONCE(counter, tmp + 1);",
  run: (x: Ctx) => {
    const before = x.m.vars[COUNTER];
    x.m.vars[COUNTER] = (x.f.l.tmp as number) + 1;
    x.notes.push(`counter: ${before} -> ${x.m.vars[COUNTER]} (this CPU read ${x.f.l.tmp as number})`);
    // Bookkeeping for the lost-update oracle: how many increments completed.
    x.m.vars[INCREMENTS] += 1;
    if (last) return ret(0);
  },
});

definePath("counter_inc_locked", {
  name: "counter_inc",
  source: "teaching example (not kernel source)",
  generation: "any",
  steps: [
    {
      line: "spin_lock(&counter_lock);",
      run: (x) => {
        const w = spinLock(x.m, x.cpu, LOCK);
        return w ? { wait: w } : undefined;
      },
    },
    readStep,
    writeStep(false),
    {
      line: "spin_unlock(&counter_lock);",
      run: (x) => {
        spinUnlock(x.m, x.cpu, LOCK);
        return ret(0);
      },
    },
  ],
});

definePath("counter_inc_unlocked", {
  name: "counter_inc",
  source: "teaching example (not kernel source)",
  generation: "any",
  steps: [readStep, writeStep(true)],
});
