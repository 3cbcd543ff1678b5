// The one-line key bar at the bottom of every screen: the keys live now.

import { Text } from "ink";

export function KeyBar({ keys }: { keys: string }) {
  return (
    <Text dimColor wrap="truncate-end">
      {keys}
    </Text>
  );
}
