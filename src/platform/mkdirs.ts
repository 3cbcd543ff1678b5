// `mkdir -p` that always ends. Node's own (mkdirSync with `recursive: true`, as
// in Node 18-22) reads ENOENT as "the parent is missing", makes the parent (which
// exists: EEXIST), and tries the child again, forever, when a parent exists but
// cannot hold children: a path under /proc, or a dangling symlink (say a data
// directory linked to an unmounted disk). `faultline` then spun at 100% CPU before
// its first screen. Here each missing directory is made once, top down, and the
// first real failure is thrown.

import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Make `dir` and its missing parents; throws the failing mkdir's error (ENOENT, EACCES, ENOTDIR, ...). */
export function mkdirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); ) {
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      // A dangling symlink "exists" to mkdir but not to existsSync: its child's mkdir then fails.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}
