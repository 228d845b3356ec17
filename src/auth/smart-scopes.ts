/**
 * SMART App Launch scopes for resource access (DESIGN.md section 7; /work/shared/reference/standards.md 7.1):
 * parsing, and the decision "do these scopes grant this interaction on this resource type".
 *
 * Grammar (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):
 * `(patient|user|system) "/" (ResourceType|"*") "." permissions`, where permissions are either SMART v2 letters, a
 * non-empty subset of `cruds` in that order (`rs`, `cud`, `cruds`), or the SMART v1 words `read` (= `rs`),
 * `write` (= `cud`) and `*` (= `cruds`).
 *
 * Fail closed: a scope that does not match the grammar exactly grants nothing. In particular out-of-order or
 * repeated letters (`.dus`, `.rr`) are rejected rather than repaired, so `.read` can never be mistaken for
 * `.rd`; and scopes carrying a `?param=value` filter grant nothing, because Switchboard does not evaluate scope
 * filters yet and treating a filtered scope as unfiltered would grant more than it says. Non-resource scopes
 * (`openid`, `launch`, `offline_access`, …) are ignored.
 *
 * Contexts: `patient/`, `user/` and `system/` scopes currently grant the same permission set. Switchboard's
 * clients are backend services without a user or patient launch context, so there is no compartment to confine a
 * `patient/` scope to yet. The context is kept in {@link SmartScope.context} so that compartment enforcement
 * (standards.md 7.3 item 3) can be added where the patient context becomes known; until then, do not issue
 * `patient/` scopes to clients that must be confined to one patient.
 */

/** A permission letter of SMART v2: create, read, update, delete, search. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/** The permission letters in the order the grammar requires. */
export const PERMISSION_ORDER: readonly Permission[] = Object.freeze(['c', 'r', 'u', 'd', 's']);

/** Whose data a scope is about; see the module comment for how contexts are treated. */
export type ScopeContext = 'patient' | 'user' | 'system';

/**
 * FHIR interactions as SMART scopes see them (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html).
 * The facade's `Interaction` (`fhir/access.ts`) is this type: `src/` may not import `fhir/`, so it lives here.
 */
export type ScopedInteraction =
  | 'read'
  | 'vread'
  | 'history-instance'
  | 'history-type'
  | 'search'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'operation';

/** One resource scope, parsed and expanded to permission letters. */
export interface SmartScope {
  /** The scope as written. */
  readonly raw: string;
  readonly context: ScopeContext;
  /** A resource type name, or `*` for every type (including types added later). */
  readonly resourceType: string;
  /** The expanded permissions, in `cruds` order. */
  readonly permissions: readonly Permission[];
  /** `v1` for `.read`/`.write`/`.*`, `v2` for letters. */
  readonly version: 'v1' | 'v2';
}

const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.(read|write|\*|c?r?u?d?s?)$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{0,63}$/;

const V1: Readonly<Record<string, readonly Permission[]>> = Object.freeze({
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
});

/**
 * Parses one scope; `undefined` for anything that is not a well-formed resource scope (see the module comment).
 *
 * @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html#scopes-for-requesting-fhir-resources
 */
export function parseScope(raw: string): SmartScope | undefined {
  const match = SCOPE.exec(raw);
  if (!match) return undefined;
  const [, context, resourceType, suffix] = match as unknown as [string, ScopeContext, string, string];
  // The letter pattern also matches the empty string: `system/Patient.` grants nothing.
  if (suffix === '') return undefined;
  const v1 = V1[suffix];
  const permissions = v1 ?? (PERMISSION_ORDER.filter((letter) => suffix.includes(letter)) as Permission[]);
  return Object.freeze({
    raw,
    context,
    resourceType,
    permissions: Object.freeze([...permissions]),
    version: v1 ? 'v1' : 'v2',
  });
}

/**
 * Parses a scope list (an array, or the space-separated `scope` string of OAuth); malformed entries are dropped.
 *
 * @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 */
