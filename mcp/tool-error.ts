/**
 * A tool call that cannot be answered as asked: the SDK turns a thrown error into a tool result with `isError`
 * and this message (MCP 2025-06-18, "Tool Execution Errors"), which the model reads and can act on. Messages name
 * what to do instead (the valid choices, the missing scope), never internals.
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/server/tools#error-handling
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}
