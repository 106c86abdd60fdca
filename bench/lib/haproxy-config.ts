/**
 * The haproxy baseline of the TCP benches: a pair of haproxies in TCP mode, placed like weft's two ends.
 * The client-side one takes plaintext on an echo and a sink frontend and opens TLS 1.3 with a client
 * certificate to the server-side one, which verifies it against the CA and forwards plaintext to the
 * backend. Certificates come from pki-files.ts (`writeBenchPki`: ca.pem, client.pem, server.pem in
 * pkiDir); haproxy checks the chain but cannot check a SPIFFE ID. One thread each (`nbthread 1`): a weft
 * proxy is one event loop.
 */

/** `host:port` addresses of the pair, for the echo and the sink path alike. */
export interface HaproxyPairAddresses {
  /** The client-side haproxy's plaintext frontends: what the load generator connects to. */
  clientEcho: string;
  clientSink: string;
  /** The server-side haproxy's TLS frontends. */
  tlsEcho: string;
  tlsSink: string;
  /** The backend's echo and sink ports. */
  backendEcho: string;
  backendSink: string;
}

const HEAD = `global
  nbthread 1
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
`;

export function haproxyPairConfigs(pkiDir: string, a: HaproxyPairAddresses): { client: string; server: string } {
  const tlsBind = `ssl crt ${pkiDir}/server.pem ca-file ${pkiDir}/ca.pem verify required ssl-min-ver TLSv1.3`;
  const tlsServer = `ssl crt ${pkiDir}/client.pem ca-file ${pkiDir}/ca.pem verify required ssl-min-ver TLSv1.3`;
  const client = `${HEAD}
frontend echo
  bind ${a.clientEcho}
  default_backend echo_tls
frontend sink
  bind ${a.clientSink}
  default_backend sink_tls
backend echo_tls
  server s ${a.tlsEcho} ${tlsServer}
backend sink_tls
  server s ${a.tlsSink} ${tlsServer}
`;
  const server = `${HEAD}
frontend echo_tls
  bind ${a.tlsEcho} ${tlsBind}
  default_backend echo
frontend sink_tls
  bind ${a.tlsSink} ${tlsBind}
  default_backend sink
backend echo
  server b ${a.backendEcho}
backend sink
  server b ${a.backendSink}
`;
  return { client, server };
}
