// A local stand-in for Supabase Realtime's Broadcast over the Phoenix protocol
// (vsn 2.0.0) that @supabase/realtime-js speaks, so unmodified supabase-js
// clients can subscribe to the local stack. What it keeps from the real service:
// - messages are realtime.messages rows streamed from the WAL by logical
//   replication (pgoutput), so they go out after commit, in commit order, and a
//   rolled-back row never exists for it;
// - private channels are authorized the way Realtime does it: a probe row read
//   back under the joining user's role, JWT claims and realtime.topic, so the
//   RLS policies on realtime.messages decide;
// - the channel closes when its token expires and re-authorizes on refresh;
// - public and private channels of one name are two channels: a message sent on
//   one never reaches subscribers of the other (the `private` flag of
//   realtime.messages and of the join picks the side);
// - like a hosted project with "Allow public access" turned off, which onecart
//   requires (docs/realtime.md), it refuses public channels unless
//   ONECART_REALTIME_ALLOW_PUBLIC=1 makes it a project that allows them.
// What it adds: when its replication connection was lost (the walsender killed,
// Postgres restarted), whatever was committed meanwhile was never decoded, so
// once it streams again every joined channel gets a `system` error and
// `phx_error`; realtime-js rejoins it, the subscribe callback says SUBSCRIBED
// again, and a client that reads the state after each (re)subscribe misses
// nothing.
import postgres from "npm:postgres@3.4.9";
import type { JWTPayload } from "npm:jose@6.2.18";
import { verifyToken } from "../../functions/_shared/auth.ts";
import { apiKeyRole } from "./api-keys.ts";
import { replicate, type Replication } from "./replication.ts";
import { payloadTooLarge, planFromEnv, RateCounter } from "./realtime-plan.ts";
import { LOCAL_REALTIME_APPLICATION } from "../lib/logs.ts";

// Supabase Realtime answers a refused join after CHANNEL_ERROR_BACKOFF_MS and a
// refused connection after CONNECT_ERROR_BACKOFF_MS (config/runtime.exs), so a
// client that retries at once cannot hammer it; the same names set them here.
const CHANNEL_ERROR_BACKOFF_MS = 5000;
const CONNECT_ERROR_BACKOFF_MS = 2000;
// config/config.exs: replication_ready_timeout.
const REPLICATION_READY_TIMEOUT_MS = 60_000;

function msFromEnv(name: string, fallback: number): number {
  const value = Deno.env.get(name);
  return value === undefined || value === "" ? fallback : Number(value);
}

type Frame = [string | null, string | null, string, string, Record<string, unknown>];

interface Subscription {
  socket: WebSocket;
  joinRef: string | null;
  /** As the client names it, e.g. "realtime:cart:<id>". */
  channelTopic: string;
  /** As the database names it, e.g. "cart:<id>". */
  topic: string;
  isPrivate: boolean;
  canWrite: boolean;
  self: boolean;
  claims: JWTPayload;
  /** The token the channel was authorized with (a repeated push of it is ignored, as upstream). */
  token: string | null;
  expiryTimer?: ReturnType<typeof setTimeout>;
  /** Set while a join that opted into `replication_ready` waits for the replication to start. */
  replicationDeadline?: ReturnType<typeof setTimeout>;
}

interface Message {
  id: string;
  topic: string;
  event: string;
  private: boolean;
  extension: string;
  payload: unknown;
}

export interface RealtimeServer {
  handle(request: Request): Promise<Response>;
  close(): Promise<void>;
}

