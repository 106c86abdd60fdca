import { connect } from 'node:net';
import type { EnrollmentRequest, EnrollmentResponse } from '../../lib/enrollment.js';
import { WeftError } from '../../lib/errors/index.js';
import { isPlainObject } from './config.js';

/** Largest agent answer the plugin reads; enrollment answers are a few hundred bytes. */
const MAX_BODY_BYTES = 64 * 1024;
/** Retry delays while the socket is absent or refuses (agent restarting); capped by the deadline. */
const RETRY_INITIAL_MS = 50;
const RETRY_MAX_MS = 500;

export type AgentCommand = EnrollmentRequest['command'];

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A connection-level failure: nothing reached the agent, so retrying is safe and cheap. */
class NotConnected extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The request was sent (or the connection stood) but no full answer came before the deadline. */
class NoAnswer extends Error {}

export interface CallOptions {
  readonly socket: string;
  /** Absolute deadline (Date.now() based) for the whole call, retries included. */
  readonly deadline: number;
  /**
   * Keep retrying while the agent cannot be connected to until this time (capped by `deadline`): the
   * deadline for ADD/CHECK, a short window for DEL, now (one attempt) for STATUS.
   */
  readonly retryConnectUntil: number;
}

/**
 * Sends one enrollment request to the node agent (lib/enrollment.ts: POST /v1/cni/<command>, JSON over
 * HTTP/1.1 on its unix socket) and returns its answer, or throws a WeftError whose CNI code tells the
 * runtime what happened: unreachable (100), no answer in time (11), refused (101), garbled (102).
 */
export async function enroll(req: EnrollmentRequest, opts: CallOptions): Promise<EnrollmentResponse> {
  const started = Date.now();
  const path = `/v1/cni/${req.command.toLowerCase()}`;
  const payload = JSON.stringify(req);
  let answer = await callWithRetry('POST', path, payload, opts, started, req.command);
  // 503: the agent runs but is not ready yet (first cluster state, certificates). Ask again while the
  // budget lasts rather than failing a pod that would succeed a moment later.
  let delay = RETRY_INITIAL_MS;
  while (answer.status === 503 && Math.min(opts.deadline, opts.retryConnectUntil) - Date.now() > delay) {
    await sleep(delay);
    delay = Math.min(RETRY_MAX_MS, delay * 2);
    try {
      answer = await callWithRetry('POST', path, payload, opts, started, req.command);
    } catch {
      // Out of time (or the agent went away) while asking again: its last answer says more than a timeout.
      break;
    }
  }
  const body = parseJson(answer.body);
  if (answer.status === 200) {
    if (!isPlainObject(body) || typeof body.captured !== 'boolean') {
      throw new WeftError('ERR_WEFT_CNI_AGENT_PROTOCOL', { socket: opts.socket, command: req.command, reason: `an invalid EnrollmentResponse: ${answer.body.slice(0, 200)}` });
    }
    return { captured: body.captured, reason: typeof body.reason === 'string' ? body.reason : '' };
  }
  if (isPlainObject(body) && typeof body.code === 'string' && typeof body.message === 'string') {
    throw new WeftError('ERR_WEFT_CNI_ENROLL_FAILED', {
      command: req.command,
      pod: `${req.podNamespace}/${req.podName}`,
      agentCode: body.code,
      agentMessage: body.message,
      agentHint: typeof body.hint === 'string' ? body.hint : '',
    });
  }
  throw new WeftError('ERR_WEFT_CNI_AGENT_PROTOCOL', { socket: opts.socket, command: req.command, reason: `HTTP ${answer.status} without an EnrollmentError body` });
}

/** GET /v1/healthz: resolves when the agent answers 200, throws ERR_WEFT_CNI_AGENT_NOT_READY otherwise. */
export async function checkHealth(opts: CallOptions): Promise<void> {
  let answer: Answer;
  try {
    answer = await callWithRetry('GET', '/v1/healthz', undefined, opts, Date.now(), 'STATUS');
  } catch (err) {
    throw new WeftError('ERR_WEFT_CNI_AGENT_NOT_READY', { socket: opts.socket, reason: (err as Error).message }, { cause: err });
  }
  if (answer.status !== 200) {
    throw new WeftError('ERR_WEFT_CNI_AGENT_NOT_READY', { socket: opts.socket, reason: `healthz answered HTTP ${answer.status}` });
  }
  // The agent may answer 200 with `{"ok": false}` while it is still syncing with the control plane.
  const body = parseJson(answer.body);
  if (isPlainObject(body) && body.ok === false) {
    throw new WeftError('ERR_WEFT_CNI_AGENT_NOT_READY', { socket: opts.socket, reason: 'healthz reports ok: false (still starting)' });
  }
}

