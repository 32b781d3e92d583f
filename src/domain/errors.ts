/**
 * The closed error catalogue shared by REST and WebSocket (design.md § Conventions).
 * Clients switch on `code`, never on `message`. Add codes here, never ad hoc.
 * The spec mirrors this list in spec/schemas/error.yaml (ErrorCode enum).
 */
export const ERROR_CATALOGUE = {
  VALIDATION_ERROR: { status: 400, message: 'The request is invalid' },
  AUTHENTICATION_ERROR: { status: 401, message: 'Missing or invalid credentials' },
  AUTHORIZATION_ERROR: { status: 403, message: 'Not allowed' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this path' },
  CONFLICT: { status: 409, message: 'Conflicts with the current state' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'Payload too large' },
  HEADERS_TOO_LARGE: { status: 431, message: 'Request headers too large' },
  RATE_LIMIT_EXCEEDED: { status: 429, message: 'Rate limit exceeded' },
  INTERNAL_ERROR: { status: 500, message: 'Internal error' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'Service unavailable' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorDetail {
  field?: string;
  message: string;
}

/** A failure the caller can act on. Anything else that is thrown is an INTERNAL_ERROR. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];
  /** With RATE_LIMIT_EXCEEDED: when the caller may try again (REST and WS carry it as retry_after_ms). */
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message?: string, details: ErrorDetail[] = [], retryAfterMs?: number) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found`);
