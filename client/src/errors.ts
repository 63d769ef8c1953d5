// One error class for everything a call can end with: the contract's codes
// with their statuses and details, plus the two a client meets on its own
// side (the network failed, or the library gave up within its time bound).

/** The contract's error codes (v1.1). */
export const CONTRACT_ERROR_STATUS = {
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

export type ContractErrorCode = keyof typeof CONTRACT_ERROR_STATUS;

/**
 * `network_error`: no answer from onecart came (offline, connection cut,
 * request timed out, or a gateway's 502/503/504 in its place); the action may
 * or may not have been applied, and retrying it with its key is safe.
 * `server_error`: an answer without a contract code (a 500: a defect).
 * `expired`: not sent, because it waited longer than `maxActionAgeMs`; the
 * app resends or discards it.
 */
export type ErrorCode = ContractErrorCode | ClientErrorCode;

/** The codes a client meets on its own side, beside the contract's. */
export const CLIENT_ERROR_CODES = ["network_error", "server_error", "expired"] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

export class OnecartError extends Error {
  override readonly name = "OnecartError";
  readonly code: ErrorCode;
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  readonly details: unknown;
  /** From a `Retry-After` header, in seconds. */
  readonly retryAfterSeconds: number | null;

  constructor(code: ErrorCode, message: string, options: {
    status?: number;
    details?: unknown;
    retryAfterSeconds?: number | null;
    cause?: unknown;
  } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status ??
      (code in CONTRACT_ERROR_STATUS
        ? CONTRACT_ERROR_STATUS[code as ContractErrorCode]
        : code === "server_error"
        ? 500
        : 0);
    this.details = options.details ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }

  /**
   * What the contract (v1.1) lets a client retry with the same key: no answer,
   * `busy` and `unavailable`. Everything else is an answer, and asking again
   * would get the same one.
   */
  get retryable(): boolean {
    return this.code === "network_error" || this.code === "busy" || this.code === "unavailable";
  }

  toJSON() {
    return { name: this.name, code: this.code, status: this.status, message: this.message, details: this.details };
  }
}

export function isContractErrorCode(value: unknown): value is ContractErrorCode {
  return typeof value === "string" && Object.hasOwn(CONTRACT_ERROR_STATUS, value);
}

/** Errors come back from storage as plain objects: make them an OnecartError again. */
export function asOnecartError(error: unknown): OnecartError {
  if (error instanceof OnecartError) return error;
  const e = error as { code?: unknown; status?: unknown; message?: unknown; details?: unknown } | null;
  if (e && (isContractErrorCode(e.code) || (CLIENT_ERROR_CODES as readonly unknown[]).includes(e.code))) {
    return new OnecartError(e.code as ErrorCode, String(e.message ?? e.code), {
      status: typeof e.status === "number" ? e.status : undefined,
      details: e.details,
    });
  }
  return new OnecartError("network_error", error instanceof Error ? error.message : String(error), { cause: error });
}
