// Whether the network is there, asked of the server itself (a browser's
// online flag says nothing of a shop's router). While it is not, TanStack's
// onlineManager pauses actions and they keep their place; the first answer
// resumes them in order. No window events are needed: React Native and Node
// get the same behaviour, and an app may add its own signal (NetInfo).
import { onlineManager } from "@tanstack/query-core";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Connectivity {
  #probing = false;
  #stopped = false;
  readonly #reachable: () => Promise<boolean>;

  constructor(reachable: () => Promise<boolean>) {
    this.#reachable = reachable;
  }

  isOnline = (): boolean => onlineManager.isOnline();

  subscribe = (listener: (online: boolean) => void): () => void => onlineManager.subscribe(listener);

  /** Asks the server until it answers, backing off to every 2 s; one probe at a time. */
  probe(): void {
    if (this.#probing || this.#stopped) return;
    this.#probing = true;
    void (async () => {
      let delay = 250;
      try {
        while (!this.#stopped) {
          if (await this.#reachable()) {
            onlineManager.setOnline(true);
            return;
          }
          onlineManager.setOnline(false);
          await sleep(delay);
          delay = Math.min(delay * 2, 2_000);
        }
      } finally {
        this.#probing = false;
      }
    })();
  }

  stop(): void {
    this.#stopped = true;
  }
}
