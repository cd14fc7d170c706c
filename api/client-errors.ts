/**
 * Requests Node's HTTP parser refuses before Express sees them (headers or a query string over its
 * limit, malformed request lines) get the API's JSON error shape too, not an empty body.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_HTTP_STATUS } from '../domain/errors.js';

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const code = tooLarge ? 'headers_too_large' : 'invalid_body';
    const status = ERROR_HTTP_STATUS[code];
    const body = JSON.stringify({ error: tooLarge ? 'The request headers (or URL) are too large' : 'The request could not be read', code });
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
