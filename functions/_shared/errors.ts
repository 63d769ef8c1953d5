// The contract's error codes and their HTTP statuses: the TypeScript side of the
// pos.errors table (tests/db/schema.test.ts keeps the two equal). Nothing here
// reads an error's text; codes come from MESSAGE of a PTnnn SQLSTATE.

export const ERROR_STATUS = {
  invalid_input: 400,
  not_authenticated: 401,
  forbidden: 403,
  not_found: 404,
  version_conflict: 409,
  cart_closed: 409,
  lock_mismatch: 409,
  total_mismatch: 409,
  cart_changed: 409,
  idempotency_key_reused: 422,
  cart_empty: 422,
  cart_locked: 423,
  payload_too_large: 413,
  limit_exceeded: 422,
  busy: 503,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Seconds a client should wait before retrying, sent as `Retry-After`. Only
 * these codes are worth retrying (with the same idempotency key): a held cart
 * is free again within a few seconds; a lost database takes a little longer.
 */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = { busy: 1, unavailable: 2 };

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }

  /** The `Retry-After` value in seconds, for the codes a client should retry. */
  get retryAfter(): number | undefined {
    return RETRY_AFTER_SECONDS[this.code];
  }

  toBody(): { error: { code: ErrorCode; message: string; details: unknown } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** What postgres.js reports: a server error (SQLSTATE in `code`) or a connection error. */
interface PostgresError {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
}

// Postgres's own SQLSTATEs that a client's bad input can still reach.
const SQLSTATE_CODES: Record<string, ErrorCode> = {
  "22P02": "invalid_input", // invalid_text_representation: a malformed uuid
  "22003": "invalid_input", // numeric_value_out_of_range
  "22023": "invalid_input", // invalid_parameter_value
  "22P05": "invalid_input", // untranslatable_character: \u0000 in JSON text
  "22021": "invalid_input", // character_not_in_repertoire: bytes that are not UTF-8
  "54001": "invalid_input", // statement_too_complex: nesting past Postgres's stack
  "42501": "forbidden", // insufficient_privilege: the role has no grant
};

// onecart's sentence for each of them: Postgres's wording never reaches a client.
const SQLSTATE_MESSAGES: Record<string, string> = {
  "22P02": "A value is not of the type this call takes.",
  "22003": "A number is out of the range this call takes.",
  "22023": "A value is not one this call takes.",
  "22P05": "Text may not contain NUL characters.",
  "22021": "Text must be valid UTF-8.",
  "54001": "A value nests too deeply.",
  "42501": "This role may not call this.",
};

// Waits that ran out, each in a transaction Postgres rolled back: nothing was
// changed, and the same request may simply be sent again. The SQL turns a held
// cart or queue into `busy` itself; these catch every other wait (a statement
// limit, a lock outside those helpers, a deadlock victim).
const BUSY_SQLSTATES = new Set([
  "55P03", // lock_not_available: lock_timeout ran out
  "57014", // query_canceled: statement_timeout ran out
  "40P01", // deadlock_detected
  "40001", // serialization_failure
]);

// The database could not be reached, or the connection was lost during a call.
// Whether a lost call committed is unknown; retrying with the same idempotency
// key is safe either way.
const UNAVAILABLE_CODES = new Set([
  // Postgres: the server is going away, starting, or refusing connections.
  "57P01", // admin_shutdown: the backend was terminated
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up or shutting down
  "57P05", // idle_session_timeout
  "53300", // too_many_connections
  // postgres.js
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  // the socket
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

export function busyError(): ApiError {
  return new ApiError(
    "busy",
    "This request waited too long behind other requests. Nothing was changed; try again " +
      "in a moment.",
    { retry_after: RETRY_AFTER_SECONDS.busy },
  );
}

export function unavailableError(): ApiError {
  return new ApiError(
    "unavailable",
    "onecart could not reach its database. Try again with the same Idempotency-Key: " +
      "a change is applied at most once.",
    { retry_after: RETRY_AFTER_SECONDS.unavailable },
  );
}

function parseHint(hint: string | undefined): unknown {
  if (!hint) return null;
  try {
    return JSON.parse(hint);
  } catch {
    return { hint };
  }
}

/** The contract error for a database error, or null when it is not one (a bug: 500). */
export function fromPostgresError(error: unknown): ApiError | null {
  const e = error as PostgresError;
  if (!e || typeof e.code !== "string") return null;
  if (/^PT\d{3}$/.test(e.code) && isErrorCode(e.message)) {
    return new ApiError(e.message, e.detail || e.message, parseHint(e.hint));
  }
  if (BUSY_SQLSTATES.has(e.code)) return busyError();
  if (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith("08")) return unavailableError();
  const code = SQLSTATE_CODES[e.code];
  return code ? new ApiError(code, SQLSTATE_MESSAGES[e.code] ?? "The request could not be carried out as sent.") : null;
}
