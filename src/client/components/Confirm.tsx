// A yes/no question that takes over the body until answered (q → quit, R → reset).

import { Box, Text } from "ink";
import { answers } from "../model/help.js";

/** `scope`: the question's keys in the key table. */
export function Confirm({ question, scope }: { question: string; scope: "quit" | "reset" }) {
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{question}</Text>
      <Text>{answers(scope)}</Text>
    </Box>
  );
}
