// A TCP proxy in front of Postgres that can refuse connections: it resets the
// next `refuse` connections before a byte reaches the server, as a database
// that is restarting or a pooler at its limit would. It can also cut a
// connection silently, as a dead network path does: nothing arrives, nothing
// is reset.
import { connect, createServer, type Socket } from "node:net";
import { afterAll } from "vitest";

export interface TcpProxy {
  /** The database URL, with host and port replaced by the proxy's. */
  url: string;
  /** Connections accepted so far, refused ones included. */
  accepted: number;
  /** How many of the next connections to reset. */
  refuse: number;
  /** Cuts every connection open now, as a restarting server would. */
  dropAll(): void;
  /** Stops forwarding on every connection open now, without closing it. New ones still pass. */
  silenceAll(): void;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const silenced = new WeakSet<Socket>();
  const proxy: TcpProxy = {
    url: "",
    accepted: 0,
    refuse: 0,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    silenceAll: () => {
      for (const s of sockets) silenced.add(s);
    },
  };
  const server = createServer((client) => {
    proxy.accepted++;
    if (proxy.refuse > 0) {
      proxy.refuse--;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    // By hand rather than pipe(): a silenced socket's data is read and dropped.
    const forward = (from: Socket, to: Socket) =>
      from.on("data", (chunk) => {
        if (!silenced.has(from)) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  proxy.url = url.toString();
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return proxy;
}
