// Kernel generations as comparable numbers, for lines that changed between
// versions (a displayed line must be the line of the generation it names).

import type { Config } from "./config.js";

/** major * 100 + minor; 5.9-rc (the trial series of August 2020) sits just below 5.9; 6.x is "recent mainline". */
export const GENERATION_VERSION: Record<string, number> = {
  "4.19": 419,
  "5.8": 508,
  "5.9-rc": 508.9,
  "5.9": 509,
  "5.11": 511,
  "5.12": 512,
  "5.15": 515,
  "5.19": 519,
  "6.0": 600,
  "6.4": 604,
  "6.5": 605,
  "6.9": 609,
  "6.x": 699,
};

export const kver = (cfg: Config): number => GENERATION_VERSION[cfg.kernel.generation] ?? 699;

/**
 * Before 5.8 the mmap lock was taken as the rw_semaphore mmap_sem itself; 5.8 added the
 * mmap_*lock() wrappers (and renamed the field mmap_lock). Lines are written with the wrappers.
 */
export function mmapSemEra(cfg: Config, line: string): string {
  if (kver(cfg) >= 508) return line;
  return line
    .replace(/mmap_write_lock_killable\(([^()]+)\)/g, "down_write_killable(&$1->mmap_sem)")
    .replace(/mmap_read_lock\(([^()]+)\)/g, "down_read(&$1->mmap_sem)")
    .replace(/mmap_read_unlock\(([^()]+)\)/g, "up_read(&$1->mmap_sem)")
    .replace(/mmap_write_unlock\(([^()]+)\)/g, "up_write(&$1->mmap_sem)")
    .replace(/\bmmap_lock\b/g, "mmap_sem");
}
