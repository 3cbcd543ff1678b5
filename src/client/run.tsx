// The client's imperative shell: connect, render the Ink app, and on quit
// unmount (Ink restores the terminal), close the socket with CONSENTED, and
// save the player's profile. Solo mode wraps this around an embedded server.

import { writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { render } from "ink";
import { App } from "./App.js";
import { installFrameCache } from "./frame-cache.js";
import { autoMessages } from "./model/input.js";
import { recordAttempts, type Progress } from "./model/progress.js";
import { leftRoom } from "./model/store.js";
import { Connection } from "./net/connection.js";
import { defaultName, loadProfile, saveProfile } from "./profile.js";
import { ClientStore } from "./client-store.js";
import { saveWorkshopToken, type SavedWorkshop } from "./tokens.js";

export interface ClientOptions {
  url: string;
  name?: string;
  /** Join this room once connected. */
  room?: string;
  /** With `room`: join it as a watcher (no seat; nothing this client sends may act). */
  watch?: boolean;
  /** Create rooms inside this workshop, as this team. */
  workshop?: string;
  team?: string;
  /** With `workshop`: the instructor token; opens the dashboard. */
  token?: string;
  /** A note for the event log once connected (e.g. "solo: an embedded server on ..."). */
  note?: string;
}

/** The client without a screen: a store fed by a connection, sending what the state changes call for. */
export function connectClient(
  opts: ClientOptions & {
    name: string;
    progress?: Progress;
    onProgress?: (p: Progress) => void;
    saveToken?: (id: string, w: SavedWorkshop) => string | null;
    /** Write a sandbox scenario's level file (the server's `levelFile`); returns where it went, throws when it cannot. */
    saveLevel?: (file: string, text: string) => string;
  },
): { store: ClientStore; conn: Connection } {
  const store = new ClientStore(opts.url);
  const conn = new Connection({ url: opts.url, name: opts.name, onEvent: store.dispatch });
  const watch = opts.workshop && opts.token ? { id: opts.workshop, token: opts.token } : null;
  const seen = new Set<string>();
  let progress = opts.progress ?? {};
  store.watch((prev, next) => {
    for (const m of autoMessages(prev, next, { room: opts.room, watch, watchRoom: opts.watch === true })) conn.send(m);
    if (next.finished !== prev.finished) {
      progress = recordAttempts(progress, next.finished, seen);
      for (const f of next.finished) seen.add(f.attempt);
      opts.onProgress?.(progress);
    }
    if (opts.note && !prev.player && next.player) store.dispatch({ kind: "local", flash: { kind: "info", text: opts.note } });
    // A workshop created here: keep its instructor token where `faultline join --workshop ID` finds it.
    if (!prev.workshop && next.workshop && opts.saveToken) {
      const w = next.workshop;
      const saved = opts.saveToken(w.id, { token: w.token, url: opts.url, title: w.title });
      store.update((s) => (s.workshop ? { ...s, workshop: { ...s.workshop, saved } } : s));
      store.dispatch({
        kind: "local",
        flash: saved
          ? { kind: "info", text: `Instructor token saved in ${saved}: faultline join ${opts.url} --workshop ${w.id} opens this dashboard again.` }
          : { kind: "error", text: "The instructor token could not be saved: copy it from the dashboard." },
      });
    }
    // The sandbox scenario as a level file: the server rendered it, this computer keeps it.
    if (next.levelFile && next.levelFile !== prev.levelFile && opts.saveLevel) {
      const f = next.levelFile;
      let flash: { kind: "info" | "error"; text: string };
      try {
        const path = opts.saveLevel(f.file, f.text);
        const claim = f.verdict === "reachable" ? `reachable, par ${f.preemptions} preemption${f.preemptions === 1 ? "" : "s"}` : f.verdict === "safe" ? "safe" : "no verdict (the explorer could not solve it)";
        flash = { kind: "info", text: `Saved ${path} (${claim}): faultline lint ${f.file} checks it; faultline serve --levels DIR offers it.` };
      } catch (e) {
        flash = { kind: "error", text: `The level file was not saved: ${e instanceof Error ? e.message : String(e)}` };
      }
      store.dispatch({ kind: "local", flash });
    }
  });
  conn.start();
  return { store, conn };
}

/** A level file written into `dir` (the current folder), never over an existing file. */
export function saveLevelIn(dir: string): (file: string, text: string) => string {
  return (file, text) => {
    const path = resolve(dir, basename(file));
    try {
      writeFileSync(path, text, { flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${path} exists: save under another id`);
      throw new Error(`${path}: ${(e as NodeJS.ErrnoException).code ?? "cannot write"}`);
    }
    return path;
  };
}

export async function runClient(opts: ClientOptions): Promise<number> {
  await installFrameCache();
  const profile = loadProfile();
  let savedName = defaultName(opts.name, profile.name);
  let progress = profile.progress;
  const { store, conn } = connectClient({
    ...opts,
    name: savedName,
    progress,
    saveToken: (id, w) => saveWorkshopToken(id, w),
    saveLevel: saveLevelIn(process.cwd()),
    onProgress: (p) => {
      progress = p;
      saveProfile({ name: savedName, progress });
    },
  });
  const watch = opts.workshop && opts.token ? { id: opts.workshop, token: opts.token } : null;

  const app = render(
    <App
      store={store}
      progress={profile.progress}
      workshop={opts.workshop}
      team={opts.team}
      watch={watch}
      dashboard={watch !== null}
      actions={{
        send: (msg) => conn.send(msg) !== null,
        rename: (n) => {
          savedName = n;
          saveProfile({ name: n, progress });
          conn.rename(n);
        },
        left: () => store.update(leftRoom),
        flash: (text, kind = "info") => store.dispatch({ kind: "local", flash: { kind, text } }),
        quit: () => {},
      }}
    />,
    // Ctrl+C goes through the app too, so it quits the same way q then y does.
    { exitOnCtrlC: false },
  );
  await app.waitUntilExit();
  app.cleanup();
  await conn.close();
  saveProfile({ name: savedName, progress });
  return 0;
}
