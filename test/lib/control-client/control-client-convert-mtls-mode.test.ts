// Pins that a Workload's effective mTLS mode survives model → proto → bytes → model (field 14), and that a
// Workload from a control plane that sends no mode (empty string) reads as permissive instead of being
// refused by the model's schema. Without the field the node agent never learnt that a workload is strict.
import { describe, expect, it } from 'vitest';
import { Resource } from '../../../api/gen/weft/v1/resources.js';
import { resourceFromProto, resourceToProto } from '../../../lib/control-client/convert.js';
import { WorkloadSchema, type Workload } from '../../../lib/model/index.js';

const base = { uid: 'u1', name: 'a', namespace: 'ns', serviceAccount: 'sa', ips: ['10.0.0.1'], captured: true };

function roundTrip(w: Workload): Workload {
  return resourceFromProto('Workload', Resource.decode(Resource.encode(resourceToProto('Workload', w)).finish()));
}

describe('control-client convert: Workload mtlsMode', () => {
  it('strict and permissive round-trip', () => {
    expect(roundTrip(WorkloadSchema.parse({ ...base, mtlsMode: 'strict' })).mtlsMode).toBe('strict');
    expect(roundTrip(WorkloadSchema.parse({ ...base, mtlsMode: 'permissive' })).mtlsMode).toBe('permissive');
  });

  it('no mode on the wire reads as permissive', () => {
    const proto = resourceToProto('Workload', WorkloadSchema.parse(base));
    proto.workload!.mtlsMode = '';
    expect(resourceFromProto('Workload', Resource.decode(Resource.encode(proto).finish())).mtlsMode).toBe('permissive');
  });
});
