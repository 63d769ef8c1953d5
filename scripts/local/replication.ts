// The local Realtime's feed: committed inserts into realtime.messages, decoded
// from the WAL through a temporary logical replication slot (pgoutput), as
// Supabase Realtime reads them. It outlives its connection: when the walsender
// is terminated or Postgres restarts, it opens a new slot as soon as the server
// answers again and says so (`onRestored`), because whatever was committed while
// no slot existed was never decoded for anyone.
//
// postgres.js's own `subscribe` reconnects from an async close handler whose
// failure nobody can catch (an unhandled rejection while Postgres is down), so
// the replication protocol is spoken here directly.
import postgres from "npm:postgres@3.4.9";
import { Buffer } from "node:buffer";
import { LOCAL_REALTIME_APPLICATION } from "../lib/logs.ts";
import type { Duplex } from "node:stream";

export type Row = Record<string, string | null>;

export interface ReplicationOptions {
  publication: string;
  /** Each inserted row of the published table(s), in commit order, columns as text. */
  onRow(row: Row, table: string): void;
  /** Streaming again after it had been lost (not called for the first start). */
  onRestored(): void;
  log(line: Record<string, unknown>): void;
}

export interface Replication {
  /** Resolves once the first slot streams; rejects if the first attempt fails. */
  ready: Promise<void>;
  /** True while a slot streams. */
  readonly streaming: boolean;
  close(): Promise<void>;
}

interface Relation {
  table: string;
  columns: string[];
}

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

export function replicate(dbUrl: string, options: ReplicationOptions): Replication {
  let closed = false;
  let streaming = false;
  let current: { sql: ReturnType<typeof postgres>; done: () => void } | undefined;
  let wake: (() => void) | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // Nobody may be left holding a rejected promise: a failed first start is
  // reported through `ready` only if someone awaits it.
  ready.catch(() => {});

  /** One slot, streamed until its connection goes; resolves when it has gone. */
  async function streamOnce(first: boolean): Promise<void> {
    let done!: () => void;
    const gone = new Promise<void>((resolve) => (done = resolve));
    const sql = postgres(dbUrl, {
      max: 1,
      prepare: false,
      fetch_types: false,
      idle_timeout: 0,
      max_lifetime: null,
      connect_timeout: 5,
      onnotice: () => {},
      onclose: () => done(),
      connection: { replication: "database", application_name: LOCAL_REALTIME_APPLICATION },
    });
    current = { sql, done };
    try {
      const slot = `onecart_realtime_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
      const [created] = await sql.unsafe(
        `CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`,
      );
      const stream = await sql.unsafe(
        `START_REPLICATION SLOT ${slot} LOGICAL ${created.consistent_point} ` +
          `(proto_version '1', publication_names '${options.publication}')`,
      ).writable() as unknown as Duplex;
      const relations = new Map<number, Relation>();
      let flushed = 0n;

      const acknowledge = (lsn: bigint, reply = false) => {
        if (lsn > flushed) flushed = lsn;
        const message = Buffer.alloc(34);
        message[0] = "r".charCodeAt(0);
        message.writeBigUInt64BE(flushed, 1); // written
        message.writeBigUInt64BE(flushed, 9); // flushed
        message.writeBigUInt64BE(flushed, 17); // applied
        message.writeBigInt64BE(BigInt(Date.now() - PG_EPOCH_MS) * 1000n, 25);
        message[33] = reply ? 1 : 0;
        try {
          stream.write(message);
        } catch {
          // the connection is going; the close handler takes it from here
        }
      };

      stream.on("data", (chunk: Buffer) => {
        try {
          if (chunk[0] === 0x77) { // 'w': XLogData
            const end = decode(chunk.subarray(25), relations, options.onRow);
            if (end !== null) acknowledge(end);
          } else if (chunk[0] === 0x6b) { // 'k': keepalive
            const walEnd = chunk.readBigUInt64BE(1);
            // Nothing published is pending when the server reports its WAL end
            // between transactions, so the slot may advance there.
            if (chunk[17]) acknowledge(walEnd, false);
          }
        } catch (error) {
          options.log({ level: "error", realtime: "decode", error: String(error) });
        }
      });
      stream.on("error", (error: Error) => {
        options.log({ level: "warn", realtime: "replication", event: "stream_error", error: String(error) });
        done();
      });
      stream.on("close", () => done());
      stream.on("end", () => done());

      streaming = true;
      options.log({ level: "info", realtime: "replication", event: first ? "started" : "restored", slot });
      if (first) resolveReady();
      else options.onRestored();
      await gone;
    } finally {
      streaming = false;
      current = undefined;
      await sql.end({ timeout: 0 }).catch(() => {});
    }
  }

  (async () => {
    let first = true;
    let delay = 100;
    let reportedDown = false;
    while (!closed) {
      try {
        await streamOnce(first);
        if (!closed) {
          options.log({ level: "warn", realtime: "replication", event: "lost" });
          reportedDown = false;
        }
        first = false;
        delay = 100;
      } catch (error) {
        if (first) {
          rejectReady(error);
          return;
        }
        if (!reportedDown) {
          options.log({ level: "warn", realtime: "replication", event: "reconnecting", error: String(error) });
          reportedDown = true;
        }
      }
      if (closed) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => (clearTimeout(timer), resolve());
      });
      wake = undefined;
      delay = Math.min(delay * 2, 2000);
    }
  })().catch((error) => options.log({ level: "error", realtime: "replication", error: String(error) }));

  return {
    ready,
    get streaming() {
      return streaming;
    },
    async close() {
      closed = true;
      wake?.();
      const running = current;
      if (running) {
        running.done();
        await running.sql.end({ timeout: 1 }).catch(() => {});
      }
    },
  };
}

/**
 * One pgoutput message (protocol 1). Inserts go to `onRow`; returns the end LSN
 * of a commit (what the slot may confirm), null otherwise.
 */
function decode(message: Buffer, relations: Map<number, Relation>, onRow: ReplicationOptions["onRow"]): bigint | null {
  const kind = String.fromCharCode(message[0]);
  if (kind === "R") {
    let i = 1;
    const id = message.readUInt32BE(i);
    i += 4;
    const readString = () => {
      const end = message.indexOf(0, i);
      const text = message.toString("utf8", i, end);
      i = end + 1;
      return text;
    };
    const schema = readString();
    const table = readString();
    i += 1; // replica identity
    const count = message.readUInt16BE(i);
    i += 2;
    const columns: string[] = [];
    for (let c = 0; c < count; c++) {
      i += 1; // flags
      columns.push(readString());
      i += 8; // type oid, type modifier
    }
    relations.set(id, { table: `${schema}.${table}`, columns });
  } else if (kind === "I") {
    const relation = relations.get(message.readUInt32BE(1));
    if (!relation) return null;
    let i = 6; // relation id, then 'N'
    const count = message.readUInt16BE(i);
    i += 2;
    const row: Row = {};
    for (let c = 0; c < count; c++) {
      const type = message[i++];
      const name = relation.columns[c];
      if (type === 0x74) { // 't': text
        const length = message.readUInt32BE(i);
        row[name] = message.toString("utf8", i + 4, i + 4 + length);
        i += 4 + length;
      } else {
        row[name] = null; // 'n' null, 'u' unchanged (never on an insert)
      }
    }
    onRow(row, relation.table);
  } else if (kind === "C") {
    return message.readBigUInt64BE(10); // flags (1), commit LSN (8), then the end LSN
  }
  return null;
}
