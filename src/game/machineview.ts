// The shared machine as the screen shows it, in kernel terms: page tables in
// 16-entry blocks with their PTE bits and CONT marks, folios, pins, locks and
// their holders, TLBs and IPIs, the DMA device. The server computes it (the
// GameView's `view`), so that every client draws the same machine from
// protocol data alone. Meaning is carried by symbols and words, never colour.

import type { MachineView } from "../protocol/server.js";
import type { Config } from "../sim/config.js";
import { GUP_PIN_COUNTING_BIAS } from "../sim/machine.js";
import { pte_cont, pte_none, pte_present, pte_write, pteString, tlbEntryString } from "../sim/pte.js";
import { VM_DONTCOPY, VM_READ, VM_SHARED, VM_WRITE, type Machine, type Mm, type RwSem } from "../sim/types.js";

/** Entries per drawn block (a PTE table with more entries is drawn as several blocks). */
export const BLOCK = 16;

type TableView = MachineView["tables"][number];
type PteBlock = TableView["blocks"][number];

export const cpuTag = (m: Machine, i: number): string => (i >= 0 && m.cpus[i] ? `CPU${i} (${m.cpus[i].name})` : "nobody");

function rwsemText(m: Machine, s: RwSem): string {
  if (s.writer >= 0) return `write-held by ${cpuTag(m, s.writer)}`;
  if (s.readers.length) return `read-held by ${s.readers.map((r) => cpuTag(m, r)).join(", ")}`;
  return "free";
}


export function pteChar(pte: number): string {
  if (pte_none(pte)) return "·";
  if (!pte_present(pte)) return "s";
  return pte_write(pte) ? "w" : "r";
}

export function pteBlocks(ptes: readonly number[]): PteBlock[] {
  const out: PteBlock[] = [];
  for (let base = 0; base < ptes.length; base += BLOCK) {
    const slice = ptes.slice(base, base + BLOCK);
    const strip = slice.map(pteChar).join("");
    const cont = slice.some(pte_cont) ? slice.map((p) => (pte_cont(p) ? "=" : " ")).join("").trimEnd() : null;
    const entries = slice.flatMap((p, i) => (pte_none(p) ? [] : [`${base + i}: ${pteString(p)}`]));
    out.push({ base, strip, cont, entries });
  }
  return out;
}

function tableOwner(m: Machine, id: number): { mm: Mm | null; slot: number; sharers: string[] } {
  const sharers: string[] = [];
  let slot = -1;
  for (const mm of m.mms) {
    const s = mm.pmd.indexOf(id);
    if (s >= 0) {
      sharers.push(mm.name);
      if (slot < 0) slot = s;
    }
  }
  const t = m.tables[id];
  return { mm: t.mm >= 0 ? m.mms[t.mm] : null, slot, sharers };
}

export function tableViews(m: Machine, cfg: Config | null): TableView[] {
  const ptrs = cfg?.ptrs ?? m.tables[0]?.ptes.length ?? BLOCK;
  const out: TableView[] = [];
  m.tables.forEach((t, id) => {
    if (t.mm < 0) return; // freed
    const { mm, slot, sharers } = tableOwner(m, id);
    const range = slot >= 0 ? ` pages ${slot * ptrs}-${slot * ptrs + ptrs - 1}` : "";
    const who = sharers.length > 1 ? `${sharers.join(" + ")} (shared)` : (mm?.name ?? "?");
    const bits = [`PTL ${t.ptl >= 0 ? `held by ${cpuTag(m, t.ptl)}` : "free"}`, `refcount ${t.refcount}`, ...(t.cowExclusive ? ["COW_PTE_OWNER_EXCLUSIVE"] : [])];
    out.push({ id, title: `table ${id}: ${who}${range}, ${bits.join(", ")}`, blocks: pteBlocks(t.ptes) });
  });
  return out;
}

function pinsOn(m: Machine, head: number, nr: number) {
  const on = m.pins.filter((p) => p.pfn >= head && p.pfn < head + nr);
  return { pins: on.filter((p) => p.foll_pin).length, gets: on.filter((p) => !p.foll_pin).length };
}

export function folioLines(m: Machine, cfg: Config | null): string[] {
  const showAE = cfg ? cfg.kernel.do_wp_page === "anon_exclusive" : m.pages.some((p) => p.anonExclusive);
  const out: string[] = [];
  m.folios.forEach((f, pfn) => {
    if (!f) return;
    const page = m.pages[pfn];
    // The zero page is always there; show it only once someone maps it.
    if (pfn === 0 && !f.anon && page.mapcount === 0 && f.refcount <= 1) return;
    const { pins, gets } = pinsOn(m, pfn, f.nr);
    const head = `pfn ${pfn}${f.nr > 1 ? `-${pfn + f.nr - 1}` : ""}${f.anon ? "" : pfn === 0 ? " (zero page)" : " (file)"}`;
    // A small folio's pin is counted in its refcount (a bias of 1024) before GUP records the pin: that pin is in flight.
    const bias = f.nr === 1 ? Math.floor(f.refcount / GUP_PIN_COUNTING_BIAS) : 0;
    const flight = bias > pins ? bias - pins : 0;
    const parts = [
      `refcount ${f.refcount}${bias ? ` (pin bias ${bias} x ${GUP_PIN_COUNTING_BIAS})` : ""}`,
      `mapcount ${page.mapcount}`,
      ...(showAE ? [`AnonExclusive ${page.anonExclusive ? "✓" : "✗"}`] : []),
      `pins ${pins}${f.nr > 1 ? ` (pincount ${f.pincount})` : ""}${flight ? ` + ${flight} in flight (the bias is taken, GUP has not recorded the pin yet)` : ""}`,
      ...(gets ? [`FOLL_GET refs ${gets}`] : []),
      ...(f.locked ? ["PG_locked"] : []),
      `data "${page.data}"`,
      ...(page.dmabuf ? [`DMA buffer "${page.dmabuf}"`] : []),
    ];
    out.push(`${head}: ${parts.join(", ")}`);
  });
  return out;
}

