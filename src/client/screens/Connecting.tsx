// Before the server's welcome, and after the connection has ended for good.

import { Box, Text } from "ink";
import { KeyBar } from "../components/KeyBar.js";
import { keyBar } from "../model/help.js";
import type { ScreenProps } from "./props.js";

export function Connecting({ s }: ScreenProps) {
  const offline = s.conn === "closed";
  return (
    <Box flexDirection="column">
      <Text bold>FAULTLINE</Text>
      {offline ? (
        <Text>✗ Disconnected from {s.url}: {s.closed ?? "the connection closed"}.</Text>
      ) : (
        <Text>
          {s.conn === "reconnecting" ? "Reconnecting to" : "Connecting to"} {s.url}…
        </Text>
      )}
      <KeyBar keys={keyBar(offline ? "offline" : "connecting")} />
    </Box>
  );
}
