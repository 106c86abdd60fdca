import { defineCodes } from '../spec.js';

// Codes of the CLI commands that answer from Prometheus (`weft stat`, `weft edges`): which Prometheus to
// ask, and what went wrong asking it. Each names the URL it asked, so the user can try it with curl.
export const prometheusQueryCodes = defineCodes({
  ERR_WEFT_CLI_PROMETHEUS_NOT_FOUND: {
    message: 'no Prometheus to ask: {reason}',
    hint: 'Pass its address with --prometheus, e.g. `weft stat deployment --prometheus http://127.0.0.1:9090` after `kubectl port-forward -n monitoring svc/prometheus 9090:9090`; in a lab, --lab <name> uses the lab\'s own Prometheus (`sudo weft lab up` runs it).',
  },
  ERR_WEFT_CLI_PROMETHEUS_UNREACHABLE: {
    message: 'cannot reach Prometheus at {url}: {reason}',
    hint: 'Check that it runs and that the address is right (`curl {url}/-/ready`); in a lab, `sudo weft lab prometheus --lab <name>` prints its address and `sudo weft lab up --lab <name>` restarts it. On Kubernetes, keep the `kubectl port-forward` to it running.',
  },
  ERR_WEFT_CLI_PROMETHEUS_QUERY_FAILED: {
    message: 'Prometheus at {url} refused the query {query}: {reason}',
    hint: 'Its own words above say why: a bad --window (Prometheus durations such as 30s, 1m, 5m, greater than 0), or a server that is not Prometheus\'s HTTP API (--prometheus must name its base URL, as `curl {url}/api/v1/query?query=up` answers).',
  },
});
