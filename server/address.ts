// Who is on the other end of a connection, for the per-address limits.
//
// By default that is the TCP peer's address. Behind a reverse proxy (the TLS
// proxy README recommends) every connection comes from the proxy, so a server
// started with the proxy's address named (`--trust-proxy`) reads the client's
// address from X-Forwarded-For instead, and only for connections that come
// from a named proxy: anyone else's X-Forwarded-For is ignored, since a client
// can write whatever it likes there. Of the header's addresses the server takes
// the rightmost that is not itself a trusted proxy: each proxy appends the
// address it received the connection from, so that entry was written by a
// proxy we trust, while everything to its left came from the client.

import { BlockList, isIP } from "node:net";

/** The named proxies: addresses (`10.0.0.5`, `::1`) or subnets (`10.0.0.0/8`). */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  /** Throws an Error naming the first entry that is neither an IP address nor ADDR/PREFIX. */
  constructor(entries: readonly string[]) {
    let n = 0;
    for (const raw of entries) {
      const e = raw.trim();
      if (e === "") continue;
      const [addr, prefix, extra] = e.split("/");
      const a = normalize(addr);
      const family = a === null ? 0 : isIP(a);
      if (a === null || extra !== undefined) throw new Error(`not an IP address or ADDR/PREFIX: "${e}"`);
      const type = family === 4 ? "ipv4" : "ipv6";
      if (prefix === undefined) this.list.addAddress(a, type);
      else {
        const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
        if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) throw new Error(`bad prefix length in "${e}"`);
        this.list.addSubnet(a, bits, type);
      }
      n++;
    }
    this.size = n;
  }

  has(address: string): boolean {
    const a = normalize(address);
    return a !== null && this.list.check(a, isIP(a) === 4 ? "ipv4" : "ipv6");
  }
}

/** A comma-separated list (the `--trust-proxy` and FAULTLINE_TRUST_PROXY syntax). */
export function parseTrustProxy(text: string): string[] {
  const entries = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  new TrustedProxies(entries); // validate
  return entries;
}

/** An IP address in canonical form (IPv4-mapped IPv6 as plain IPv4), or null when it is not one. */
export function normalize(address: string | undefined): string | null {
  if (address === undefined) return null;
  let a = address.trim();
  const v4mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (v4mapped) a = v4mapped[1];
  const zone = a.indexOf("%");
  if (zone > 0 && isIP(a.slice(0, zone)) === 6) a = a.slice(0, zone);
  return isIP(a) === 0 ? null : a.toLowerCase();
}

/** One X-Forwarded-For entry: an address, perhaps with a port (`1.2.3.4:567`, `[::1]:567`). */
function forwardedEntry(entry: string): string | null {
  const e = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(e);
  if (bracketed) return normalize(bracketed[1]);
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(e);
  return normalize(v4port ? v4port[1] : e);
}

/**
 * The client's address: the TCP peer's, unless the peer is a trusted proxy; then the
 * rightmost X-Forwarded-For address that is not a trusted proxy. A missing or malformed
 * entry stops the walk at the last trusted hop (the connection counts as that proxy's).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: TrustedProxies): string {
  let hop = normalize(peer) ?? peer ?? "unknown";
  if (trusted.size === 0 || !trusted.has(hop) || forwardedFor === undefined) return hop;
  const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",");
  for (let i = entries.length - 1; i >= 0; i--) {
    const a = forwardedEntry(entries[i]);
    if (a === null) return hop;
    hop = a;
    if (!trusted.has(a)) return a;
  }
  return hop;
}

/**
 * The key the per-address limits count under: an IPv4 address, or an IPv6 address's /64
 * (one subscriber's network: a client holding a /64 must not get 2^64 budgets).
 */
export function limitKey(address: string): string {
  const a = normalize(address);
  if (a === null || isIP(a) === 4) return a ?? address;
  return `${expand6(a).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail becomes two groups). */
function expand6(a: string): string[] {
  let s = a;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number);
    s = s.slice(0, v4.index) + `${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}