async function callWithRetry(method: string, path: string, body: string | undefined, opts: CallOptions, started: number, command: string): Promise<Answer> {
  let delay = RETRY_INITIAL_MS;
  for (;;) {
    try {
      return await once(method, path, body, opts.socket, opts.deadline);
    } catch (err) {
      const elapsed = Date.now() - started;
      if (err instanceof NoAnswer) {
        throw new WeftError('ERR_WEFT_CNI_AGENT_TIMEOUT', { socket: opts.socket, command, ms: elapsed });
      }
      if (!(err instanceof NotConnected)) throw err;
      const remaining = Math.min(opts.deadline, opts.retryConnectUntil) - Date.now();
      if (remaining <= 0) {
        throw new WeftError('ERR_WEFT_CNI_AGENT_UNREACHABLE', { socket: opts.socket, reason: err.reason, ms: elapsed });
      }
      // Full jitter keeps many pods waiting on one restarting agent from knocking in step.
      await sleep(Math.min(remaining, Math.random() * delay));
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  }
}

/**
 * One request on a fresh connection. HTTP/1.1 by hand over `node:net` rather than `node:http`: loading
 * the http client (parser binding, agents, incoming/outgoing) cost ~10 ms of every plugin start on these
 * machines, for one request with a small JSON answer. `connection: close`; the answer is complete at
 * its Content-Length (or the last chunk, or EOF when it names neither).
 */
function once(method: string, path: string, body: string | undefined, socketPath: string, deadline: number): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    let connected = false;
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined, answer?: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err !== undefined) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => {
      finish(connected ? new NoAnswer() : new NotConnected('connect timed out'));
    }, Math.max(0, deadline - Date.now()));
    const sock = connect(socketPath);
    sock.on('connect', () => {
      connected = true;
      const head = `${method} ${path} HTTP/1.1\r\nhost: weft-node-agent\r\nconnection: close\r\n`;
      // write, not end: a Node HTTP server aborts a request whose client half-closes (httpAllowHalfOpen
      // is off), so the socket stays open until the answer is in and is then destroyed.
      sock.write(body === undefined ? head + '\r\n' : `${head}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    sock.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES + MAX_HEAD_BYTES) {
        finish(new WeftError('ERR_WEFT_CNI_AGENT_PROTOCOL', { socket: socketPath, command: method + ' ' + path, reason: `a body over ${MAX_BODY_BYTES} bytes` }));
        return;
      }
      chunks.push(chunk);
      const answer = parseAnswer(Buffer.concat(chunks), false);
      if (answer instanceof Error) finish(new WeftError('ERR_WEFT_CNI_AGENT_PROTOCOL', { socket: socketPath, command: method + ' ' + path, reason: answer.message }));
      else if (answer !== undefined) finish(undefined, answer);
    });
    sock.on('end', () => {
      const answer = size === 0 ? undefined : parseAnswer(Buffer.concat(chunks), true);
      // Closed before a whole answer: an agent that died mid-request (retryable, every op is idempotent).
      if (answer === undefined) finish(new NotConnected(size === 0 ? 'closed without an answer' : 'response aborted'));
      else if (answer instanceof Error) finish(new WeftError('ERR_WEFT_CNI_AGENT_PROTOCOL', { socket: socketPath, command: method + ' ' + path, reason: answer.message }));
      else finish(undefined, answer);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // ENOENT: no socket file (agent not started); ECONNREFUSED: stale socket (agent gone). A reset after
      // connecting is an agent that died mid-request: also retryable, every enrollment op is idempotent.
      const code = err.code ?? 'error';
      finish(new NotConnected(connected ? `${code} after connecting` : code));
    });
  });
}

/** Largest status line + headers the plugin reads. */
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * An HTTP/1.1 answer from the bytes so far: undefined while incomplete, an Error when malformed. `eof`:
 * the peer closed, so a body without length ends here.
 */
export function parseAnswer(buf: Buffer, eof: boolean): Answer | Error | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (buf.length > MAX_HEAD_BYTES) return new Error('an answer head over 16 KiB');
    return eof ? new Error('an answer without a complete head') : undefined;
  }
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]);
  if (status === null) return new Error(`not an HTTP/1.1 answer: ${JSON.stringify(lines[0].slice(0, 64))}`);
  let length: number | undefined;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d{1,9}$/.test(value)) return new Error(`bad content-length ${JSON.stringify(value.slice(0, 32))}`);
      length = Number(value);
    } else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
  }
  const rest = buf.subarray(headEnd + 4);
  let body: Buffer;
  if (chunked) {
    const decoded = dechunk(rest);
    if (decoded instanceof Error) return decoded;
    if (decoded === undefined) return eof ? new Error('a chunked body cut short') : undefined;
    body = decoded;
  } else if (length !== undefined) {
    if (length > MAX_BODY_BYTES) return new Error(`a body over ${MAX_BODY_BYTES} bytes`);
    if (rest.length < length) return eof ? new Error('a body shorter than its content-length') : undefined;
    body = rest.subarray(0, length);
  } else {
    if (!eof) return undefined;
    body = rest;
  }
  if (body.length > MAX_BODY_BYTES) return new Error(`a body over ${MAX_BODY_BYTES} bytes`);
  return { status: Number(status[1]), body: body.toString('utf8') };
}

/** The body of a chunked transfer coding, undefined until the last chunk is in. */
function dechunk(buf: Buffer): Buffer | Error | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0].trim(), 16);
    if (!Number.isInteger(size) || size < 0) return new Error('a malformed chunk size');
    if (size === 0) return Buffer.concat(parts);
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
