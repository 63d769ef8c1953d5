// What the header says of the network. "Online" only once the server has
// answered in this run: the library and the browser both start out assuming
// the network is there, and a till started without one must not say so.
import { useSyncExternalStore } from "react";
import { useOnline } from "@onecart/client/react";

function subscribeBrowser(listener: () => void): () => void {
  addEventListener("online", listener);
  addEventListener("offline", listener);
  return () => {
    removeEventListener("online", listener);
    removeEventListener("offline", listener);
  };
}

export type Network = "online" | "offline" | "connecting";

export function useNetwork(answered: boolean): Network {
  const reaches = useOnline();
  const browser = useSyncExternalStore(subscribeBrowser, () => navigator.onLine);
  if (!browser || !reaches) return "offline";
  return answered ? "online" : "connecting";
}
