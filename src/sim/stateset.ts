// An exact set of machine states for the explorer. Each state is encoded as
// a sequence of integers (strings interned), stored, and looked up by a
// 32-bit hash with a full comparison of the encodings on every hash match, so
// two states are merged only when they are identical: no lossy digest.

import type { Locals, Machine, Val } from "./types.js";

export class StateSet {
  private intern = new Map<string, number>();
  private buf = new Int32Array(4096);
  private n = 0;
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
    const { h, slot, id } = this.probe(m);
    if (id >= 0) return { id, fresh: false };
    const fresh = this.keys.length;
    this.keys.push(this.buf.slice(0, this.n));
    this.hashes.push(h);
    this.table[slot] = fresh + 1;
    if (this.keys.length * 2 > this.table.length) this.grow();
    return { id: fresh, fresh: true };
  }

  /** The id of m if it is in the set, else -1 (nothing is inserted). */
  find(m: Machine): number {
    return this.probe(m).id;
  }

  /** Encode m into buf, hash it, and find its id or the empty slot where it would go (id -1). */
  private probe(m: Machine): { h: number; slot: number; id: number } {
    this.n = 0;
    this.encode(m);
    if (this.n > this.buf.length) {
      // Writes past the end were dropped (typed arrays ignore them): grow, encode again.
      this.buf = new Int32Array(this.n * 2);
      this.n = 0;
      this.encode(m);
    }
    const s = this.buf;
    const n = this.n;
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < n; i++) {
      h = Math.imul(h ^ s[i], 0x01000193);
    }
    h = (h ^ (h >>> 15)) >>> 0;
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = this.table[slot];
      if (e === 0) return { h, slot, id: -1 };
      const id = e - 1;
      if (this.hashes[id] === h && sameAs(this.keys[id], s, n)) return { h, slot, id };
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

  /** No bounds check: add() re-encodes into a larger buffer when n overran it. */
  private w(x: number): void {
    this.buf[this.n++] = x;
  }

  private list(xs: readonly number[]): void {
    this.w(xs.length);
    for (let i = 0; i < xs.length; i++) this.w(xs[i]);
  }

  private val(v: Val): void {
    if (typeof v === "number") {
      if ((v | 0) === v) {
        this.w(0);
        this.w(v);
      } else {
        this.w(6);
        this.w(this.str(String(v)));
      }
    } else if (typeof v === "boolean") this.w(v ? 1 : 2);
    else if (typeof v === "string") {
      this.w(3);
      this.w(this.str(v));
    } else if (v === null) this.w(4);
    else {
      this.w(5);
      this.list(v);
    }
  }

  private locals(l: Locals): void {
    const at = this.n;
    this.w(0);
    let count = 0;
    for (const k in l) {
      const v = l[k];
      if (v === undefined) continue;
      this.w(this.str(k));
      this.val(v);
      count++;
    }
    this.buf[at] = count;
  }

  /** Every field of Machine, in a fixed order, with lengths before lists. */
  private encode(m: Machine): void {
    const w = (x: number) => this.w(x);
    w(m.cpus.length);
    for (const c of m.cpus) {
      w(c.mm);
      w(c.prog);
      w((c.irqsOff ? 1 : 0) | (c.needResched ? 2 : 0) | (c.done ? 4 : 0) | (c.segv ? 8 : 0));
      w(c.frames.length);
      for (const f of c.frames) {
        w(this.str(f.path));
        w(f.pc);
        this.locals(f.l);
      }
      w(c.tlb.length);
      for (const e of c.tlb) {
        w(e.mm);
        w(e.va);
        w(e.pfn);
        w((e.write ? 1 : 0) | (e.cont ? 2 : 0));
      }
      w(c.ipis.length);
      for (const i of c.ipis) {
        w(i.from);
        w(i.mm);
        w(i.start);
        w(i.end);
      }
      this.list(c.waitAcks);
      const x = c.wait;
      if (!x) w(0);
      else if (x.kind === "spin") {
        w(1);
        w(x.lock.kind === "ptl" ? x.lock.table : -1 - x.lock.id);
      } else if (x.kind === "rwsem") {
        w(2);
        w(x.mm * 2 + (x.write ? 1 : 0));
      } else if (x.kind === "acks") w(3);
      else if (x.kind === "process") w(4);
      else if (x.kind === "child") {
        w(5);
        w(x.mm);
      } else {
        w(6);
        w(x.mm);
        w(x.start);
      }
    }
    w(m.mms.length);
    for (const mm of m.mms) {
      w(this.str(mm.name));
      w(this.str(mm.state));
      w(mm.mmapLock.writer);
      this.list(mm.mmapLock.readers);
      w(mm.mmapLock.waiters.length);
      for (const q of mm.mmapLock.waiters) w(q.write ? -1 - q.cpu : q.cpu);
      w(mm.writeProtectSeq);
      w(mm.hasPinned ? 1 : 0);
      w(mm.lockSeq);
      w(mm.tlbFlushPending);
      w(mm.vmas.length);
      for (const v of mm.vmas) {
        w(v.start);
        w(v.end);
        w(v.flags);
        w((v.anon ? 1 : 0) | (v.anonVma ? 2 : 0) | (v.detached ? 4 : 0));
        w(v.seq);
        w(v.lockSeq);
        this.list(v.lockReaders);
        w(v.lockWriter);
        w(v.forkCopying);
        w(v.changedDuringFork ? 1 : 0);
      }
      this.list(mm.pmd);
      w(mm.pmdWrprotect.length);
      for (const b of mm.pmdWrprotect) w(b ? 1 : 0);
      w(mm.expect.length);
      for (const e of mm.expect) w(e === null ? -1 : this.str(e));
    }
    w(m.tables.length);
    for (const t of m.tables) {
      w(t.ptl);
      w(t.mm);
      w(t.refcount);
      w(t.cowExclusive ? 1 : 0);
      this.list(t.ptes);
    }
    w(m.pages.length);
    for (let i = 0; i < m.pages.length; i++) {
      const p = m.pages[i];
      w(p.folio);
      w(p.mapcount);
      w(p.anonExclusive ? 1 : 0);
      w(this.str(p.data));
      w(this.str(p.dmabuf));
      const f = m.folios[i];
      if (!f) w(-1);
      else {
        w(f.nr);
        w(f.refcount);
        w(f.pincount);
        w((f.locked ? 1 : 0) | (f.anon ? 2 : 0));
      }
    }
    w(m.pins.length);
    for (const p of m.pins) {
      w(p.mm);
      w(p.va);
      w(p.pfn);
      w((p.write ? 1 : 0) | (p.foll_pin ? 2 : 0));
      w(p.by);
      w(this.str(p.data));
    }
    w(m.dma.pin);
    w(m.dma.done ? 1 : 0);
    this.list(m.vars);
    this.list(m.spinlocks);
    const keys = Object.keys(m.lockQueues).sort();
    w(keys.length);
    for (const k of keys) {
      w(this.str(k));
      this.list(m.lockQueues[k]);
    }
    if (!m.hw) w(-1);
    else {
      w(this.str(m.hw.oracle));
      w(this.str(m.hw.message));
    }
  }
}

function sameAs(a: Int32Array, b: Int32Array, n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
