// A yes/no question that takes over the body until answered (q → quit, R → reset).

import { Box, Text } from "ink";

export function Confirm({ question }: { question: string }) {
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{question}</Text>
      <Text>y yes · n or Esc no</Text>
    </Box>
  );
}
