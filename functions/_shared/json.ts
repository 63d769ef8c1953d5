// JSON from clients, refused rather than altered. JSON.parse accepts text that
// onecart could not store as sent: numbers it turns into Infinity or rounds
// (1e400, 12345678901234567890), escapes that make a lone surrogate (which
// becomes U+FFFD on the way to Postgres) or NUL (which Postgres cannot hold),
// and nesting deep enough that a recursive step later (JSON.stringify,
// Postgres's own parser) runs out of stack. scanJson looks at the raw text
// first, without recursion, so none of that reaches JSON.parse.
import { ApiError } from "./errors.ts";

/** Deeper than any route's body can be: options (4 levels) inside the body object. */
export const MAX_BODY_DEPTH = 8;
export const MAX_OPTIONS_BYTES = 1024;
export const MAX_OPTIONS_DEPTH = 4;
/** A decimal with this many significant digits always survives a round trip through a double. */
export const MAX_SIGNIFICANT_DIGITS = 15;

const NUMBER = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Whether a JSON number token reads back as written in every JSON client: at
 * most 15 significant digits, and 0 or a magnitude in [1e-300, 1e300), the same
 * rule as pos.checked_options. Malformed tokens pass: JSON.parse refuses them.
 */
export function numberIsExact(token: string): boolean {
  const m = NUMBER.exec(token);
  if (!m) return true;
  const [, whole, fraction = "", exponent = "0"] = m;
  let digits = (whole + fraction).replace(/^0+/, "");
  if (digits === "") return true; // zero, however written
  let scale = Number(exponent) - fraction.length;
  const trimmed = digits.replace(/0+$/, "");
  scale += digits.length - trimmed.length;
  digits = trimmed;
  const magnitude = scale + digits.length - 1; // the value is in [10^magnitude, 10^(magnitude+1))
  return digits.length <= MAX_SIGNIFICANT_DIGITS && magnitude >= -300 && magnitude < 300;
}

function refuse(message: string, details: unknown = null): never {
  throw new ApiError("invalid_input", message, details);
}

/** Checks `text` as described above, in one pass without recursion. */
export function scanJson(text: string, maxDepth = MAX_BODY_DEPTH): void {
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "{" || c === "[") {
      if (++depth > maxDepth) refuse(`JSON here nests at most ${maxDepth} levels deep.`, { max_depth: maxDepth });
      i++;
    } else if (c === "}" || c === "]") {
      depth--;
      i++;
    } else if (c === '"') {
      i = scanString(text, i + 1);
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      let end = i + 1;
      while (end < text.length && /[0-9eE+\-.]/.test(text[end])) end++;
      if (!numberIsExact(text.slice(i, end))) {
        refuse(
          `Numbers have at most ${MAX_SIGNIFICANT_DIGITS} significant digits and a magnitude between 1e-300 and 1e300.`,
        );
      }
      i = end;
    } else {
      i++;
    }
  }
}

/** Scans a string body from `i` (after its opening quote); returns the index after its closing quote. */
function scanString(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c >= 0xd800 && c <= 0xdfff) {
      // Unescaped: well formed only as a high surrogate followed by a low one.
      const next = text.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) refuse("Text holds a lone surrogate.");
      i += 2;
      continue;
    }
    if (c !== 0x5c) {
      i++;
      continue;
    }
    if (text[i + 1] !== "u") {
      i += 2;
      continue;
    }
    const unit = parseInt(text.slice(i + 2, i + 6), 16);
    if (unit === 0) refuse("Text may not contain NUL characters.");
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = text.slice(i + 6, i + 8) === "\\u" ? parseInt(text.slice(i + 8, i + 12), 16) : NaN;
      if (!(low >= 0xdc00 && low <= 0xdfff)) refuse("Text holds a lone surrogate.");
      i += 12;
      continue;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) refuse("Text holds a lone surrogate.");
    i += 6;
  }
  return i;
}

/** JSON.parse after scanJson; every failure is invalid_input. */
export function parseJson(text: string, maxDepth = MAX_BODY_DEPTH): unknown {
  scanJson(text, maxDepth);
  try {
    return JSON.parse(text);
  } catch {
    return refuse("The body is not valid JSON.");
  }
}

/** The UTF-8 text of `bytes`, or invalid_input when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return refuse("The body is not valid UTF-8.");
  }
}

/** How deeply `value` nests (a scalar 0, `{}` 1), without recursion. */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Why `options` cannot be a line's options, or null when it can. The size is of
 * the compact JSON; Postgres's stored form is never shorter, so what passes here
 * may still be refused by pos.checked_options, never the other way round.
 */
export function optionsProblem(options: unknown): string | null {
  if (options === null || typeof options !== "object" || Array.isArray(options)) return "Options are a JSON object.";
  if (nestingDepth(options) > MAX_OPTIONS_DEPTH) return `Options nest at most ${MAX_OPTIONS_DEPTH} levels deep.`;
  if (new TextEncoder().encode(JSON.stringify(options)).byteLength > MAX_OPTIONS_BYTES) {
    return "Options are at most 1 KiB of JSON.";
  }
  return null;
}
