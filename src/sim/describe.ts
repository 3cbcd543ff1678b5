// What a step changed, in kernel terms, for the step listing and the event log.

import type { Config } from "./config.js";
import { pteString, tlbEntryString } from "./pte.js";
import { VM_DONTCOPY, type Machine } from "./types.js";

const cpuName = (cfg: Config, i: number) => `CPU${i}`;

export function describeChanges(cfg: Config, a: Machine, b: Machine): string[] {
  const out: string[] = [];
  // Locks.
  b.tables.forEach((t, i) => {
    const before = a.tables[i];
    if (!before) {
      out.push(`new PTE table ${i} for ${b.mms[t.mm]?.name ?? "?"}`);
      if (t.ptl >= 0) out.push(`${cpuName(cfg, t.ptl)} takes the PTL of table ${i}`);
    } else {
      if (before.ptl !== t.ptl) out.push(t.ptl >= 0 ? `${cpuName(cfg, t.ptl)} takes the PTL of table ${i}` : `${cpuName(cfg, before.ptl)} drops the PTL of table ${i}`);
      if (before.refcount !== t.refcount && t.mm >= 0) out.push(`table ${i}: refcount ${before.refcount} -> ${t.refcount}${t.refcount > 1 ? " (shared)" : ""}`);
      if (!before.cowExclusive && t.cowExclusive) out.push(`table ${i} marked COW_PTE_OWNER_EXCLUSIVE`);
    }
  });
  b.spinlocks.forEach((h, i) => {
    if (a.spinlocks[i] !== h) out.push(h >= 0 ? `${cpuName(cfg, h)} takes ${cfg.lockNames[i]}` : `${cfg.lockNames[i]} released`);
  });
  b.mms.forEach((mm, i) => {
    const o = a.mms[i];
    if (!o) {
      out.push(`new mm ${mm.name}`);
      return;
    }
    const ls = (s: typeof mm.mmapLock) => (s.writer >= 0 ? `write-held by CPU${s.writer}` : s.readers.length ? `read-held by ${s.readers.map((r) => "CPU" + r).join(", ")}` : "free");
    if (ls(o.mmapLock) !== ls(mm.mmapLock)) out.push(`mmap_lock of ${mm.name}: ${ls(o.mmapLock)} -> ${ls(mm.mmapLock)}`);
    if (o.state !== mm.state) out.push(`${mm.name}: ${o.state} -> ${mm.state}`);
    mm.pmd.forEach((t, slot) => {
      // A PMD that now points at a table that already existed: a COW-shared or COW-broken table.
      if (t >= 0 && o.pmd[slot] !== t && a.tables[t]) out.push(`${mm.name}: PMD ${slot} -> table ${t}${b.tables[t].refcount > 1 ? " (shared)" : ""}`);
      if (!!o.pmdWrprotect[slot] !== !!mm.pmdWrprotect[slot]) out.push(`${mm.name}: PMD ${slot} ${mm.pmdWrprotect[slot] ? "write-protected" : "writable again"}`);
    });
    if (o.hasPinned !== mm.hasPinned) out.push(`${mm.name}: MMF_HAS_PINNED set`);
    if (o.writeProtectSeq !== mm.writeProtectSeq) out.push(`${mm.name}: write_protect_seq ${o.writeProtectSeq} -> ${mm.writeProtectSeq}${mm.writeProtectSeq % 2 ? " (odd: fork is write-protecting)" : ""}`);
    if (vmas(o.vmas, o.lockSeq) !== vmas(mm.vmas, mm.lockSeq)) out.push(`${mm.name}: VMAs ${vmas(o.vmas, o.lockSeq)} -> ${vmas(mm.vmas, mm.lockSeq)}`);
  });
  // PTEs, by owner and virtual page.
  b.tables.forEach((t, i) => {
    const o = a.tables[i];
    t.ptes.forEach((pte, j) => {
      const old = o ? o.ptes[j] : 0;
      if (old === pte) return;
      const owner = t.mm >= 0 ? b.mms[t.mm] : o && o.mm >= 0 ? a.mms[o.mm] : null;
      const slot = owner ? owner.pmd.indexOf(i) : -1;
      const where = owner && slot >= 0 ? `${owner.name} page ${slot * cfg.ptrs + j}` : `table ${i}[${j}]`;
      out.push(`PTE ${where}: ${pteString(old)} -> ${pteString(pte)}`);
    });
  });
  // Pages and folios.
  b.pages.forEach((p, pfn) => {
    const o = a.pages[pfn];
    if (o.folio < 0 && p.folio >= 0) out.push(`pfn ${pfn} allocated`);
    if (o.folio >= 0 && p.folio < 0) {
      out.push(`pfn ${pfn} freed`);
      return;
    }
    if (p.folio < 0) return;
    const fo = a.folios[pfn];
    const fn = b.folios[pfn];
    if (fo && fn && fo.refcount !== fn.refcount) out.push(`pfn ${pfn}: refcount ${fo.refcount} -> ${fn.refcount}`);
    if (fo && fn && fo.locked !== fn.locked) out.push(`pfn ${pfn}: page lock ${fn.locked ? "taken" : "released"}`);
    if (o.folio >= 0 && o.mapcount !== p.mapcount) out.push(`pfn ${pfn}: mapcount ${o.mapcount} -> ${p.mapcount}`);
    if (o.anonExclusive !== p.anonExclusive) out.push(`pfn ${pfn}: PageAnonExclusive ${p.anonExclusive ? "set" : "cleared"}`);
    if (o.data !== p.data) out.push(`pfn ${pfn}: data "${o.data}" -> "${p.data}"`);
    if (o.dmabuf !== p.dmabuf) out.push(`pfn ${pfn}: DMA buffer "${o.dmabuf}" -> "${p.dmabuf}"`);
  });
  b.pins.slice(a.pins.length).forEach((p) => out.push(`${p.foll_pin ? "FOLL_PIN" : "FOLL_GET"} reference on pfn ${p.pfn} for ${b.mms[p.mm].name} page ${p.va}`));
  b.vars.forEach((v, i) => {
    if (a.vars[i] !== v) out.push(`${cfg.varNames[i]} = ${v}`);
  });
  // CPUs: IRQs, TLBs, IPIs.
  b.cpus.forEach((c, i) => {
    const o = a.cpus[i];
    if (o.irqsOff !== c.irqsOff) out.push(`${cpuName(cfg, i)}: IRQs ${c.irqsOff ? "off" : "on"}`);
    const tl = (e: (typeof c.tlb)[number]) => tlbEntryString(b.mms[e.mm]?.name ?? String(e.mm), e);
    const before = new Set(o.tlb.map(tl));
    const after = new Set(c.tlb.map(tl));
    for (const e of after) if (!before.has(e)) out.push(`${cpuName(cfg, i)} TLB + ${e}`);
    for (const e of before) if (!after.has(e)) out.push(`${cpuName(cfg, i)} TLB - ${e}`);
    if (c.ipis.length > o.ipis.length) out.push(`${cpuName(cfg, i)}: flush IPI pending (IRQs off, cannot ack)`);
    if (c.waitAcks.length !== o.waitAcks.length || c.waitAcks.some((x, k) => o.waitAcks[k] !== x)) {
      out.push(`${cpuName(cfg, i)} waits for acks from: ${c.waitAcks.length ? c.waitAcks.map((x) => "CPU" + x).join(", ") : "nobody"}`);
    }
    if (!o.done && c.done) out.push(`${cpuName(cfg, i)} ${c.segv ? "killed by SIGSEGV" : "finished"}`);
  });
  if (!a.dma.done && b.dma.done) out.push("DMA done");
  return out;
}

function vmas(vs: Machine["mms"][number]["vmas"], mmLockSeq: number): string {
  return (
    "[" +
    vs
      .map((v) => {
        const tags = [
          v.flags & VM_DONTCOPY ? "DONTCOPY" : "",
          v.detached ? "detached" : "",
          v.lockReaders.length ? `read-locked by ${v.lockReaders.map((r) => "CPU" + r).join(", ")}` : "",
          v.lockSeq === mmLockSeq ? "write-locked" : "",
          v.anonVma ? "" : "no anon_vma",
        ].filter(Boolean);
        return `${v.start}-${v.end - 1}${tags.length ? " " + tags.join(" ") : ""}`;
      })
      .join(", ") +
    "]"
  );
}
