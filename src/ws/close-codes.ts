/**
 * WebSocket close codes of /v1/ws (documented in spec/asyncapi.yaml, "Errors and close codes").
 * An `error` frame answers a frame that could not be handled and keeps the connection; these end it.
 */
export const CloseCode = {
  /** The client or node went away without a drain. Reconnect and resume. */
  GOING_AWAY: 1001,
  /** A frame was larger than WS_MAX_PAYLOAD_BYTES. */
  TOO_BIG: 1009,
  /** Something failed on the server (e.g. the database during connect). Reconnect later and resume. */
  INTERNAL_ERROR: 1011,
  /** No `auth` frame within WS_AUTH_TIMEOUT_MS. */
  AUTH_TIMEOUT: 4001,
  /** Bad credentials: invalid/expired/revoked token, unknown key or user, used or expired ticket. */
  BAD_CREDENTIALS: 4003,
  /** Slow consumer: the send buffer passed WS_MAX_BACKPRESSURE_BYTES. Reconnect and resume; nothing is lost. */
  SLOW_CONSUMER: 4008,
  /** Origin not in the tenant's allowed_origins (known once the credentials, on the upgrade or in `auth`, name the tenant). */
  ORIGIN_REFUSED: 4009,
  /**
   * The credential that opened the session ended: its token was revoked (logout, refresh-token
   * reuse, revokeUserToken) or expired, its user or tenant was deleted, or the tenant key it was
   * opened with was rotated. Sign in again; do not reconnect with the same credential.
   */
  CREDENTIALS_REVOKED: 4010,
  /** The node shut down (after `server.shutdown`). Reconnect after reconnect_after_ms and resume. */
  SERVER_SHUTDOWN: 4012,
  /** The user was banned from the tenant (banUser). New connections are refused with 4003 until the ban ends. */
  BANNED: 4013,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close reasons are limited to 123 bytes by RFC 6455; keep them short and ASCII. */
export const CloseReason: Record<CloseCode, string> = {
  [CloseCode.GOING_AWAY]: 'going away',
  [CloseCode.TOO_BIG]: 'frame too large',
  [CloseCode.INTERNAL_ERROR]: 'internal error',
  [CloseCode.AUTH_TIMEOUT]: 'auth timeout',
  [CloseCode.BAD_CREDENTIALS]: 'bad credentials',
  [CloseCode.SLOW_CONSUMER]: 'slow consumer: resume',
  [CloseCode.ORIGIN_REFUSED]: 'origin refused',
  [CloseCode.CREDENTIALS_REVOKED]: 'credentials revoked',
  [CloseCode.SERVER_SHUTDOWN]: 'server shutdown',
  [CloseCode.BANNED]: 'banned',
};
