// Pending taps live in IndexedDB; under storage pressure a browser may evict a
// site's data unless it was granted persistent storage. The till asks once per
// start and says when the answer was no (WebKit has no such question: there the
// home-screen app is what keeps the data, see docs/app.md).
import { useEffect, useState } from "react";

export type Durability = "unknown" | "persistent" | "refused" | "unsupported";

export function useDurableStorage(): Durability {
  const [state, setState] = useState<Durability>("unknown");
  useEffect(() => {
    const storage = navigator.storage;
    if (!storage?.persist) {
      setState("unsupported");
      return;
    }
    storage.persisted()
      .then((already) => already || storage.persist())
      .then((granted) => setState(granted ? "persistent" : "refused"), () => setState("refused"));
  }, []);
  return state;
}
