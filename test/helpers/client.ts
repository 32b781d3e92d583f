/**
 * The test client: generated from the spec with openapi-typescript + openapi-fetch (the same way an
 * integrator would), with every response validated against spec/openapi.yaml (contract.ts).
 */
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '../../generated/openapi.d.ts';
import { validatingFetch } from './contract.ts';

export type ApiClient = Client<paths>;
export type Headers = Record<string, string>;

export function apiClient(baseUrl: string, headers: Headers = {}): ApiClient {
  return createClient<paths>({ baseUrl, headers, fetch: validatingFetch() });
}

export interface RawResponse<T = any> {
  status: number;
  headers: globalThis.Headers;
  body: T;
}

/** For requests a typed client cannot express (malformed JSON, wrong methods, huge bodies). */
export async function raw(baseUrl: string, method: string, path: string, init: { headers?: Headers; body?: string | Uint8Array } = {}): Promise<RawResponse> {
  const request = new Request(new URL(path, baseUrl), { method, headers: init.headers, body: init.body });
  const response = await validatingFetch()(request);
  return { status: response.status, headers: response.headers, body: await response.json() };
}
