// What npm start makes of the stack's output, line by line, with and without
// ONECART_LOG_REQUESTS=1. The lines are in the form Postgres writes them with
// the stack's log_line_prefix; tests/platform/start.test.ts runs the real thing.
import { expect, it } from "vitest";
import { createLogFilter, hiddenSummary, LOCAL_REALTIME_APPLICATION } from "../../scripts/lib/logs.ts";

const REALTIME_CHECK =
  `42501 [${LOCAL_REALTIME_APPLICATION}] ERROR:  new row violates row-level security policy for table "messages"`;
const REFUSAL = `PT409 [] ERROR:  version_conflict`;
const OTHER_42501 = `42501 [] ERROR:  permission denied for table carts`;
const SYNTAX = `42601 [psql] ERROR:  syntax error at or near "selec" at character 1`;
const STATEMENT = `42601 [psql] STATEMENT:  selec 1`;
const REQUEST = JSON.stringify({
  level: "info",
  fn: "carts",
  method: "POST",
  route: "POST /:cart_id/items",
  status: 409,
  code: "version_conflict",
  ms: 4.1,
  request_id: "r-1",
});

it("prints what needs a look and counts the answers, by default", () => {
  const logs = createLogFilter(false);
  const shown = [REALTIME_CHECK, REFUSAL, REALTIME_CHECK, OTHER_42501, SYNTAX, STATEMENT].map(logs.postgresLine);
  expect(shown).toEqual([
    null,
    null,
    null,
    // The same SQLSTATE from any other connection is a real refusal of access.
    "[postgres] ERROR 42501: permission denied for table carts",
    `[postgres] ERROR 42601: syntax error at or near "selec" at character 1`,
    null,
  ]);
  expect(logs.functionLine(REQUEST)).toBeNull();
  expect(logs.functionLine(JSON.stringify({ level: "error", msg: "refusal not counted", code: "busy" })))
    .toBe(`[functions] error: refusal not counted {"code":"busy"}`);
  expect(logs.hidden).toEqual({ refusals: 1, realtimeChecks: 2 });
  expect(hiddenSummary(logs, false)).toBe(
    "Not printed: 1 refusals onecart answered (PTnnn) and 2 Realtime join checks refused by RLS (42501); " +
      "ONECART_LOG_REQUESTS=1 prints them.",
  );
});

it("prints every line, each answer said to be one, with ONECART_LOG_REQUESTS=1", () => {
  const logs = createLogFilter(true);
  expect([REALTIME_CHECK, REFUSAL, SYNTAX].map(logs.postgresLine)).toEqual([
    `[postgres] ERROR 42501: new row violates row-level security policy for table "messages" (a Realtime join check)`,
    "[postgres] ERROR PT409: version_conflict (a refusal, answered)",
    `[postgres] ERROR 42601: syntax error at or near "selec" at character 1`,
  ]);
  expect(logs.functionLine(REQUEST)).toBe("[request] POST /carts/:cart_id/items 409 version_conflict 4.1 ms r-1");
  expect(logs.hidden).toEqual({ refusals: 1, realtimeChecks: 1 });
  expect(hiddenSummary(logs, true)).toBeNull();
});
