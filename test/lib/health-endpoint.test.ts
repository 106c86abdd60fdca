// The readiness endpoint every process serves (lib/telemetry/http-endpoints.ts): 503 with the reason until
// ready, then 200; only /healthz/ready answers.
import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { boundPort, serveHealth } from '../../lib/telemetry/http-endpoints.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

describe('serveHealth', () => {
  it('answers 503 with the reason until ready, then 200; other paths 404', async () => {
    let reason: string | undefined = 'waiting for cluster state';
    server = await serveHealth({ host: '127.0.0.1', port: 0 }, () => reason);
    const url = `http://127.0.0.1:${boundPort(server)}`;
    const get = async (path: string): Promise<[number, string]> => {
      const res = await fetch(url + path);
      return [res.status, await res.text()];
    };
    expect(await get('/healthz/ready')).toEqual([503, 'not ready: waiting for cluster state\n']);
    reason = '';
    expect(await get('/healthz/ready?verbose')).toEqual([503, 'not ready\n']);
    reason = undefined;
    expect(await get('/healthz/ready')).toEqual([200, 'ready\n']);
    expect((await get('/metrics'))[0]).toBe(404);
  });

  it('rejects when the address is taken', async () => {
    server = await serveHealth({ host: '127.0.0.1', port: 0 }, () => undefined);
    await expect(serveHealth({ host: '127.0.0.1', port: boundPort(server) }, () => undefined)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
