// Comparing JSON that came back from Postgres with what was sent.

/**
 * JSON text with object keys sorted: equal for equal values, whatever order
 * Postgres keeps keys in. A number JSON cannot hold gets a text of its own, so
 * it never compares equal to `null`, which JSON.stringify would make of it.
 */
export function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stable((value as any)[k])}`).join(",")}}`;
  }
  if (typeof value === "number" && !Number.isFinite(value)) return '"not a finite number"';
  return JSON.stringify(value);
}
