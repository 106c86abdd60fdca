import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { WeftError } from '../../lib/errors/index.js';
import type { SpiffeId } from '../../lib/identity/index.js';
import type { Logger } from '../../lib/telemetry/log.js';
import type { SocketFactory } from '../netns/socket-factory.js';
import { spiffeOfCert, type TlsContexts } from './tls-contexts.js';

export const MAX_STREAMS_PER_SESSION = 100;
export const IDLE_SESSION_MS = 5 * 60_000;
export const PING_INTERVAL_MS = 10_000;
export const PING_TIMEOUT_MS = 20_000;
export const STREAM_WINDOW = 4 << 20;
export const CONNECTION_WINDOW = 16 << 20;
const CONNECT_TIMEOUT_MS = 10_000;
/** Response header carrying `<FLAG>: <message>` on a refused CONNECT. */
export const REASON_HEADER = 'weft-reason';

export interface TunnelRequest {
  /** Pool partition: the source pod (its netns is where sockets are created). */
  readonly sourceKey: string;
  readonly sourceFactory: SocketFactory;
  readonly sourceIdentity: SpiffeId;
  /** SPIFFE ID the server must present. */
  readonly destinationIdentity: string;
  /** Next hop: `<pod ip>` or a waypoint address; port 15008. */
  readonly nextHop: string;
  /** `:authority` — the original destination `ip:port` (a VIP:port toward a waypoint). */
  readonly authority: string;
  readonly sourceIp: string;
}

interface Session {
  readonly key: string;
  readonly h2: ClientHttp2Session;
  active: number;
  idle?: NodeJS.Timeout;
  ping?: NodeJS.Timeout;
}

/**
 * HBONE client sessions, keyed by (source pod, destination identity, next hop): at most 100 streams per
 * session, one connect in flight per key (so a connection storm opens one tunnel, not a thousand), idle
 * sessions closed after 5 minutes, PING every 10 s. Sockets come from the source pod's SocketFactory,
 * so tunnels leave from the pod's own IP.
 */
export class HbonePool {
  private readonly sessions = new Map<string, Session[]>();
  private readonly connecting = new Map<string, Promise<Session>>();

  constructor(
    private readonly tls: TlsContexts,
    private readonly log: Logger,
  ) {}

  /** Opens a CONNECT stream; resolves once the server answered 200. */
  async open(req: TunnelRequest): Promise<ClientHttp2Stream> {
    const key = `${req.sourceKey}|${req.destinationIdentity}|${req.nextHop}`;
    const session = await this.checkout(key, req);
    session.active++;
    if (session.idle) clearTimeout(session.idle);
    session.idle = undefined;
    let stream: ClientHttp2Stream;
    try {
      stream = session.h2.request(
        { [constants.HTTP2_HEADER_METHOD]: 'CONNECT', [constants.HTTP2_HEADER_AUTHORITY]: req.authority, forwarded: `for=${req.sourceIp}` },
        { endStream: false },
      );
    } catch (err) {
      this.release(session);
      throw new WeftError('ERR_WEFT_AGENT_CONNECT_FAILED', { address: req.authority, reason: (err as Error).message }, { cause: err });
    }
    // Errors always have a listener (the tunnel's owner adds its own once it has the stream), so a
    // reset arriving between the 200 and that moment cannot crash the process.
    stream.on('error', ignore);
    stream.once('close', () => this.release(session));
    return await new Promise<ClientHttp2Stream>((resolve, reject) => {
      const fail = (err: Error): void => {
        stream.off('error', fail);
        stream.off('close', early);
        stream.destroy();
        reject(new WeftError('ERR_WEFT_AGENT_CONNECT_FAILED', { address: `${req.authority} via ${req.nextHop}:15008`, reason: err.message }, { cause: err }));
      };
      const early = (): void => fail(new Error(`stream closed before response (code ${stream.rstCode})`));
      stream.once('error', fail);
      stream.once('close', early);
      stream.once('response', (headers) => {
        stream.off('error', fail);
        stream.off('close', early);
        const status = Number(headers[constants.HTTP2_HEADER_STATUS]);
        if (status === 200) {
          resolve(stream);
          return;
        }
        const reason = String(headers[REASON_HEADER] ?? '');
        stream.destroy();
        const e = new WeftError('ERR_WEFT_AGENT_CONNECT_FAILED', { address: req.authority, reason: `HBONE ${status} ${reason}` }) as WeftError & { status?: number; peerReason?: string };
        e.status = status;
        e.peerReason = reason;
        reject(e);
      });
    });
  }

