// A component whose code loads when it is first shown (a chunk of its own, esbuild's code
// splitting): "Loading…" meanwhile, and, if the chunk cannot be loaded (offline, or the app was
// deployed again since this page was opened), a sentence asking to reload.
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let failed = false;
  let loading: Promise<void> | null = null;
  return function Lazy(props: P) {
    const [, tick] = useState(0);
    useEffect(() => {
      if (loaded || failed) return;
      loading ??= load().then(
        (c) => void (loaded = c),
        () => {
          failed = true;
          loading = null;
        },
      );
      void loading.then(() => tick((n) => n + 1));
    }, []);
    const Loaded = loaded;
    if (Loaded) return <Loaded {...props} />;
    return failed ? (
      <p class="error" role="alert">
        This part of the app could not be loaded. Check your connection, then reload the page.
      </p>
    ) : (
      <p class="muted">Loading…</p>
    );
  };
}