export function pinLines(m: Machine): string[] {
  return m.pins.map(
    (p, i) =>
      `#${i} ${p.foll_pin ? "FOLL_PIN" : "FOLL_GET"} by ${cpuTag(m, p.by)} on pfn ${p.pfn} (${m.mms[p.mm]?.name ?? "?"} page ${p.va}, ${p.write ? "write" : "read-only"}), saw "${p.data}"`,
  );
}

export function lockLines(m: Machine, cfg: Config | null): string[] {
  const out: string[] = [];
  m.spinlocks.forEach((h, i) => out.push(`${cfg?.lockNames[i] ?? `spinlock ${i}`}: ${h >= 0 ? `held by ${cpuTag(m, h)}` : "free"}`));
  m.tables.forEach((t, i) => {
    if (t.mm >= 0) out.push(`PTL of table ${i}: ${t.ptl >= 0 ? `held by ${cpuTag(m, t.ptl)}` : "free"}`);
  });
  m.mms.forEach((mm) => {
    if (mm.state === "alive" || mm.state === "forking") out.push(`mmap_lock of ${mm.name}: ${rwsemText(m, mm.mmapLock)}`);
  });
  m.folios.forEach((f, pfn) => {
    if (f?.locked) out.push(`page lock of pfn ${pfn}: held`);
  });
  return out;
}

function vmaText(v: Mm["vmas"][number]): string {
  const flags = `${v.flags & VM_READ ? "r" : "-"}${v.flags & VM_WRITE ? "w" : "-"}${v.flags & VM_SHARED ? "s" : "p"}`;
  const extra = [v.anon ? "anon" : "file", ...(v.flags & VM_DONTCOPY ? ["VM_DONTCOPY"] : []), ...(v.detached ? ["detached"] : [])];
  return `${v.start}-${v.end - 1} ${flags} ${extra.join(" ")}`;
}

export function mmLines(m: Machine): string[] {
  return m.mms.map((mm) => {
    if (mm.state === "unborn") return `${mm.name}: not forked yet`;
    if (mm.state === "dead") return `${mm.name}: exited`;
    const wp = `write_protect_seq ${mm.writeProtectSeq}${mm.writeProtectSeq % 2 ? " (odd: fork in progress)" : ""}`;
    const parts = [mm.state === "forking" ? "being forked" : "alive", `VMAs ${mm.vmas.map(vmaText).join("; ") || "none"}`, wp, ...(mm.hasPinned ? ["MMF_HAS_PINNED"] : [])];
    return `${mm.name}: ${parts.join(", ")}`;
  });
}

export function cpuLines(m: Machine): string[] {
  return m.cpus.map((c, i) => {
    const tlb = c.tlb.length ? c.tlb.map((e) => tlbEntryString(m.mms[e.mm]?.name ?? String(e.mm), e)).join("; ") : "empty";
    const parts = [`TLB ${tlb}`, `IRQs ${c.irqsOff ? "off" : "on"}`];
    if (c.ipis.length) parts.push(`flush IPI pending from ${c.ipis.map((p) => `CPU${p.from}`).join(", ")}`);
    if (c.waitAcks.length) parts.push(`waiting for acks from ${c.waitAcks.map((t) => cpuTag(m, t)).join(", ")}`);
    return `${cpuTag(m, i)}: ${parts.join(", ")}`;
  });
}

export function dmaLine(m: Machine, cfg: Config | null, dma: { ready: boolean; done: boolean } | null): string | null {
  if (!dma) return null;
  const payload = cfg?.dmaPayload ? ` "${cfg.dmaPayload}"` : "";
  if (dma.done) return `DMA device: done (wrote${payload})`;
  const pin = m.dma.pin >= 0 ? m.pins[m.dma.pin] : null;
  if (!pin) return `DMA device: waiting for a pinned buffer (will write${payload})`;
  return `DMA device: ready to write${payload} into pfn ${pin.pfn} (pin #${m.dma.pin}, ${m.mms[pin.mm]?.name ?? "?"} page ${pin.va})`;
}

export function varLines(m: Machine, cfg: Config | null): string[] {
  return m.vars.map((v, i) => `${cfg?.varNames[i] ?? `var${i}`} = ${v}`);
}

export function machineView(m: Machine, cfg: Config | null, dma: { ready: boolean; done: boolean } | null): MachineView {
  return {
    vars: varLines(m, cfg),
    mms: mmLines(m),
    tables: tableViews(m, cfg),
    folios: folioLines(m, cfg),
    pins: pinLines(m),
    locks: lockLines(m, cfg),
    cpus: cpuLines(m),
    dma: dmaLine(m, cfg, dma),
  };
}

