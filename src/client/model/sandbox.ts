// The sandbox composer: the rows a player edits to build a scenario from the catalogue the
// server sent (`sandbox`), and the edits the keys make. Pure. The client checks nothing of
// its own: it shows the catalogue's words and limits, and the server refuses a scenario that
// does not make a level (bad-scenario, naming the part).

import type { SandboxScenario } from "../../protocol/client.js";
import type { SandboxCatalogue } from "../../protocol/server.js";

export type ArgValue = number | boolean | string;

export type RowKind = "generation" | "machine" | "memory" | "child" | "device" | "process" | "tlb" | "op" | "arg" | "addOp" | "addCpu" | "create";

export interface Row {
  kind: RowKind;
  cpu?: number;
  op?: number;
  arg?: string;
  /** The left column. */
  label: string;
  /** The value shown (◂ value ▸ on rows ←→ changes), or "" for an action row. */
  value: string;
  /** What the value means, from the catalogue. */
  text: string;
}

const show = (v: ArgValue) => String(v);

/** The catalogue's entry for an id, or a stand-in (the server's catalogue may differ from an old scenario). */
const entry = (list: { id: string; text: string }[], id: string) => list.find((x) => x.id === id) ?? { id, text: "" };

/** Every row of the composer for this scenario, top to bottom. */
export function composerRows(cat: SandboxCatalogue, sc: SandboxScenario): Row[] {
  const rows: Row[] = [
    { kind: "generation", label: "Kernel", value: sc.generation, text: entry(cat.generations, sc.generation).text },
    { kind: "machine", label: "Machine", value: sc.machine, text: entry(cat.machines, sc.machine).text },
    { kind: "memory", label: "Memory", value: sc.memory, text: entry(cat.memories, sc.memory).text },
    { kind: "child", label: "Child process", value: sc.child, text: entry(cat.children, sc.child).text },
    { kind: "device", label: "DMA device", value: sc.device ? "yes" : "no", text: cat.device.text },
  ];
  sc.cpus.forEach((c, cpu) => {
    rows.push({ kind: "process", cpu, label: `CPU${cpu} runs in`, value: c.process, text: entry(cat.processes, c.process).text });
    rows.push({ kind: "tlb", cpu, label: "  TLB warm", value: c.tlb ? "yes" : "no", text: "yes: the CPU's TLB already caches its process's mapped pages (a store may hit a stale entry)" });
    c.runs.forEach((r, op) => {
      const spec = cat.operations.find((o) => o.op === r.op);
      rows.push({ kind: "op", cpu, op, label: `  ${op + 1}.`, value: r.op, text: spec ? `${spec.text}${spec.since ? ` (since ${spec.since})` : ""}` : "" });
      for (const a of spec?.args ?? []) {
        const v = r.args?.[a.name] ?? a.values[0];
        rows.push({ kind: "arg", cpu, op, arg: a.name, label: `     ${a.name}`, value: show(v), text: `${r.op}'s ${a.name}: one of ${a.values.map(show).join(", ")}` });
      }
    });
    rows.push({ kind: "addOp", cpu, label: `  + add an operation to CPU${cpu}`, value: "", text: `Enter adds an operation (a CPU runs at most ${cat.limits.opsPerCpu})` });
  });
  rows.push({ kind: "addCpu", label: "+ add a CPU", value: "", text: `Enter adds a CPU (at most ${cat.limits.cpus})` });
  rows.push({ kind: "create", label: "▶ create the room and hunt", value: "", text: `Every one of the ${cat.oracles.length} oracles watches: ${cat.oracles.map((o) => o.id).join(", ")}` });
  return rows;
}

const cycle = <T,>(list: readonly T[], cur: T, delta: number): T => {
  const i = list.indexOf(cur);
  return list[(((i < 0 ? 0 : i) + delta) % list.length + list.length) % list.length];
};

/** An operation's arguments, each its first value (or the value it had under the same name). */
function argsFor(cat: SandboxCatalogue, op: string, keep: Record<string, ArgValue> = {}): Record<string, ArgValue> | undefined {
  const spec = cat.operations.find((o) => o.op === op);
  if (!spec || spec.args.length === 0) return undefined;
  return Object.fromEntries(spec.args.map((a) => [a.name, a.values.includes(keep[a.name] as never) ? keep[a.name] : a.values[0]]));
}

