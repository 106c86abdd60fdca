import { render } from 'preact';
import './style.css';
import { useEffect, useState } from 'preact/hooks';
import type { WorkloadKey } from '../dashboard-api.js';
import { OverviewPage } from './overview.js';
import { WorkloadPage } from './workload.js';

/** Pages by the URL's fragment (`#/`, `#/workload/<namespace>/<name>`): the server serves one page. */
function route(hash: string): { page: 'overview' } | { page: 'workload'; workload: WorkloadKey } {
  const m = /^#\/workload\/([^/]+)\/([^/]+)$/.exec(hash);
  if (m) return { page: 'workload', workload: { namespace: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) } };
  return { page: 'overview' };
}

function App() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = (): void => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const r = route(hash);
  return r.page === 'workload' ? <WorkloadPage key={`${r.workload.namespace}/${r.workload.name}`} workload={r.workload} /> : <OverviewPage />;
}

render(<App />, document.getElementById('app')!);
