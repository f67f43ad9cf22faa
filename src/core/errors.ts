/**
 * The one error catalogue (docs/architecture.md): every failure the CLI or the server reports carries one of
 * these codes, with its HTTP status and CLI exit code. The README's error table is kept in step
 * with this object by test/errors.test.ts.
 */
export const ERROR_CATALOG = {
  INVALID_ARGUMENT: { status: 400, exit: 2, message: 'an argument or option is invalid' },
  INVALID_BODY: { status: 400, exit: 2, message: 'the request body does not match the schema' },
  INPUT_ROW_INVALID: { status: 400, exit: 3, message: 'a row of an input file is malformed' },
  INPUT_UNREADABLE: { status: 400, exit: 3, message: 'an input file cannot be read or has the wrong format' },
  MODEL_INVALID: { status: 422, exit: 3, message: 'the model file is not a valid repricer.model/1' },
  FEATURES_MISMATCH: { status: 422, exit: 3, message: 'the input lacks feature columns the model needs' },
  NOT_FOUND: { status: 404, exit: 4, message: 'no such resource' },
  UNAUTHORIZED: { status: 401, exit: 2, message: 'a valid bearer API key is required' },
  PAYLOAD_TOO_LARGE: { status: 413, exit: 2, message: 'the request body is too large' },
  RATE_LIMITED: { status: 429, exit: 5, message: 'too many requests' },
  NO_MODEL: { status: 503, exit: 4, message: 'no model is loaded' },
  JOB_FAILED: { status: 500, exit: 5, message: 'a background job failed' },
  WORKER_CRASHED: { status: 500, exit: 5, message: 'a worker crashed twice on the same chunk' },
  INTERRUPTED: { status: 503, exit: 130, message: 'interrupted; no output was written' },
  INTERNAL: { status: 500, exit: 1, message: 'internal error' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, exit: 2, message: 'the request body is not of a media type the route takes (application/json; an observation upload: text/csv or application/vnd.apache.parquet)' },
  CONFLICT: { status: 409, exit: 2, message: 'the request conflicts with the current state' },
  HEADERS_TOO_LARGE: { status: 431, exit: 2, message: 'the request header fields are too large' },
  REQUEST_TIMEOUT: { status: 408, exit: 2, message: 'the request was not received in time' },
  // output file-system errors (a full disk, no permission, a read-only file system)
  OUTPUT_UNWRITABLE: { status: 500, exit: 6, message: 'an output file cannot be written (disk full, no permission, read-only file system)' },
  // the Redis server of the tiered quotes and of publication (serve --redis, reprice --publish)
  REDIS_UNAVAILABLE: { status: 503, exit: 5, message: 'the Redis server is unreachable' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class RepricerError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly exitCode: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'RepricerError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.exitCode = ERROR_CATALOG[code].exit;
    if (details) this.details = details;
  }
}

/** A malformed input row: names file, line and column (1-based lines, header is line 1). */
export function rowError(file: string, line: number, column: string, expected: string, got: string): RepricerError {
  return new RepricerError('INPUT_ROW_INVALID', `${file}:${line}: column ${column}: expected ${expected}, got ${JSON.stringify(got)}`, {
    file,
    line,
    column,
    expected,
    got,
  });
}

/**
 * An input file that cannot be read: NOT_FOUND (exit 4, "missing resource") when it does not
 * exist, INPUT_UNREADABLE (exit 3) for anything else (a folder, no permission). `what` names the
 * role of the file ("model", "catalogue", ...).
 */
export function readFailure(file: string, what: string, err: unknown): RepricerError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new RepricerError('NOT_FOUND', `${file}: no such ${what} file`, { file });
  return new RepricerError('INPUT_UNREADABLE', `${file}: cannot read ${what} (${code ?? String(err)})`, { file });
}

/** What a write-side file-system error code means, for messages; undefined for codes that are not. */
const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file is larger than this process may write',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EBADF: 'the file was closed',
  EEXIST: 'the file exists',
  EXDEV: 'the temporary file is on another file system',
  ENOENT: 'the folder or the temporary file disappeared',
};

/** A write-side errno code in words ("no space left on the device"). */
export function describeWriteError(code: string): string {
  return WRITE_ERRORS[code] ?? code;
}

/** The errno code of a Node file-system error, when it is one of the write-side codes above. */
export function writeErrorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code in WRITE_ERRORS ? code : undefined;
}

/**
 * A failed write of an output file: OUTPUT_UNWRITABLE naming the file, what it is ("prices",
 * "model", ...) and the cause in words with its errno code, without a stack trace. Anything that
 * is not a write-side file-system error is returned unchanged.
 */
export function writeFailure(file: string, what: string, err: unknown): unknown {
  if (err instanceof RepricerError) return err;
  const code = writeErrorCode(err);
  if (code === undefined) return err;
  return new RepricerError('OUTPUT_UNWRITABLE', `${file}: cannot write the ${what}: ${WRITE_ERRORS[code]} (${code})`, { file, errno: code });
}
