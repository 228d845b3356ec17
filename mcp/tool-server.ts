/**
 * The MCP server of one request: the official SDK's `McpServer` with Switchboard's scheduling tools (issue 13),
 * bound to the tenant and client the HTTP edge authenticated. Built per request (the transport is stateless), so
 * no state outlives a call and a tool can never act for another client.
 */
import type { Location } from '@medplum/fhirtypes';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { locationZone } from '../src/availability/schedule-rules.js';
import { scopesAllow } from '../src/auth/smart-scopes.js';
import type { ToolContext } from './tool-context.js';
import { registerBookAppointment } from './tools/book-appointment.js';
import { registerCancelAppointment } from './tools/cancel-appointment.js';
import { registerFindPatient } from './tools/find-patient.js';
import { registerFindSlots } from './tools/find-slots.js';
import { registerListAppointments } from './tools/list-appointments.js';
import { registerPracticeInfo } from './tools/practice-info.js';
import { registerRegisterPatient } from './tools/register-patient.js';
import { registerRescheduleAppointment } from './tools/reschedule-appointment.js';

/** The tools' names, in the order `tools/list` gives them. */
export const TOOL_NAMES = [
  'practice_info',
  'find_patient',
  'register_patient',
  'find_slots',
  'book_appointment',
  'reschedule_appointment',
  'cancel_appointment',
  'list_appointments',
] as const;

const INSTRUCTIONS =
  'Scheduling for one medical practice. Typical order: find_patient (or register_patient for someone new), find_slots, book_appointment. ' +
  'Read the text of each result aloud; structuredContent holds ids for the next call. Retry a booking with the same idempotency_key.';

export function createToolServer(ctx: ToolContext, version: string): McpServer {
  const server = new McpServer(
    { name: 'switchboard', title: `Switchboard — ${ctx.tenant.name}`, version },
    { capabilities: { logging: {} }, instructions: INSTRUCTIONS },
  );
  const zone = () => practiceZone(ctx);
  registerPracticeInfo(server, ctx);
  registerFindPatient(server, ctx, zone);
  registerRegisterPatient(server, ctx, zone);
  registerFindSlots(server, ctx);
  registerBookAppointment(server, ctx);
  registerRescheduleAppointment(server, ctx);
  registerCancelAppointment(server, ctx);
  registerListAppointments(server, ctx);
  return server;
}

/** The zone birth dates are read for: the tenant's configured one, else its locations', else UTC. */
async function practiceZone(ctx: ToolContext): Promise<string> {
  if (ctx.tenant.timezone) return ctx.tenant.timezone;
  if (!scopesAllow(ctx.client.scopes, 'Location', 'search')) return 'UTC';
  const locations = await ctx.fhir.search<Location>('Location', { _count: '50' });
  return locations.map(locationZone).find((z) => z !== undefined) ?? 'UTC';
}
