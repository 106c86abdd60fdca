import { DiscoveryServiceService, WatchResponse as WatchResponseCodec, type WatchResponse } from '../../api/gen/weft/v1/discovery.js';

/**
 * Watchers with the same scope get the very same message objects within a flush (and the same snapshot
 * chunks within a version), so each is serialised once however many watchers receive it: the service
 * definition registered with the gRPC server serialises through this cache.
 */
const encoded = new WeakMap<WatchResponse, Buffer>();
export const DiscoveryServiceDefinition = {
  ...DiscoveryServiceService,
  watch: {
    ...DiscoveryServiceService.watch,
    responseSerialize: (value: WatchResponse): Buffer => {
      let b = encoded.get(value);
      if (!b) encoded.set(value, (b = Buffer.from(WatchResponseCodec.encode(value).finish())));
      return b;
    },
  },
} as const;
