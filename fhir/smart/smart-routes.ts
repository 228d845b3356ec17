/**
 * SMART Backend Services v2 on each tenant's FHIR base (standards.md 7.2; DESIGN.md section 7):
 * - `GET {base}/.well-known/smart-configuration` (public): discovery — the token endpoint, `private_key_jwt` with
 *   RS384/ES384, the `client_credentials` grant, system scopes, `permission-v1`/`permission-v2`;
 * - `POST {base}/auth/token` (public, form-encoded): the token endpoint (src/auth/smart-token-issuer.ts). Its
 *   answers are OAuth JSON (RFC 6749 section 5), never OperationOutcomes, with `Cache-Control: no-store`.
 * The tokens it issues work on every route of that tenant's base through the client registry, like static ones.
 */
import type { TokenIssuer } from '../../src/auth/smart-token-issuer.js';
import { ASSERTION_ALGORITHMS } from '../../src/auth/smart-token-issuer.js';
import type { FhirRouteModule } from '../fhir-route.js';

/** Below the tenant base. */
export const TOKEN_PATH = 'auth/token';
export const SMART_CONFIGURATION_PATH = '.well-known/smart-configuration';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export function smartRoutes(options: { issuer: TokenIssuer }): FhirRouteModule {
  return (deps) => [
    {
      method: 'GET',
      path: SMART_CONFIGURATION_PATH,
      public: true,
      handle: (_request, ctx) =>
        Promise.resolve({
          status: 200,
          json: {
            token_endpoint: `${deps.baseUrl(ctx)}/${TOKEN_PATH}`,
            token_endpoint_auth_methods_supported: ['private_key_jwt'],
            token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
            grant_types_supported: ['client_credentials'],
            scopes_supported: ['system/*.cruds', 'system/*.rs', 'system/*.read', 'system/*.write'],
            capabilities: ['client-confidential-asymmetric', 'permission-v2', 'permission-v1'],
          },
        }),
    },
    {
      method: 'POST',
      path: TOKEN_PATH,
      public: true,
      body: 'form',
      async handle(request, ctx) {
        const form = new Map(new URLSearchParams(typeof request.body === 'string' ? request.body : ''));
        const answer = await options.issuer.issue({
          tenantId: ctx.tenant.id,
          tokenUrl: `${deps.baseUrl(ctx)}/${TOKEN_PATH}`,
          form,
        });
        return { status: answer.ok ? 200 : answer.status, headers: NO_STORE, json: answer.body };
      },
    },
  ];
}
