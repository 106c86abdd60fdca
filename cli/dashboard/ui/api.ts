import { useEffect, useState } from 'preact/hooks';

/** How often the page asks again: Prometheus scrapes the lab every 5 s. */
export const REFRESH_MS = 5000;

export type Loaded<T> = { readonly data: T | undefined; readonly error: string | undefined };

/** GET `path` of the dashboard's own API now and every REFRESH_MS; keeps the last answer while a new one is on its way. */
export function usePolling<T>(path: string): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: undefined, error: undefined });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      try {
        const res = await fetch(path, { headers: { accept: 'application/json' } });
        const body = (await res.json()) as T | { error: { code: string; message: string; hint: string } };
        if (stopped) return;
        if (!res.ok) {
          const e = (body as { error?: { code: string; message: string; hint: string } }).error;
          setState((s) => ({ data: s.data, error: e ? `${e.code}: ${e.message} (${e.hint})` : `HTTP ${res.status}` }));
        } else setState({ data: body as T, error: undefined });
      } catch (err) {
        if (!stopped) setState((s) => ({ data: s.data, error: `the dashboard server does not answer: ${String(err)}` }));
      }
      if (!stopped) timer = setTimeout(() => void load(), REFRESH_MS);
    };
    setState({ data: undefined, error: undefined });
    void load();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [path]);
  return state;
}
