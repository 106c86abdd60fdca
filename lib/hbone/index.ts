export { HbonePool, type HbonePoolOptions, type HboneConnectRequest } from './pool.js';
export { HboneSession, type TunnelRequest } from './client.js';
export { createHboneServer, type HboneServer, type HboneServerOptions, type TunnelInfo, type Tunnel, type AcceptedTunnel, type AuthorizeResult, type RefusedBy } from './server.js';
export { pipeTunnel, PIPE_BUFFER_BYTES, type TunnelResult } from './pipe.js';
export { BURST_CHUNK_BYTES } from './burst-cork.js';
export { parseAuthority, parseForwardedFor, type TunnelTarget } from './authority.js';
export { plainSocketFactory, type SocketFactory, type NextHop } from './socket-factory.js';
export * from './protocol.js';
export { resetTunnel, resetByFarEnd } from './tunnel-reset.js';
