import { defineCodes } from '../spec.js';

// Codes of `weft dashboard`: the local web UI the CLI serves (cli/dashboard/).
export const dashboardCodes = defineCodes({
  ERR_WEFT_CLI_DASHBOARD_BUNDLE_MISSING: {
    message: 'the dashboard\'s page is not built: {path} is missing',
    hint: 'Build it with `npm run build` in the weft checkout (esbuild bundles the page into dist/dashboard/), then run `weft dashboard` again.',
  },
  ERR_WEFT_CLI_DASHBOARD_LISTEN_FAILED: {
    message: 'the dashboard cannot listen on 127.0.0.1:{port}: {reason}',
    hint: 'Another process holds that port: pick another with --port, or --port 0 for any free one.',
  },
  ERR_WEFT_CLI_DASHBOARD_BAD_REQUEST: {
    message: 'dashboard request {path}: {reason}',
    hint: 'The page and the server disagree on the dashboard\'s API: reload the page; it must be the one this `weft dashboard` serves.',
    http: 400,
  },
});
