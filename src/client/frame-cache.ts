// Ink's output stage keeps its caches across frames.
//
// Why: Ink (6.8) turns every line of every frame into styled cells with
// @alcalzone/ansi-tokenize, which walks the line grapheme by grapheme with
// Intl.Segmenter, about 1 µs a character: 4-5 ms of a dense 120×40 game frame
// (bench/client.ts). Ink caches those cells, but on the frame's Output, so the
// cache dies with the frame, while from one step to the next most lines of the
// screen are unchanged. Here the three lookups of Ink's OutputCaches consult a
// process-wide cache first, so a frame pays only for the lines that changed.
//
// It is safe because what is cached is a pure function of the line (its width,
// its styled cells) and Ink never mutates the cells it gets back (it copies
// references into the frame's grid and reads them). The cache keeps the lines
// of the last two generations of LIMIT distinct lines: bounded memory.
//
// OutputCaches is internal to Ink (its package exports only the entry), so it is
// reached through an Output instance, next to Ink's resolved entry. If Ink's
// internals change shape, installFrameCache() leaves Ink alone and returns false: frames
// are then slower, never different. test/client/frame-cache.test.tsx checks that
// it is installed on the Ink we lock and that it never changes a frame.

const LIMIT = 4096;

/** A map that forgets the lines not seen for two generations of LIMIT insertions. */
class TwoGenerations<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  get(k: string): V | undefined {
    const v = this.young.get(k);
    if (v !== undefined) return v;
    const o = this.old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }

  set(k: string, v: V): void {
    if (this.young.size >= LIMIT) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(k, v);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

type Lookup<V> = (this: unknown, text: string) => V;
interface CachesProto {
  getStyledChars: Lookup<unknown>;
  getStringWidth: Lookup<number>;
  getWidestLine: Lookup<number>;
}

let installed: boolean | null = null;
/** Off: every lookup goes to the frame's own cache, as in Ink alone (for the benchmark's comparison and tests). */
let active = true;
const shared = { styled: new TwoGenerations<unknown>(), width: new TwoGenerations<number>(), widest: new TwoGenerations<number>() };

/** Lines held by the process-wide cache (for tests and the benchmark). */
export const frameCacheSize = (): number => shared.styled.size + shared.width.size + shared.widest.size;

/** Forget every line (the next frame starts cold) and turn the shared cache on or off. */
export function resetFrameCache(on = true): void {
  shared.styled = new TwoGenerations();
  shared.width = new TwoGenerations();
  shared.widest = new TwoGenerations();
  active = on;
}

/** Install once, before the first frame. Returns whether Ink's caches now persist across frames. */
export async function installFrameCache(): Promise<boolean> {
  if (installed !== null) return installed;
  installed = false;
  try {
    const mod = (await import(new URL("./output.js", import.meta.resolve("ink")).href)) as { default?: new (o: { width: number; height: number }) => { caches?: object } };
    const Output = mod.default;
    if (typeof Output !== "function") return false;
    const caches = new Output({ width: 1, height: 1 }).caches;
    const proto = caches ? (Object.getPrototypeOf(caches) as Partial<CachesProto>) : null;
    if (!proto || typeof proto.getStyledChars !== "function" || typeof proto.getStringWidth !== "function" || typeof proto.getWidestLine !== "function") return false;
    proto.getStyledChars = persist(proto.getStyledChars, () => shared.styled);
    proto.getStringWidth = persist(proto.getStringWidth, () => shared.width);
    proto.getWidestLine = persist(proto.getWidestLine, () => shared.widest);
    installed = true;
  } catch {
    // Ink moved its output stage: render as Ink does, without the shared cache.
  }
  return installed;
}

function persist<V>(inner: Lookup<V>, which: () => TwoGenerations<V>): Lookup<V> {
  return function (this: unknown, text: string): V {
    if (!active) return inner.call(this, text);
    const cache = which();
    let v = cache.get(text);
    if (v === undefined) {
      v = inner.call(this, text);
      cache.set(text, v);
    }
    return v;
  };
}
