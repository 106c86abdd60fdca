import type { Readable } from 'node:stream';
import type { AuthzDecision } from '../../lib/authz/index.js';
import type { WeftError } from '../../lib/errors/index.js';
import type { EndpointEntry } from '../balance/balancer.js';
import type { DownRequest, DownResponse } from '../downstream/exchange.js';
import type { RetryPolicy, TryRequest, TryTarget } from '../retry/retrier.js';
import type { ReplayableBody } from '../retry/replay-body.js';
import type { HeaderModifier, MirrorFilter, UpstreamEdit } from '../route/apply-filters.js';
import type { Deadline } from '../timeout/deadline.js';
import type { UpstreamProtocol } from '../upstream/clients.js';
import type { Headers, UpstreamResponse } from '../upstream/exchange.js';
import type { ConnectionInfo } from './connection.js';
import type { PolicyVerdict } from '../policy/authorize.js';

// One request on the request path: the one object every layer reads and fills in, in place of the
// closures and argument lists each step used to take. It is what the filters edit (UpstreamEdit), what
// the retry layer sends upstream on every try (TryRequest) and where it leaves the outcome.

const NO_TARGET: TryTarget = { label: 'none', endpoints: [] };

export class Call implements TryRequest, UpstreamEdit, PolicyVerdict {
  /** Labels of the request's metrics and access log line, set as the layers decide. */
  routeLabel = 'none';
  backendLabel = 'none';
  /** gRPC status written downstream, '' for plain HTTP. */
  grpcStatus = '';
  /** The policy decision that refused the request: for the access log, never for the client. */
  denial: AuthzDecision | undefined = undefined;
  /** Every policy decision, and the dry-run one (PolicyVerdict): for the tap. */
  decision: AuthzDecision | undefined = undefined;
  wouldBe: AuthzDecision | undefined = undefined;

  // UpstreamEdit: `path` is the path alone while the filters run, then path and query (sendable()).
  path: string;
  authority: string;
  readonly headers: Headers = {};
  responseMods: HeaderModifier[] | undefined = undefined;
  mirrors: MirrorFilter[] | undefined = undefined;

  // TryRequest
  body: Readable | Buffer | null = null;
  signal: AbortSignal | undefined = undefined;
  replay: ReplayableBody | null = null;
  readonly protocol: UpstreamProtocol;
  readonly serviceLabel: string;
  target: TryTarget = NO_TARGET;
  retry: RetryPolicy | undefined = undefined;
  deadline: Deadline | undefined = undefined;
  response: UpstreamResponse | undefined = undefined;
  error: WeftError | undefined = undefined;
  status = 0;
  entry: EndpointEntry | undefined = undefined;
  startedAt = 0;

  constructor(
    readonly conn: ConnectionInfo,
    readonly req: DownRequest,
    readonly res: DownResponse,
    readonly start: number,
    readonly method: string,
    /** The path as the client sent it. */
    readonly clientPath: string,
    readonly query: string,
    /** The authority as the client sent it. */
    readonly clientAuthority: string,
    readonly grpc: boolean,
  ) {
    this.path = clientPath;
    this.authority = clientAuthority;
    this.protocol = conn.upstream;
    this.serviceLabel = conn.serviceLabel;
  }

  /** After the filters: the path sent upstream carries the query again. */
  sendable(): void {
    if (this.query) this.path = `${this.path}?${this.query}`;
  }
}
