export { TapHub, MAX_TAP_LISTENERS, MAX_BUFFERED_BYTES, type TapSink, type TapListener } from './tap-hub.js';
export { matchesTap, parseTapFilter, TAP_FILTER_KEYS, type TapFilter } from './tap-filter.js';
export { answerTap, isLoopback, TAP_PATH } from './tap-endpoint.js';
export { tapVerdict, tapDryRun, type TapEvent, type ConnectionTapEvent, type RequestTapEvent, type TapPeer, type TapVerdict, type TapDryRun } from './tap-event.js';
