import { defineCodes } from '../spec.js';

// Codes shared by every process: configuration, input validation, internal failures.
export const coreCodes = defineCodes({
  ERR_WEFT_CONFIG_INVALID: {
    message: 'invalid configuration: {reason}',
    hint: 'Fix the named option or file; `--help` lists every option and its default.',
    http: 500,
    grpc: 9,
  },
  ERR_WEFT_NOT_ROOT: {
    message: '{what} needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) but runs as uid {uid}',
    hint: 'Run it with sudo, or as root in CI.',
  },
  ERR_WEFT_CORE_TIMEOUT: {
    message: '{what} did not finish within {ms} ms',
    hint: 'The peer is slow or unreachable; check that it runs and that nothing drops its traffic.',
    http: 504,
    grpc: 4,
    flag: 'TIMEOUT',
  },
  ERR_WEFT_PATH_OUTSIDE_ROOT: {
    message: 'path {path} would leave {root}',
    hint: 'A name that reached the file system carries `/` or `..`; names are checked where they enter weft, so this is a bug: report it with this line.',
  },
  ERR_WEFT_CORE_INTERNAL: {
    message: 'internal error: {reason}',
    hint: 'This is a bug in weft; please report it with the log line that carries this code.',
    http: 500,
    grpc: 13,
  },
});
