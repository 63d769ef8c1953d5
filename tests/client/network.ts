// A device's network, with the faults a shop's Wi-Fi has: a fetch that can
// lose the answer to a request the server has already handled, and a
// WebSocket that can be cut. Both go to the real local stack; nothing of the
// server is mocked.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { TestServer } from "../helpers/server.ts";

export interface Network {
  /** The fetch to hand supabase-js (`global.fetch`). */
  fetch: typeof fetch;
  /** The WebSocket constructor to hand Realtime (`realtime.transport`). */
  WebSocket: typeof WebSocket;
  /** Down: requests fail before they leave, answers of requests in flight are lost, sockets close. */
  setDown(down: boolean): void;
  readonly down: boolean;
  /** Loses the answer of the next `n` requests matching `match` after the server has handled them. */
  loseNextAnswers(n: number, match?: (url: string, init?: RequestInit) => boolean): void;
  /**
   * Answers the next `n` requests matching `match` itself, without sending
   * them, the way a proxy or a busy server might: for `busy`/`unavailable`.
   */
  answerNext(n: number, answer: () => Response, match?: (url: string, init?: RequestInit) => boolean): void;
  /** Cuts the open WebSockets (Realtime reconnects on its own); requests still go through. */
  cutSockets(): void;
  /** Loses each answer with this probability (after the server has handled the request). */
  loseAnswers(rate: number, random?: () => number): void;
  /** Requests sent to the server, and answers lost. */
  readonly stats: { sent: number; lost: number; refused: number; answered: number };
  /** Every request that reached the server, as "METHOD path". */
  readonly sent: string[];
}

export function createNetwork(): Network {
  let down = false;
  let lossRate = 0;
  let random = Math.random;
  const toLose: Array<{ match: (url: string, init?: RequestInit) => boolean }> = [];
  const sockets = new Set<WebSocket>();
  const toAnswer: Array<{ answer: () => Response; match: (url: string, init?: RequestInit) => boolean }> = [];
  const stats = { sent: 0, lost: 0, refused: 0, answered: 0 };
  const sentLog: string[] = [];
  const mutating = (_url: string, init?: RequestInit) => (init?.method ?? "GET") !== "GET";

  const faultyFetch: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (down) {
      stats.refused++;
      throw new TypeError("fetch failed: the network is down");
    }
    const canned = toAnswer.findIndex((r) => r.match(url, init));
    if (canned !== -1) {
      stats.answered++;
      return toAnswer.splice(canned, 1)[0].answer();
    }
    stats.sent++;
    sentLog.push(`${init?.method ?? "GET"} ${new URL(url).pathname}`);
    const response = await fetch(input, init);
    const rule = toLose.findIndex((r) => r.match(url, init));
    const lose = down || rule !== -1 || (lossRate > 0 && random() < lossRate);
    if (rule !== -1) toLose.splice(rule, 1);
    if (lose) {
      // The server has done the work; only its answer never arrives.
      await response.arrayBuffer().catch(() => undefined);
      stats.lost++;
      throw new TypeError("fetch failed: the answer was lost");
    }
    return response;
  };

  class FaultySocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      // While down, a connection attempt is refused like any other.
      super(down ? "ws://127.0.0.1:9/" : url, protocols);
      sockets.add(this);
      this.addEventListener("close", () => sockets.delete(this));
    }
  }

  return {
    fetch: faultyFetch,
    WebSocket: FaultySocket,
    get down() {
      return down;
    },
    setDown(value) {
      down = value;
      if (down) { for (const socket of sockets) socket.close(4000, "network down"); }
    },
    loseNextAnswers(n, match = mutating) {
      for (let i = 0; i < n; i++) toLose.push({ match });
    },
    answerNext(n, answer, match = mutating) {
      for (let i = 0; i < n; i++) toAnswer.push({ answer, match });
    },
    cutSockets() {
      for (const socket of sockets) socket.close(4000, "connection cut");
    },
    loseAnswers(rate, rng = Math.random) {
      lossRate = rate;
      random = rng;
    },
    stats,
    sent: sentLog,
  };
}

/** A POS device's supabase-js client over a faulty network, signed in with a staff token. */
export function deviceSupabase(server: TestServer, token: string, network: Network): SupabaseClient {
  return createClient(server.apiUrl, server.anonKey, {
    accessToken: async () => token,
    global: { fetch: network.fetch },
    realtime: { transport: network.WebSocket as never, reconnectAfterMs: () => 300 },
  });
}
