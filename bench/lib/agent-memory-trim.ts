import { MemoryTrimmer } from '../../node-agent/memory-trim.js';
import { nativeNetns } from '../../node-agent/netns/native.js';
import { silentLogger } from '../../lib/telemetry/log.js';

/**
 * The bench roles that stand for a node agent (bench/hbone-loopback's weft-client and weft-server) give
 * freed memory back as the agent does (node-agent/memory-trim.ts), so that bench/conn-memory measures
 * what an agent keeps after load.
 */
export function startAgentMemoryTrim(): void {
  new MemoryTrimmer({ malloc: nativeNetns(), logger: silentLogger }).start();
}
