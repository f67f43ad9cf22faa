/**
 * The app's error and not-found handlers: every error response is `{error: {code, message,
 * details?}}` with a code of src/core/errors.ts. A RepricerError keeps its code; Fastify's own
 * errors (schema validation, body limit, content type, rate limit, malformed JSON, a body that
 * does not match its Content-Length) are mapped to theirs, and so are the HTTP parser's
 * (`clientErrors`: oversized headers, bad framing); anything else is logged and answered 500 INTERNAL without its message.
 */
import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { ERROR_CATALOG, RepricerError, type ErrorCode } from '../core/errors.js';

function pathOf(e: ErrorObject, part: string): string {
  const p = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const pre = part === 'body' ? '' : `${part}.`;
  return p ? pre + p : part === 'body' ? 'body' : part;
}

/** One validation error as "path: what was expected". */
export function describeValidation(e: ErrorObject, part: string): { path: string; message: string } {
  let path = pathOf(e, part);
  const join = (name: string) => (path === 'body' ? name : `${path}.${name}`);
  let message: string;
  switch (e.keyword) {
    case 'required':
      path = join(String(e.params.missingProperty));
      message = 'is required';
      break;
    case 'additionalProperties':
      path = join(String(e.params.additionalProperty));
      message = 'is not an allowed field';
      break;
    case 'type': {
      const t = e.params.type as string | string[];
      message = `must be ${Array.isArray(t) ? t.join(' or ') : String(t).split(',').join(' or ')}`;
      break;
    }
    case 'enum':
      message = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    default:
      message = e.message ?? 'is invalid';
  }
  return { path, message };
}

interface ErrorOut {
  status: number;
  body: { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };
}

const send = (code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorOut => ({
  status: ERROR_CATALOG[code].status,
  body: { error: details ? { code, message, details } : { code, message } },
});

/** A schema validation error of one request part: every field path, the first 10 in the message. */
function validationError(fe: FastifyError): ErrorOut {
  const part = fe.validationContext ?? 'body';
  const list = fe.validation!.map((e) => describeValidation(e as ErrorObject, part));
  const msg = list.slice(0, 10).map((e) => `${e.path}: ${e.message}`).join('; ') + (list.length > 10 ? `; ... (${list.length} in all)` : '');
  return send(part === 'body' ? 'INVALID_BODY' : 'INVALID_ARGUMENT', msg, { errors: list.slice(0, 100) });
}

/** The coded response of an error thrown by a route, a hook or Fastify itself. */
function errorOut(err: FastifyError | RepricerError, req: FastifyRequest, bulkBodyLimit: number): ErrorOut {
  if (err instanceof RepricerError) return send(err.code, err.message, err.details);
  const fe = err as FastifyError;
  if (fe.validation) return validationError(fe);
  switch (fe.statusCode) {
    case 413:
      return send('PAYLOAD_TOO_LARGE', `the request body is larger than the limit of this route (${req.routeOptions.bodyLimit ?? bulkBodyLimit} bytes)`);
    case 415: {
      // a route that takes other bodies than JSON lists them in its config (observationUpload.ts)
      const types = req.routeOptions.config?.mediaTypes;
      const hint = types ? `send ${types.join(' or ')} (JSON observations go to POST /v1/observations)` : 'send application/json';
      return send('UNSUPPORTED_MEDIA_TYPE', `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: ${hint}`);
    }
    case 429:
      return send('RATE_LIMITED', fe.message);
    case 404:
      return send('NOT_FOUND', fe.message);
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return send('INVALID_BODY', `body: its length does not match the Content-Length header (${JSON.stringify(req.headers['content-length'] ?? '')})`);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // JSON syntax, empty JSON body, bad content-length, forbidden __proto__ keys
    return send('INVALID_BODY', `body: ${fe.message}`);
  }
  req.log.error({ err }, 'internal error');
  return send('INTERNAL', 'internal error');
}

/** Install the error handler and the not-found handler (404 NOT_FOUND naming the route). */
export function installErrorHandlers(app: FastifyInstance, limits: { bulkBodyLimit: number }): void {
  app.setErrorHandler((err: FastifyError | RepricerError, req: FastifyRequest, reply: FastifyReply) => {
    const out = errorOut(err, req, limits.bulkBodyLimit);
    reply.code(out.status).type('application/json').send(out.body);
  });
  app.setNotFoundHandler((req, reply) => {
    const out = send('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    reply.code(out.status).send(out.body);
  });
}

/**
 * Errors the router raises before any route or hook runs (Fastify's `frameworkErrors`): a URL
 * that does not decode (`%ZZ`) and a path parameter longer than the router allows. Answered in the
 * catalogue's shape like every other error; the router's limit is the ids' own (maxParamLength).
 */
export function frameworkErrors(maxParamLength: number) {
  return (err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void => {
    const out =
      err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? send('INVALID_ARGUMENT', `a path parameter is longer than ${maxParamLength} characters`)
        : err.code === 'FST_ERR_BAD_URL'
          ? send('INVALID_ARGUMENT', 'the URL is not valid: a percent-escape does not decode')
          : send('INVALID_ARGUMENT', `the request is not valid (${err.message})`);
    reply.code(out.status).type('application/json').send(out.body);
  };
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (Fastify's `clientErrorHandler`):
 * header fields over the size limit (431), a request not received in time (408), a malformed or
 * contradictory Content-Length or Transfer-Encoding, and any other request that is not valid
 * HTTP (400). Answered in the catalogue's shape, then the connection is closed: the parser
 * cannot tell where the next request would start.
 */
export function clientErrors(err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const why = err.reason ?? err.message;
  let out: ErrorOut;
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      out = send('HEADERS_TOO_LARGE', `the request header fields are larger than the server accepts (${maxHeaderSize} bytes in all)`);
      break;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      out = send('REQUEST_TIMEOUT', 'the request was not received in time');
      break;
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_EOF_STATE':
      out = send('INVALID_BODY', `body: the request's framing is not valid: ${why}`, { parser: err.code });
      break;
    default:
      out = send('INVALID_ARGUMENT', `the request is not valid HTTP: ${why}`, err.code ? { parser: err.code } : undefined);
  }
  if (socket.writable) {
    const body = JSON.stringify(out.body);
    socket.write(
      `HTTP/1.1 ${out.status} ${STATUS_CODES[out.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
