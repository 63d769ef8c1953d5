// The contract's error codes and their HTTP statuses: the TypeScript side of the
// pos.errors table (tests/schema.test.ts keeps the two equal). Nothing here
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
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

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

  toBody(): { error: { code: ErrorCode; message: string; details: unknown } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** What postgres.js reports for a server error. */
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
  const code = SQLSTATE_CODES[e.code];
  return code ? new ApiError(code, SQLSTATE_MESSAGES[e.code] ?? "The request could not be carried out as sent.") : null;
}
