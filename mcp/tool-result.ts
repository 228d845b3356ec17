/**
 * A tool's answer (MCP 2025-06-18 "Structured Content"): `structuredContent` matching the tool's declared
 * `outputSchema`, and — for clients that only read text and for voice agents — one short sentence that can be read
 * aloud, not a JSON dump.
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/server/tools#structured-content
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export function toolResult<T extends Record<string, unknown>>(
  speakable: string,
  structured: T,
): CallToolResult {
  return { content: [{ type: 'text', text: speakable }], structuredContent: structured };
}
