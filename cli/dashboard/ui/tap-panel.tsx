import { useEffect, useState } from 'preact/hooks';
import type { TapLine, WorkloadKey } from '../dashboard-api.js';

/** How many lines the panel keeps: the newest first. */
const KEEP = 50;

/** The workload's live tap (`weft tap` lines), read from the server's event stream while the page is open. */
export function TapPanel(props: { workload: WorkloadKey }) {
  const [lines, setLines] = useState<TapLine[]>([]);
  useEffect(() => {
    const { namespace, name } = props.workload;
    const source = new EventSource(`/api/tap?namespace=${encodeURIComponent(namespace)}&name=${encodeURIComponent(name)}`);
    source.onmessage = (m: MessageEvent<string>) => {
      const line = JSON.parse(m.data) as TapLine;
      setLines((old) => [line, ...old].slice(0, KEEP));
    };
    return () => source.close();
  }, [props.workload.namespace, props.workload.name]);
  return (
    <pre class="tap" data-testid="tap">
      {lines.length === 0 ? 'waiting for traffic…' : lines.map((l) => <div class={l.kind}>{l.text}</div>)}
    </pre>
  );
}
