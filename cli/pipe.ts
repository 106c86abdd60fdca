/**
 * `weft version | head -1` (or `| true`) closes the pipe before weft is done writing: the next write fails
 * with EPIPE, which Node raises as an unhandled 'error' event (a stack trace, exit 1). Whoever closed the
 * pipe wanted no more output, so weft stops there, as a SIGPIPE'd C program would, without a trace.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}