export function parseScopes(scopes: string | readonly string[]): SmartScope[] {
  const list = typeof scopes === 'string' ? scopes.split(/\s+/) : scopes;
  return list.flatMap((raw) => parseScope(raw) ?? []);
}

/**
 * The letters an operation documents as its requirement, e.g. `operationPermissions('cu')` for `$book`
 * (creates and updates Appointments). Letters in `cruds` order, at least one.
 * @throws RangeError for anything else: an operation's requirement is code, and a typo must not grant access.
 */
export function operationPermissions(letters: string): readonly Permission[] {
  if (letters === '' || !/^c?r?u?d?s?$/.test(letters)) {
    throw new RangeError(
      `operation permissions must be a non-empty subset of "cruds" in order, got "${letters}"`,
    );
  }
  return Object.freeze(PERMISSION_ORDER.filter((letter) => letters.includes(letter)));
}

/**
 * The permissions an interaction needs (standards.md 7.1): c = create; r = read, vread, instance history;
 * u = update, patch; d = delete; s = search, type history. An `operation` needs what the operation documents,
 * passed as `operationRequires`; without it an operation needs a permission no scope can grant, so it is denied.
 */
export function requiredPermissions(
  interaction: ScopedInteraction,
  operationRequires?: readonly Permission[],
): readonly Permission[] | undefined {
  switch (interaction) {
    case 'create':
      return ['c'];
    case 'read':
    case 'vread':
    case 'history-instance':
      return ['r'];
    case 'update':
    case 'patch':
      return ['u'];
    case 'delete':
      return ['d'];
    case 'search':
    case 'history-type':
      return ['s'];
    case 'operation':
      return operationRequires && operationRequires.length > 0 ? operationRequires : undefined;
  }
}

/**
 * Every permission the scopes grant on `resourceType`, united across scopes (`Appointment.c` + `Appointment.u`
 * grant `cu`; `*.r` + `Appointment.s` grant `rs` on Appointment). `resourceType` `*` is granted only by wildcard
 * scopes; an invalid type name is granted nothing.
 */
export function grantedPermissions(
  scopes: string | readonly string[],
  resourceType: string,
): ReadonlySet<Permission> {
  const granted = new Set<Permission>();
  if (resourceType !== '*' && !RESOURCE_TYPE.test(resourceType)) return granted;
  for (const scope of parseScopes(scopes)) {
    if (scope.resourceType !== '*' && scope.resourceType !== resourceType) continue;
    for (const permission of scope.permissions) granted.add(permission);
  }
  return granted;
}

/** The permissions of `required` the scopes do not grant on `resourceType`, in `cruds` order. */
export function missingPermissions(
  scopes: string | readonly string[],
  resourceType: string,
  required: readonly Permission[],
): Permission[] {
  const granted = grantedPermissions(scopes, resourceType);
  return PERMISSION_ORDER.filter((letter) => required.includes(letter) && !granted.has(letter));
}

/**
 * Whether `scopes` grant `interaction` on `resourceType`. For `operation`, pass the operation's documented
 * requirement (see {@link operationPermissions}); without it the answer is false.
 *
 * @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html#scopes-for-requesting-fhir-resources
 */
export function scopesAllow(
  scopes: string | readonly string[],
  resourceType: string,
  interaction: ScopedInteraction,
  operationRequires?: readonly Permission[],
): boolean {
  const required = requiredPermissions(interaction, operationRequires);
  if (!required) return false;
  return missingPermissions(scopes, resourceType, required).length === 0;
}

/** The v2 scope that would grant `permissions` on `resourceType` in `context`: `system/Appointment.cu`. */
export function scopeFor(
  resourceType: string,
  permissions: readonly Permission[],
  context: ScopeContext = 'system',
): string {
  return `${context}/${resourceType}.${PERMISSION_ORDER.filter((l) => permissions.includes(l)).join('')}`;
}
