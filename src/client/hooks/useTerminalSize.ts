// The terminal's size, re-read on every 'resize' (Ink 6 has no useWindowSize;
// this is what sea-trader and gemini-cli do).

import { useStdout } from "ink";
import { useEffect, useState } from "react";

export interface Size {
  cols: number;
  rows: number;
}

export function useTerminalSize(fixed?: Size): Size {
  const { stdout } = useStdout();
  const read = (): Size => fixed ?? { cols: stdout.columns || 80, rows: stdout.rows || 24 };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const on = () => setSize(read());
    stdout.on("resize", on);
    return () => {
      stdout.off("resize", on);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}
