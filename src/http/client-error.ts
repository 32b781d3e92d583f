/**
 * Requests Node's HTTP parser refuses before any middleware runs (a malformed request line or
 * header, headers over 16 KiB) get the envelope too, instead of Node's bare status line: 400
 * VALIDATION_ERROR or 431 HEADERS_TOO_LARGE, then the connection closes (spec/openapi.yaml, info).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_CATALOGUE, type ErrorCode } from '../domain/errors.ts';

function refusal(err: NodeJS.ErrnoException): { code: ErrorCode; message: string } | null {
  if (err.code === 'HPE_HEADER_OVERFLOW') return { code: 'HEADERS_TOO_LARGE', message: 'Request headers exceed 16 KiB' };
  if (err.code === 'HPE_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ECONNRESET') return null;
  return { code: 'VALIDATION_ERROR', message: 'Malformed HTTP request' };
}

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = refusal(err);
    if (!answer || !socket.writable) return void socket.destroy();
    const status = ERROR_CATALOGUE[answer.code].status;
    const requestId = randomUUID();
    const body = JSON.stringify({ success: false, data: null, error: { ...answer, details: [], request_id: requestId } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