function withCpu(sc: SandboxScenario, cpu: number, f: (c: SandboxScenario["cpus"][number]) => SandboxScenario["cpus"][number]): SandboxScenario {
  return { ...sc, cpus: sc.cpus.map((c, i) => (i === cpu ? f(c) : c)) };
}

/** ←→ on a row: the next (delta 1) or previous (-1) value the catalogue offers. */
export function changeRow(cat: SandboxCatalogue, sc: SandboxScenario, row: Row, delta: number): SandboxScenario {
  switch (row.kind) {
    case "generation":
      return { ...sc, generation: cycle(cat.generations.map((g) => g.id), sc.generation, delta) };
    case "machine":
      return { ...sc, machine: cycle(cat.machines.map((g) => g.id), sc.machine, delta) };
    case "memory":
      return { ...sc, memory: cycle(cat.memories.map((g) => g.id), sc.memory, delta) };
    case "child":
      return { ...sc, child: cycle(cat.children.map((g) => g.id), sc.child, delta) };
    case "device":
      return { ...sc, device: !sc.device };
    case "process":
      return withCpu(sc, row.cpu!, (c) => ({ ...c, process: cycle(cat.processes.map((p) => p.id), c.process, delta) }));
    case "tlb":
      return withCpu(sc, row.cpu!, (c) => ({ ...c, tlb: !c.tlb }));
    case "op":
      return withCpu(sc, row.cpu!, (c) => ({
        ...c,
        runs: c.runs.map((r, j) => {
          if (j !== row.op) return r;
          const op = cycle(cat.operations.map((o) => o.op), r.op, delta);
          const args = argsFor(cat, op, r.args);
          return args ? { op, args } : { op };
        }),
      }));
    case "arg": {
      return withCpu(sc, row.cpu!, (c) => ({
        ...c,
        runs: c.runs.map((r, j) => {
          if (j !== row.op) return r;
          const spec = cat.operations.find((o) => o.op === r.op);
          const values = spec?.args.find((a) => a.name === row.arg)?.values ?? [];
          if (!values.length) return r;
          const cur = r.args?.[row.arg!] ?? values[0];
          return { ...r, args: { ...r.args, [row.arg!]: cycle(values, cur, delta) } };
        }),
      }));
    }
    default:
      return sc;
  }
}

/** Enter on "+ add an operation": the catalogue's first operation, with its first values. */
export function addOp(cat: SandboxCatalogue, sc: SandboxScenario, cpu: number): SandboxScenario {
  const op = cat.operations[0]?.op ?? "load";
  const args = argsFor(cat, op);
  return withCpu(sc, cpu, (c) => ({ ...c, runs: [...c.runs, args ? { op, args } : { op }] }));
}

/** Enter on "+ add a CPU": one more CPU in the parent, running the first operation. */
export function addCpu(cat: SandboxCatalogue, sc: SandboxScenario): SandboxScenario {
  const op = cat.operations[0]?.op ?? "load";
  const args = argsFor(cat, op);
  return { ...sc, cpus: [...sc.cpus, { process: cat.processes[0]?.id ?? "P", runs: [args ? { op, args } : { op }] }] };
}

/** x on an operation (or one of its arguments): remove it; on a CPU's rows: remove the CPU. The last of each stays. */
export function removeAt(sc: SandboxScenario, row: Row): SandboxScenario | null {
  if (row.cpu === undefined) return null;
  if ((row.kind === "op" || row.kind === "arg") && sc.cpus[row.cpu].runs.length > 1) {
    return withCpu(sc, row.cpu, (c) => ({ ...c, runs: c.runs.filter((_, j) => j !== row.op) }));
  }
  if ((row.kind === "process" || row.kind === "tlb") && sc.cpus.length > 1) return { ...sc, cpus: sc.cpus.filter((_, i) => i !== row.cpu) };
  return null;
}

/** How much of the limits the scenario uses, in words. */
export function usage(cat: SandboxCatalogue, sc: SandboxScenario): string {
  const ops = sc.cpus.reduce((n, c) => n + c.runs.length, 0);
  return `${sc.cpus.length} of at most ${cat.limits.cpus} CPUs · ${ops} of at most ${cat.limits.ops} operations (${cat.limits.opsPerCpu} a CPU) · ${cat.oracles.length} oracles watch`;
}
