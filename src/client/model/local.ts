// The campaign as this client's copy of the simulator knows it. The server
// sends each CPU's current line; the whole listing around it, the names of
// globals and locks, and an oracle's title come from the same level files and
// kernel paths, compiled here. A level this client does not have (a newer
// server) simply yields null, and the screens fall back to what the server sent.

import { compileLevel, type Compiled, type KnobSetting } from "../../level/compile.js";
import { loadCampaign, type Level } from "../../level/load.js";

export interface Local {
  level(id: string): Level | null;
  compiled(id: string, knobs: KnobSetting): Compiled | null;
}

/** A catalogue over the given levels (the campaign on disk by default), memoised per knob setting. */
export function localCatalogue(levels?: Level[]): Local {
  let byId: Map<string, Level> | null = null;
  const load = () => {
    if (!byId) {
      let list: Level[] = [];
      try {
        list = levels ?? loadCampaign();
      } catch {
        list = [];
      }
      byId = new Map(list.map((l) => [l.id, l]));
    }
    return byId;
  };
  const cache = new Map<string, Compiled | null>();
  return {
    level: (id) => load().get(id) ?? null,
    compiled(id, knobs) {
      const key = `${id} ${JSON.stringify(Object.entries(knobs).sort())}`;
      if (cache.has(key)) return cache.get(key)!;
      const level = load().get(id);
      let c: Compiled | null = null;
      if (level) {
        try {
          c = compileLevel(level, knobs);
        } catch {
          c = null;
        }
      }
      cache.set(key, c);
      return c;
    },
  };
}