  /** Closes every session (agent shutdown, or a pod's sessions when it leaves). */
  close(sourceKey?: string): void {
    for (const [key, list] of this.sessions) {
      if (sourceKey !== undefined && !key.startsWith(`${sourceKey}|`)) continue;
      for (const s of list) s.h2.destroy();
      this.sessions.delete(key);
    }
  }

  stats(): { sessions: number; streams: number } {
    let sessions = 0;
    let streams = 0;
    for (const list of this.sessions.values()) {
      sessions += list.length;
      for (const s of list) streams += s.active;
    }
    return { sessions, streams };
  }

  private async checkout(key: string, req: TunnelRequest): Promise<Session> {
    for (;;) {
      const list = this.sessions.get(key);
      const s = list?.find((x) => x.active < MAX_STREAMS_PER_SESSION && !x.h2.closed && !x.h2.destroyed);
      if (s) return s;
      const pending = this.connecting.get(key);
      if (pending) {
        const got = await pending;
        if (got.active < MAX_STREAMS_PER_SESSION) return got;
        continue;
      }
      const p = this.connect(key, req);
      this.connecting.set(key, p);
      try {
        return await p;
      } finally {
        this.connecting.delete(key);
      }
    }
  }

  private async connect(key: string, req: TunnelRequest): Promise<Session> {
    const ctx = await this.tls.context(req.sourceIdentity);
    const expected = req.destinationIdentity;
    const raw = req.sourceFactory.connect(req.nextHop, 15008);
    raw.setNoDelay(true);
    const tlsSocket = tlsConnect({
      socket: raw,
      secureContext: ctx,
      ALPNProtocols: ['h2'],
      // Peers are addressed by IP and identified by SPIFFE ID, not by name: send a fixed SNI rather
      // than none (Node would otherwise derive one from the IP, which RFC 6066 forbids).
      servername: 'hbone.weft',
      rejectUnauthorized: true,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => {
        const id = spiffeOfCert(cert);
        return id === expected ? undefined : new Error(`peer presented ${id ?? 'no SPIFFE ID'}, expected ${expected}`);
      },
    });
    const h2 = h2connect(`https://${req.nextHop.includes(':') ? `[${req.nextHop}]` : req.nextHop}:15008`, {
      createConnection: () => tlsSocket,
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        h2.destroy();
        reject(new Error(`no HBONE session with ${req.nextHop}:15008 within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        h2.destroy();
        reject(new WeftError('ERR_WEFT_AGENT_CONNECT_FAILED', { address: `${req.nextHop}:15008`, reason: err.message }, { cause: err }));
      };
      tlsSocket.once('error', fail);
      h2.once('error', fail);
      h2.once('connect', () => {
        clearTimeout(timer);
        tlsSocket.off('error', fail);
        h2.off('error', fail);
        resolve();
      });
    });
    h2.setLocalWindowSize(CONNECTION_WINDOW);
    const session: Session = { key, h2, active: 0 };
    let list = this.sessions.get(key);
    if (!list) this.sessions.set(key, (list = []));
    list.push(session);
    h2.on('error', (err) => this.log.debug({ err, nextHop: req.nextHop }, 'HBONE session error'));
    h2.once('close', () => this.drop(session));
    h2.on('goaway', () => this.drop(session));
    session.ping = setInterval(() => this.ping(session), PING_INTERVAL_MS);
    session.ping.unref();
    return session;
  }

  private ping(s: Session): void {
    if (s.h2.destroyed) return;
    const timer = setTimeout(() => s.h2.destroy(new Error('HBONE PING timeout')), PING_TIMEOUT_MS);
    timer.unref();
    s.h2.ping(() => clearTimeout(timer));
  }

  private release(s: Session): void {
    s.active--;
    if (s.active <= 0 && !s.h2.destroyed) {
      s.active = 0;
      if (s.idle) clearTimeout(s.idle);
      s.idle = setTimeout(() => s.h2.close(), IDLE_SESSION_MS);
      s.idle.unref();
    }
  }

  private drop(s: Session): void {
    if (s.ping) clearInterval(s.ping);
    if (s.idle) clearTimeout(s.idle);
    const list = this.sessions.get(s.key);
    if (!list) return;
    const i = list.indexOf(s);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.sessions.delete(s.key);
  }
}

function ignore(): void {
  // Intentionally empty: see HbonePool.open.
}
