// Said plainly when the terminal is smaller than the layout needs.

import { Box, Text } from "ink";

export function TooSmall({ message }: { message: string }) {
  return (
    <Box flexDirection="column">
      <Text bold>Faultline</Text>
      <Text>{message}</Text>
    </Box>
  );
}
