import { request, type ClientRequest } from 'node:http';
import { WeftError } from '../../lib/errors/index.js';
import { TAP_PATH, type TapEvent, type TapFilter } from '../../lib/tap/index.js';
import { adminRefusal, type AdminEndpoint } from '../admin/admin-client.js';

/**
 * One component's tap (admin `/debug/tap`, newline-delimited JSON): opened with the filter as query
 * parameters, attached once the component's hello line arrived, then each event handed to `onEvent`
 * with the component's name. The stream lasts until close() or until the component goes away.
 */
export interface TapStream {
  /** `node agent n1`, `waypoint demo/waypoint`: from the component's hello line. */
  readonly component: string;
  /** Resolves when the stream ended: undefined after close(), else why it ended. */
  readonly ended: Promise<string | undefined>;
  close(): void;
}

export interface TapHandlers {
  event(e: TapEvent, component: string): void;
  /** The component dropped `count` events because this reader was too slow. */
  dropped(count: number, component: string): void;
}

const CONNECT_TIMEOUT_MS = 10_000;

export function openTap(ep: AdminEndpoint, filter: TapFilter, on: TapHandlers): Promise<TapStream> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (typeof v === 'string') qs.set(k, v);
  const path = qs.size > 0 ? `${TAP_PATH}?${qs.toString()}` : TAP_PATH;
  const unreachable = (reason: string, cause?: unknown): WeftError =>
    new WeftError('ERR_WEFT_CLI_ADMIN_UNREACHABLE', { target: ep.label, address: ep.address, reason }, { cause });
  return new Promise<TapStream>((resolve, reject) => {
    let req: ClientRequest;
    let closed = false;
    let attached = false;
    let endWith: (why: string | undefined) => void = () => {};
    const ended = new Promise<string | undefined>((r) => (endWith = r));
    try {
      const socket = ep.socket();
      req = request({ host: ep.host, port: ep.port, path, method: 'GET', headers: { accept: 'application/x-ndjson' }, createConnection: () => socket.connect(ep.port, ep.host) });
    } catch (err) {
      reject(err instanceof WeftError ? err : unreachable(err instanceof Error ? err.message : String(err), err));
      return;
    }
    const timer = setTimeout(() => req.destroy(unreachable(`no tap answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      if (!attached) reject(err instanceof WeftError ? err : unreachable(err.message, err));
      else endWith(closed ? undefined : err.message);
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          reject(adminRefusal(ep, TAP_PATH, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        });
        return;
      }
      res.setEncoding('utf8');
      let component = ep.label;
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line === '') continue;
          let msg: { type?: unknown; component?: unknown; count?: unknown };
          try {
            msg = JSON.parse(line) as typeof msg;
          } catch {
            continue; // not ours to judge one bad line: the next ones still count
          }
          if (msg.type === 'hello') {
            if (typeof msg.component === 'string') component = msg.component;
            clearTimeout(timer);
            attached = true;
            resolve({ component, ended, close: () => ((closed = true), req.destroy()) });
          } else if (msg.type === 'dropped') on.dropped(Number(msg.count) || 0, component);
          else if (msg.type === 'request' || msg.type === 'connection') on.event(msg as TapEvent, component);
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        if (!attached) reject(unreachable('the tap stream ended before it began'));
        endWith(closed ? undefined : `${component} ended its tap`);
      });
      res.on('error', (err) => endWith(closed ? undefined : err.message));
    });
    req.end();
  });
}
