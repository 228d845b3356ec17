/**
 * `GET /fhir/{tenant}/metadata`: what this server does, for FHIR clients to discover.
 * https://hl7.org/fhir/R4/capabilitystatement.html. The facade issue generates the resource list from the routes.
 */
import type { CapabilityStatement } from '@medplum/fhirtypes';

export interface CapabilityOptions {
  baseUrl: string;
  tenantName: string;
  softwareVersion: string;
  /** When the server started: the statement's `date`. */
  date: string;
}

export function capabilityStatement(options: CapabilityOptions): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: options.date,
    publisher: 'Switchboard',
    kind: 'instance',
    software: { name: 'Switchboard', version: options.softwareVersion },
    implementation: {
      description: `Switchboard FHIR facade for ${options.tenantName}`,
      url: options.baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [
            {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                  code: 'SMART-on-FHIR',
                },
              ],
            },
          ],
          description: 'Bearer tokens issued by the practice, bound to tenants and SMART v2 system scopes.',
        },
      },
    ],
  };
}
