// A raw Realtime socket speaking Phoenix's JSON frames (vsn 2.0.0), for tests
// that need more joins or frames than a supabase-js client makes.
export type Frame = [string | null, string | null, string, string, any];

export interface PhoenixSocket {
  ws: WebSocket;
  frames: Frame[];
  closed: boolean;
  /** Sends phx_join for `topic` and resolves with its phx_reply. */
  join(topic: string, payload: Record<string, unknown>): Promise<Frame>;
  push(frame: Frame): void;
  close(): void;
}

export async function openSocket(apiUrl: string, apiKey: string): Promise<PhoenixSocket> {
  const ws = new WebSocket(`${apiUrl.replace("http", "ws")}/realtime/v1/websocket?vsn=2.0.0&apikey=${apiKey}`);
  let ref = 0;
  const waiting = new Map<string, (frame: Frame) => void>();
  const socket: PhoenixSocket = {
    ws,
    frames: [],
    closed: false,
    join(topic, payload) {
      const joinRef = String(++ref);
      const answered = new Promise<Frame>((resolve) => waiting.set(joinRef, resolve));
      ws.send(JSON.stringify([joinRef, joinRef, `realtime:${topic}`, "phx_join", payload]));
      return answered;
    },
    push(frame) {
      ws.send(JSON.stringify(frame));
    },
    close() {
      ws.close();
    },
  };
  ws.onmessage = (event) => {
    const frame = JSON.parse(String(event.data)) as Frame;
    socket.frames.push(frame);
    if (frame[3] === "phx_reply" && frame[1] !== null) {
      waiting.get(frame[1])?.(frame);
      waiting.delete(frame[1]);
    }
  };
  ws.onclose = () => (socket.closed = true);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("the socket did not open"));
  });
  return socket;
}
