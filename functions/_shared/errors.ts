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

// Postgres's own SQLSTATEs that a client's bad input can still reach, each with
// onecart's sentence for it: Postgres's wording never reaches a client.
const SQLSTATE_CODES: Record<string, [ErrorCode, string]> = {
  "22P02": ["invalid_input", "A value is not of the type this route takes."], // invalid_text_representation
  "22003": ["invalid_input", "A number is out of the range this route takes."], // numeric_value_out_of_range
  "22023": ["invalid_input", "A value is not one this route takes."], // invalid_parameter_value
  "22P05": ["invalid_input", "Text may not contain NUL characters."], // untranslatable_character: \u0000 in JSON
  "22021": ["invalid_input", "Text must be valid UTF-8."], // character_not_in_repertoire
  "54001": ["invalid_input", "A value nests too deeply."], // statement_too_complex: stack depth
  "42501": ["forbidden", "This role may not call this."], // insufficient_privilege: the role has no grant
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
  const known = SQLSTATE_CODES[e.code];
  return known ? new ApiError(known[0], known[1]) : null;
}
