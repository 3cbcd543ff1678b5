// The one-line key bar at the bottom of every screen: the keys live now.

import { Text, useStdout } from "ink";
import { fitKeys } from "../model/help.js";

/** `width`: the screen's columns (else the terminal's); the bar keeps "? help · q quit" when it must drop keys. */
export function KeyBar({ keys, width }: { keys: string; width?: number }) {
  const { stdout } = useStdout();
  const w = (width ?? stdout?.columns ?? 80) - 1;
  return (
    <Text dimColor wrap="truncate-end">
      {fitKeys(keys, w)}
    </Text>
  );
}
