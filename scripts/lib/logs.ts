// What `npm start` prints of the stack's own output: the lines a person must act
// on. Function errors and warnings and Postgres errors always, one line each.
// Two kinds of Postgres error are answers, not faults, and are only counted
// unless ONECART_LOG_REQUESTS=1 asks for every line:
// - onecart's own refusals (SQLSTATE PTnnn: version_conflict, cart_locked, …),
//   which the client receives as the contract's codes;
// - the local Realtime's authorization probes: a channel join tries an insert
//   into realtime.messages under the user's role, as Supabase Realtime does, and
//   a topic the user may read but not write answers 42501 from RLS.

/** The application_name of the local Realtime's connections, which Postgres writes in each log line. */
export const LOCAL_REALTIME_APPLICATION = "onecart_local_realtime";

/** Postgres's log_line_prefix: the SQLSTATE and the connection's application_name. */
export const POSTGRES_LOG_PREFIX = "%e [%a] ";

export interface LogFilter {
  functionLine(line: string): string | null;
  postgresLine(line: string): string | null;
  /** What was counted and not printed. */
  readonly hidden: { refusals: number; realtimeChecks: number };
}

export function createLogFilter(showRequests: boolean): LogFilter {
  const hidden = { refusals: 0, realtimeChecks: 0 };
  return {
    hidden,
    functionLine(line) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        return `[functions] ${line}`; // not ours: an uncaught error or a runtime message
      }
      const { level, msg, error, ...rest } = entry;
      if (level === "error" || level === "warn") {
        return `[functions] ${level}: ${msg ?? error ?? ""} ${JSON.stringify(rest)}`.trimEnd();
      }
      if (showRequests && entry.route) {
        const code = entry.code ? ` ${entry.code}` : "";
        const [method, path] = String(entry.route).split(" ");
        const route = path === undefined ? method : `${method} /${entry.fn}${path === "/" ? "" : path}`;
        return `[request] ${route} ${entry.status}${code} ${entry.ms} ms ${entry.request_id}`;
      }
      return null;
    },
    postgresLine(line) {
      const match = /^(\w{5}) \[([^\]]*)\] (ERROR|FATAL|PANIC|WARNING):\s+(.*)$/.exec(line);
      if (!match) return null;
      const [, sqlstate, application, level, message] = match;
      const refusal = sqlstate.startsWith("PT");
      const realtimeCheck = sqlstate === "42501" && application === LOCAL_REALTIME_APPLICATION;
      if (refusal) hidden.refusals++;
      if (realtimeCheck) hidden.realtimeChecks++;
      if ((refusal || realtimeCheck) && !showRequests) return null;
      const note = refusal ? " (a refusal, answered)" : realtimeCheck ? " (a Realtime join check)" : "";
      return `[postgres] ${level} ${sqlstate}: ${message}${note}`;
    },
  };
}

/** The closing line about what was counted and not printed, or null when nothing was. */
export function hiddenSummary(filter: LogFilter, showRequests: boolean): string | null {
  const { refusals, realtimeChecks } = filter.hidden;
  if (showRequests || refusals + realtimeChecks === 0) return null;
  return `Not printed: ${refusals} refusals onecart answered (PTnnn) and ${realtimeChecks} Realtime join checks ` +
    "refused by RLS (42501); ONECART_LOG_REQUESTS=1 prints them.";
}
