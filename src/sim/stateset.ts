// An exact set of machine states for the explorer. Each state is encoded as
// a sequence of integers (strings interned), stored, and looked up by a
// 32-bit hash with a full comparison of the encodings on every hash match, so
// two states are merged only when they are identical: no lossy digest.

import type { Locals, Machine, Val } from "./types.js";

export class StateSet {
  private intern = new Map<string, number>();
  private scratch: number[] = [];
  /** Encoded states, by id. */
  private keys: Int32Array[] = [];
  private hashes: number[] = [];
  /** Open addressing: id + 1, or 0 for empty. */
  private table = new Int32Array(1 << 12);

  get size(): number {
    return this.keys.length;
  }

  /** Insert m; returns its id and whether it was new. */
  add(m: Machine): { id: number; fresh: boolean } {
    const s = this.scratch;
    s.length = 0;
    this.encode(m, s);
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < s.length; i++) {
      h ^= s[i];
      h = Math.imul(h, 0x01000193);
    }
    h >>>= 0;
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = this.table[slot];
      if (e === 0) {
        const id = this.keys.length;
        this.keys.push(Int32Array.from(s));
        this.hashes.push(h);
        this.table[slot] = id + 1;
        if (this.keys.length * 2 > this.table.length) this.grow();
        return { id, fresh: true };
      }
      const id = e - 1;
      if (this.hashes[id] === h && sameAs(this.keys[id], s)) return { id, fresh: false };
    }
  }

  private grow(): void {
    const t = new Int32Array(this.table.length * 2);
    const mask = t.length - 1;
    for (let id = 0; id < this.keys.length; id++) {
      let slot = this.hashes[id] & mask;
      while (t[slot] !== 0) slot = (slot + 1) & mask;
      t[slot] = id + 1;
    }
    this.table = t;
  }

  private str(x: string): number {
    let v = this.intern.get(x);
    if (v === undefined) {
      v = this.intern.size;
      this.intern.set(x, v);
    }
    return v;
  }

  private val(v: Val, out: number[]): void {
    if (typeof v === "number") {
      if ((v | 0) === v) out.push(0, v);
      else out.push(6, this.str(String(v)));
    }
    else if (typeof v === "boolean") out.push(v ? 1 : 2);
    else if (typeof v === "string") out.push(3, this.str(v));
    else if (v === null) out.push(4);
    else {
      out.push(5, v.length);
      for (const x of v) out.push(x);
    }
  }

  private locals(l: Locals, out: number[]): void {
    let n = 0;
    const at = out.length;
    out.push(0);
    for (const k in l) {
      const v = l[k];
      if (v === undefined) continue;
      out.push(this.str(k));
      this.val(v, out);
      n++;
    }
    out[at] = n;
  }

  /** Every field of Machine, in a fixed order, with lengths before lists. */
  private encode(m: Machine, out: number[]): void {
    out.push(m.cpus.length);
    for (const c of m.cpus) {
      out.push(c.mm, c.prog, c.irqsOff ? 1 : 0, c.needResched ? 1 : 0, c.done ? 1 : 0, c.segv ? 1 : 0);
      out.push(c.frames.length);
      for (const f of c.frames) {
        out.push(this.str(f.path), f.pc);
        this.locals(f.l, out);
      }
      out.push(c.tlb.length);
      for (const e of c.tlb) out.push(e.mm, e.va, e.pfn, e.write ? 1 : 0);
      out.push(c.ipis.length);
      for (const i of c.ipis) out.push(i.from, i.mm, i.start, i.end);
      out.push(c.waitAcks.length, ...c.waitAcks);
      const w = c.wait;
      if (!w) out.push(0);
      else if (w.kind === "spin") out.push(1, w.lock.kind === "ptl" ? 0 : 1, w.lock.kind === "ptl" ? w.lock.table : w.lock.id);
      else if (w.kind === "rwsem") out.push(2, w.mm, w.write ? 1 : 0);
      else if (w.kind === "acks") out.push(3);
      else if (w.kind === "process") out.push(4);
      else out.push(5, w.mm);
    }
    out.push(m.mms.length);
    for (const mm of m.mms) {
      out.push(this.str(mm.name), this.str(mm.state), mm.mmapLock.writer, mm.mmapLock.readers.length, ...mm.mmapLock.readers);
      out.push(mm.writeProtectSeq, mm.hasPinned ? 1 : 0, mm.lockSeq, mm.vmas.length);
      for (const v of mm.vmas) out.push(v.start, v.end, v.flags, v.anon ? 1 : 0, v.anonVma ? 1 : 0, v.seq, v.lockSeq, v.detached ? 1 : 0);
      out.push(mm.pmd.length, ...mm.pmd, mm.expect.length);
      for (const e of mm.expect) out.push(e === null ? -1 : this.str(e));
    }
    out.push(m.tables.length);
    for (const t of m.tables) {
      out.push(t.ptl, t.mm, t.refcount, t.ptes.length);
      for (const p of t.ptes) out.push(p);
    }
    out.push(m.pages.length);
    for (const p of m.pages) out.push(p.folio, p.mapcount, p.anonExclusive ? 1 : 0, this.str(p.data), this.str(p.dmabuf));
    for (const f of m.folios) {
      if (!f) out.push(-1);
      else out.push(f.nr, f.refcount, f.pincount, f.locked ? 1 : 0, f.anon ? 1 : 0);
    }
    out.push(m.pins.length);
    for (const p of m.pins) out.push(p.mm, p.va, p.pfn, p.write ? 1 : 0, p.foll_pin ? 1 : 0, p.by);
    out.push(m.dma.pin, m.dma.done ? 1 : 0, m.vars.length, ...m.vars, m.spinlocks.length, ...m.spinlocks);
  }
}

function sameAs(a: Int32Array, b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