export async function startRealtime(
  dbUrl: string,
  log: (line: Record<string, unknown>) => void,
  options: { allowPublic?: boolean } = {},
): Promise<RealtimeServer> {
  const allowPublic = options.allowPublic ?? Deno.env.get("ONECART_REALTIME_ALLOW_PUBLIC") === "1";
  const sql = postgres(dbUrl, {
    max: 4,
    prepare: false,
    onnotice: () => {},
    connect_timeout: 5,
    // Named, so that the join checks RLS refuses are told apart in the logs.
    connection: { application_name: LOCAL_REALTIME_APPLICATION },
  });
  const byTopic = new Map<string, Set<Subscription>>();
  const bySocket = new Map<WebSocket, Map<string, Subscription>>();

  const [{ wal_level }] = await sql`show wal_level`;
  if (wal_level !== "logical") {
    throw new Error(
      `the local Realtime endpoint reads the WAL and needs wal_level = logical (it is ${wal_level}): ` +
        "ALTER SYSTEM SET wal_level = logical, then restart Postgres",
    );
  }
  const plan = planFromEnv();
  const channelErrorBackoffMs = msFromEnv("CHANNEL_ERROR_BACKOFF_MS", CHANNEL_ERROR_BACKOFF_MS);
  const connectErrorBackoffMs = msFromEnv("CONNECT_ERROR_BACKOFF_MS", CONNECT_ERROR_BACKOFF_MS);
  // The tenant's counters (Tenants.events_per_second_rate, joins_per_second_rate).
  const events = new RateCounter(plan.maxEventsPerSecond, (triggered, avg) =>
    log({
      level: triggered ? "error" : "info",
      realtime: "limit",
      limit: "events_per_second",
      triggered,
      avg,
      ...(triggered ? { msg: "MessagePerSecondRateLimitReached: Too many messages per second" } : {}),
    }));
  const joins = new RateCounter(plan.maxJoinsPerSecond, (triggered, avg) =>
    log({
      level: triggered ? "error" : "info",
      realtime: "limit",
      limit: "joins_per_second",
      triggered,
      avg,
      ...(triggered ? { msg: "ClientJoinRateLimitReached: Too many joins per second" } : {}),
    }));
  log({ level: "info", realtime: "plan", plan: plan.name });

  // Supabase Realtime starts a tenant's replication when the tenant is first
  // connected to, not before; until its slot exists, nothing committed is
  // decoded for anyone. So does the local one.
  let replication: Replication | undefined;
  function ensureReplication(): void {
    if (replication) return;
    const started = replicate(dbUrl, {
      publication: "onecart_local_realtime",
      onRow(row, table) {
        // A partition's name when the publication does not publish through the root.
        if (table !== "realtime.messages" && !table.startsWith("realtime.messages_")) return;
        fromDatabase(row);
      },
      onRestored: () => rejoinAll(),
      log,
    });
    replication = started;
    waitForFirstSlot(sql, started.ready, log).then(() => notifyReplicationReady(), (error) => {
      log({ level: "error", realtime: "replication", event: "start_failed", error: String(error) });
      // The next connection tries again.
      if (replication === started) replication = undefined;
    });
  }

  /** ReplicationConnection.handle_message for an insert: checked against the plan, then fanned out. */
  function fromDatabase(row: Record<string, string | null>) {
    const body = row.payload ?? "";
    if (payloadTooLarge(plan, new TextEncoder().encode(body).length)) {
      log({ level: "error", realtime: "broadcast", msg: "UnableToBroadcastChanges: payload_size_exceeded" });
      return;
    }
    if (events.triggered) {
      log({ level: "error", realtime: "broadcast", msg: "UnableToBroadcastChanges: too_many_requests" });
      return;
    }
    let payload: unknown = null;
    try {
      payload = row.payload === null ? null : JSON.parse(row.payload);
    } catch {
      return;
    }
    events.add();
    deliver({
      id: row.id ?? "",
      topic: row.topic ?? "",
      event: row.event ?? "",
      private: row.private === "t",
      extension: row.extension ?? "",
      payload,
    });
  }

  /** RealtimeChannel's :notify_replication_ready, for every channel that opted in and waits. */
  function notifyReplicationReady() {
    for (const subs of bySocket.values()) {
      for (const sub of subs.values()) {
        if (sub.replicationDeadline === undefined) continue;
        clearTimeout(sub.replicationDeadline);
        sub.replicationDeadline = undefined;
        pushSystem(sub, "ok", "Replication connection established");
      }
    }
  }

  function send(socket: WebSocket, frame: Frame) {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function deliver(message: Message, except?: WebSocket) {
    if (message.extension !== "broadcast") return;
    for (const sub of [...byTopic.get(message.topic) ?? []]) {
      // Supabase Realtime keeps the two apart ("<tenant>-private:<topic>" and
      // "<tenant>:<topic>"): a public message never reaches a private channel,
      // nor a private one a public channel.
      if (message.private !== sub.isPrivate) continue;
      if (sub.socket === except && !sub.self) continue;
      send(sub.socket, [null, null, sub.channelTopic, "broadcast", {
        type: "broadcast",
        event: message.event,
        payload: message.payload,
        meta: { id: message.id },
      }]);
      // Each delivery counts (MessageDispatcher's :update_rate_counter), and a
      // channel that receives one while the tenant is over its limit is shut.
      events.add();
      if (events.triggered) closeChannel(sub, "Too many messages per second");
    }
  }

  /** Read and write permission on a topic for these claims, decided by RLS. */
  async function authorize(topic: string, claims: JWTPayload): Promise<{ read: boolean; write: boolean }> {
    const role = typeof claims.role === "string" ? claims.role : "anon";
    try {
      return await sql.begin(async (tx) => {
        const [probe] = await tx`insert into realtime.messages (topic, extension, private, event, payload)
                                   values (${topic}, 'broadcast', true, 'authorization_probe', '{}')
                                   returning id`;
        await tx`select set_config('role', ${role}, true),
                        set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                        set_config('realtime.topic', ${topic}, true)`;
        const [{ read }] = await tx`select exists (select 1 from realtime.messages where id = ${probe.id}) as read`;
        let write = false;
        try {
          await tx.savepoint(async (sp) => {
            await sp`insert into realtime.messages (topic, extension, private, event, payload)
                     values (${topic}, 'broadcast', true, 'authorization_probe', '{}')`;
          });
          write = true;
        } catch {
          write = false;
        }
        // Roll back the probes; nothing of this transaction may be delivered.
        throw new Rollback({ read, write });
      });
    } catch (error) {
      if (error instanceof Rollback) return error.result;
      throw error;
    }
  }

  function unsubscribe(sub: Subscription) {
    clearTimeout(sub.expiryTimer);
    clearTimeout(sub.replicationDeadline);
    byTopic.get(sub.topic)?.delete(sub);
    bySocket.get(sub.socket)?.delete(sub.channelTopic);
  }

  function pushSystem(sub: Subscription, status: "ok" | "error", message: string) {
    send(sub.socket, [sub.joinRef, null, sub.channelTopic, "system", {
      message,
      status,
      extension: "system",
      channel: sub.topic,
    }]);
  }

  /** RealtimeChannel's shutdown_response: a system error, then the channel stops. */
  function closeChannel(sub: Subscription, reason: string) {
    pushSystem(sub, "error", reason);
    send(sub.socket, [sub.joinRef, null, sub.channelTopic, "phx_close", {}]);
    unsubscribe(sub);
  }

  /** Every joined channel errors and rejoins: messages may have been missed. */
  function rejoinAll() {
    for (const subs of bySocket.values()) {
      for (const sub of [...subs.values()]) {
        send(sub.socket, [sub.joinRef, null, sub.channelTopic, "system", {
          message:
            "Realtime lost its database connection and may have missed messages; rejoin and read the state again",
          status: "error",
          extension: "system",
          channel: sub.topic,
        }]);
        send(sub.socket, [sub.joinRef, sub.joinRef, sub.channelTopic, "phx_error", {}]);
        unsubscribe(sub);
      }
    }
  }

  /** As `authorize`, once more if the pool's connection had died under it (Postgres restarted). */
  async function authorizeFresh(topic: string, claims: JWTPayload) {
    try {
      return await authorize(topic, claims);
    } catch {
      return await authorize(topic, claims);
    }
  }

  function scheduleExpiry(sub: Subscription) {
    clearTimeout(sub.expiryTimer);
    if (typeof sub.claims.exp !== "number") return;
    const ms = sub.claims.exp * 1000 - Date.now();
    // Timers overflow past 2^31 ms (~24 days); such tokens outlive any local run.
    if (ms > 2 ** 31 - 1) return;
    sub.expiryTimer = setTimeout(() => closeChannel(sub, "Token has expired"), Math.max(0, ms));
  }

  async function claimsFor(token: unknown): Promise<JWTPayload | null> {
    if (typeof token !== "string" || token === "") return null;
    try {
      // An API key (sb_publishable_…, sb_secret_…) stands for its role, as the
      // Supabase gateway makes it; a user's JWT for the user.
      if (token.startsWith("sb_")) {
        const role = await apiKeyRole(token);
        return role ? { role } : null;
      }
      return await verifyToken(token);
    } catch {
      return null;
    }
  }

  async function onFrame(socket: WebSocket, apiKey: string | null, frame: Frame) {
    const [joinRef, ref, channelTopic, event, payload] = frame;
    const reply = (status: "ok" | "error", response: Record<string, unknown> = {}) =>
      send(socket, [joinRef, ref, channelTopic, "phx_reply", { status, response }]);
    const subs = bySocket.get(socket)!;

    if (channelTopic === "phoenix" && event === "heartbeat") return reply("ok");
    const topic = channelTopic.replace(/^realtime:/, "");

    if (event === "phx_join") {
      // A refused join is answered after the back-off (RealtimeChannel.join_error);
      // the socket's other frames go on meanwhile, as each channel is its own process there.
      const refuse = (reason: string, after?: () => void) => {
        setTimeout(() => {
          reply("error", { reason });
          after?.();
        }, channelErrorBackoffMs);
      };
      const config = (payload.config ?? {}) as {
        private?: boolean;
        broadcast?: { self?: boolean; replication_ready?: boolean };
      };
      const isPrivate = config.private === true;
      if (!isPrivate && !allowPublic) return refuse("PrivateOnly: This project only allows private channels");
      if (joins.triggered) {
        // The socket is disconnected too.
        return refuse("ClientJoinRateLimitReached: Too many joins per second", () => socket.close(1000));
      }
      joins.add();
      const existing = subs.get(channelTopic);
      if (subs.size - (existing ? 1 : 0) >= plan.maxChannelsPerClient) {
        return refuse("ChannelRateLimitReached: Too many channels");
      }
      // An API key pushed as the token stands for the connection's own key (assign_access_token).
      const pushed = typeof payload.access_token === "string" && !payload.access_token.startsWith("sb_")
        ? payload.access_token
        : null;
      const claims = await claimsFor(pushed ?? apiKey);
      if (!claims) return refuse("Invalid or expired token");
      let rights = { read: true, write: true };
      if (isPrivate) {
        try {
          rights = await authorizeFresh(topic, claims);
        } catch (error) {
          log({ level: "warn", realtime: "join", error: String(error) });
          return refuse("UnableToConnectToProject: Realtime was unable to connect to the project database");
        }
      }
      if (!rights.read) {
        return refuse(`Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`);
      }
      const again = subs.get(channelTopic);
      if (again) unsubscribe(again);
      const sub: Subscription = {
        socket,
        joinRef,
        channelTopic,
        topic,
        isPrivate,
        canWrite: rights.write,
        self: config.broadcast?.self === true,
        claims,
        token: pushed,
      };
      subs.set(channelTopic, sub);
      if (!byTopic.has(topic)) byTopic.set(topic, new Set());
      byTopic.get(topic)!.add(sub);
      scheduleExpiry(sub);
      reply("ok", { postgres_changes: [] });
      if (config.broadcast?.replication_ready === true) {
        if (replication?.streaming) {
          pushSystem(sub, "ok", "Replication connection established");
        } else {
          sub.replicationDeadline = setTimeout(
            () => closeChannel(sub, "Replication connection was not established in time"),
            REPLICATION_READY_TIMEOUT_MS,
          );
        }
      }
      return;
    }

    const sub = subs.get(channelTopic);
    if (!sub) return reply("error", { reason: "unmatched topic" });
    switch (event) {
      case "phx_leave":
        unsubscribe(sub);
        reply("ok");
        return send(socket, [joinRef, ref, channelTopic, "phx_close", {}]);
      case "access_token": {
        // As upstream: an API key pushed as the token (supabase-js pushes its key on
        // SIGNED_OUT), the same token again, or none, changes nothing; the channel
        // goes on with what it was authorized with until that expires.
        const token = payload.access_token;
        if (typeof token !== "string" || token.startsWith("sb_") || token === sub.token) return;
        const claims = await claimsFor(token);
        if (!claims) return closeChannel(sub, "Token has expired or is invalid");
        if (sub.isPrivate) {
          // Database unreachable: keep what was granted until it answers again.
          const rights = await authorizeFresh(topic, claims).catch(() => ({ read: true, write: sub.canWrite }));
          if (!rights.read) {
            return closeChannel(sub, `You no longer have permission to read from this Channel topic: ${topic}`);
          }
          sub.canWrite = rights.write;
        }
        sub.claims = claims;
        sub.token = token;
        scheduleExpiry(sub);
        return;
      }
      case "broadcast": {
        if (!sub.canWrite) {
          return ref ? reply("error", { reason: "Unauthorized: cannot send on this topic" }) : undefined;
        }
        const message = payload as { event?: string; payload?: unknown };
        events.add();
        if (payloadTooLarge(plan, new TextEncoder().encode(JSON.stringify(message.payload ?? null)).length)) {
          return ref ? reply("error", { reason: "payload_size_exceeded" }) : undefined;
        }
        deliver({
          id: crypto.randomUUID(),
          topic,
          event: String(message.event),
          private: sub.isPrivate,
          extension: "broadcast",
          payload: message.payload,
        }, socket);
        return ref ? reply("ok") : undefined;
      }
      default:
        // presence and postgres_changes are not part of onecart's contract.
        return reply("ok");
    }
  }

  return {
    async handle(request: Request): Promise<Response> {
      const url = new URL(request.url);
      // TenantRateLimiters.check_tenant at connect: past the plan's concurrent
      // connections, 429 after the connect back-off (UserSocket.connect_error).
      if (bySocket.size >= plan.maxConcurrentUsers) {
        await new Promise((resolve) => setTimeout(resolve, connectErrorBackoffMs));
        return Response.json({ error: "Too many connected users" }, { status: 429 });
      }
      ensureReplication();
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.binaryType = "arraybuffer";
      const apiKey = url.searchParams.get("apikey");
      let inbox = Promise.resolve();
      // Counted from the upgrade, so a burst of connections meets the limit at once.
      bySocket.set(socket, new Map());
      socket.onmessage = (event) => {
        let frame: Frame | null = null;
        try {
          frame = decode(event.data);
        } catch {
          // A malformed frame is that client's problem, never the server's.
        }
        if (!frame) return;
        // Frames of one socket are handled in the order they came.
        inbox = inbox.then(() => onFrame(socket, apiKey, frame))
          .catch((error) => log({ level: "error", realtime: "frame", error: String(error) }));
      };
      socket.onclose = () => {
        for (const sub of bySocket.get(socket)?.values() ?? []) unsubscribe(sub);
        bySocket.delete(socket);
      };
      return response;
    },
    async close() {
      events.stop();
      joins.stop();
      await replication?.close();
      for (const socket of bySocket.keys()) socket.close(1001, "server shutting down");
      await sql.end({ timeout: 2 });
    },
  };
}

class Rollback {
  constructor(readonly result: { read: boolean; write: boolean }) {}
}

/** Text frames are JSON arrays; binary frames are realtime-js's user broadcast push (kind 3). */
function decode(data: unknown): Frame | null {
  if (typeof data === "string") {
    const parsed = JSON.parse(data);
    // Topic and event are strings and the payload an object, or the frame is not one.
    const wellFormed = Array.isArray(parsed) && parsed.length === 5 && typeof parsed[2] === "string" &&
      typeof parsed[3] === "string" && typeof parsed[4] === "object" && parsed[4] !== null;
    return wellFormed ? parsed as Frame : null;
  }
  if (!(data instanceof ArrayBuffer)) return null;
  const view = new DataView(data);
  if (view.getUint8(0) !== 3) return null;
  const sizes = [1, 2, 3, 4, 5].map((i) => view.getUint8(i));
  const encoding = view.getUint8(6);
  const text = new TextDecoder();
  let offset = 7;
  // The fifth field, metadata, only carries `persist`, which has no meaning here.
  const [joinRef, ref, topic, userEvent] = sizes.map((size) => {
    const value = text.decode(data.slice(offset, offset + size));
    offset += size;
    return value;
  });
  const body = data.slice(offset);
  const payload = encoding === 1 ? JSON.parse(text.decode(body)) : body;
  return [joinRef || null, ref || null, topic, "broadcast", { type: "broadcast", event: userEvent, payload }];
}

/**
 * Creating a logical slot waits until every transaction running anywhere on
 * the server has ended, since decoding starts from a point none of them
 * straddles. One left open (an idle session in a transaction, a long
 * migration) would hold the start silently for as long as it lasts, so the
 * wait says, every so often, which sessions it is waiting for. It does not give
 * up: ending those sessions, or their finishing, lets the start go on.
 */
async function waitForFirstSlot(
  sql: ReturnType<typeof postgres>,
  ready: Promise<void>,
  log: (line: Record<string, unknown>) => void,
): Promise<void> {
  const FIRST_REPORT_MS = 5_000;
  const REPORT_EVERY_MS = 15_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let started = false;
  const report = async () => {
    const sessions = await sql`
      select pid, datname as database, usename as "user", state,
             round(extract(epoch from now() - xact_start))::int as open_for_seconds,
             left(query, 120) as last_query
        from pg_stat_activity
       where backend_xid is not null and pid <> pg_backend_pid()
       order by xact_start`.catch(() => []);
    if (started) return;
    log({
      level: "warn",
      realtime: "replication",
      event: "waiting_for_transactions",
      message: sessions.length
        ? "Realtime starts once these transactions end (its replication slot waits for every open one)"
        : "Realtime is still creating its replication slot; no open transaction is visible (a prepared one may be)",
      sessions: [...sessions],
    });
    timer = setTimeout(report, REPORT_EVERY_MS);
  };
  timer = setTimeout(report, FIRST_REPORT_MS);
  try {
    await ready;
  } finally {
    started = true;
    clearTimeout(timer);
  }
}
