// The client state as an external store: the connection dispatches into it
// (events arrive before and between renders, so they must not depend on a
// mounted component), and the Ink app reads it with useSyncExternalStore.

import { initialState, reduce, type ClientState, type ConnEvent } from "./model/store.js";

export type Listener = (prev: ClientState, next: ClientState) => void;

export class ClientStore {
  private state: ClientState;
  private readonly listeners = new Set<() => void>();
  private readonly watchers = new Set<Listener>();

  constructor(url: string, state?: ClientState) {
    this.state = state ?? initialState(url);
  }

  get = (): ClientState => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** Called with (prev, next) on every change, before the app re-renders. */
  watch(fn: Listener): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  dispatch = (ev: ConnEvent): void => this.update((s) => reduce(s, ev));

  update(fn: (s: ClientState) => ClientState): void {
    const prev = this.state;
    const next = fn(prev);
    if (next === prev) return;
    this.state = next;
    for (const w of this.watchers) w(prev, next);
    for (const l of this.listeners) l();
  }
}
