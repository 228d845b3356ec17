/**
 * Small HTTP helpers for facade tests: every FHIR body received is checked by both validators before a test sees
 * it, so no test can forget to.
 */
import type { Bundle, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, expect } from 'vitest';
import { expectValidFhir } from '../../support/fhir-validators.js';
import type { TestStoreFactory, TestStoreHandle } from '../../support/test-stores.js';
import { startFacade, type FacadeHarness, type FacadeOptions } from './facade-harness.js';

export interface FhirAnswer<T = Resource> {
  status: number;
  headers: Headers;
  body: T;
}

/** GET `{base}/{path}` (or an absolute URL); the body, when there is one, must be valid FHIR R4. */
export async function fhirGet<T = Resource>(
  h: Pick<FacadeHarness, 'base'>,
  path: string,
  headers: Record<string, string> = {},
): Promise<FhirAnswer<T>> {
  const url = path.startsWith('http') ? path : `${h.base}/${path}`;
  return answerOf<T>(await fetch(url, { headers }));
}

/** POST a form to `{base}/{path}`. */
export async function fhirPostForm<T = Resource>(
  h: Pick<FacadeHarness, 'base'>,
  path: string,
  form: string,
  headers: Record<string, string> = {},
): Promise<FhirAnswer<T>> {
  return answerOf<T>(
    await fetch(`${h.base}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form,
    }),
  );
}

async function answerOf<T>(response: Response): Promise<FhirAnswer<T>> {
  const text = await response.text();
  const body = (text ? JSON.parse(text) : undefined) as T;
  if (text) expectValidFhir(body);
  return { status: response.status, headers: response.headers, body };
}

/** A searchset that must answer 200. */
export async function searchBundle(
  h: Pick<FacadeHarness, 'base'>,
  path: string,
  headers: Record<string, string> = {},
): Promise<Bundle> {
  const answer = await fhirGet<Bundle>(h, path, headers);
  expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).toBe(200);
  expect(answer.body.type).toBe('searchset');
  return answer.body;
}

export function matches<T extends Resource = Resource>(bundle: Bundle): T[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as T);
}

export function included<T extends Resource = Resource>(bundle: Bundle): T[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource as T);
}

export function outcomeIssues(bundle: Bundle): OperationOutcomeIssue[] {
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode === 'outcome')
    .flatMap((e) => (e.resource as OperationOutcome).issue);
}

export function linkOf(bundle: Bundle, relation: string): string | undefined {
  return bundle.link?.find((l) => l.relation === relation)?.url;
}

/** Asserts an OperationOutcome answer with this status whose first issue names `expression`. */
export function expectOutcome(
  answer: FhirAnswer<unknown>,
  status: number,
  expression?: string,
): OperationOutcome {
  const outcome = answer.body as OperationOutcome;
  expect(answer.status, JSON.stringify(outcome)).toBe(status);
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(answer.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  if (expression !== undefined) expect(outcome.issue[0]?.expression).toEqual([expression]);
  return outcome;
}

/**
 * One synced facade per `describe` (for suites that only read): a fresh database of `factory`'s dialect and the
 * sim, synced once before the suite's tests.
 */
export function useSyncedFacade(
  factory: TestStoreFactory,
  options: Omit<FacadeOptions, 'store'> = {},
): () => FacadeHarness {
  let handle: TestStoreHandle | undefined;
  let harness: FacadeHarness | undefined;
  beforeAll(async () => {
    handle = await factory.create();
    harness = await startFacade({ ...options, store: handle.store });
  });
  afterAll(async () => {
    await harness?.close();
    await handle?.dispose();
  });
  return () => {
    if (!harness) throw new Error('useSyncedFacade: not started');
    return harness;
  };
}

/** fhir-kit-client answers `FhirResource`; the tests know better. */
export async function kit<T extends Resource>(answer: Promise<unknown>): Promise<T> {
  return (await answer) as T;
}

/** fhir-kit-client's `nextPage`, typed: the next page, or undefined after the last. */
export async function kitNextPage(client: Client, bundle: Bundle): Promise<Bundle | undefined> {
  const next = client.nextPage({ bundle: bundle as unknown as Parameters<Client['nextPage']>[0]['bundle'] });
  return next ? ((await next) as unknown as Bundle) : undefined;
}
