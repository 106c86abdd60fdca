// Pins the kubelet's `$(VAR)` expansion in a container's command and args (the chart passes
// `--node=$(NODE_NAME)`): from the container's declared env only, `$$` as a literal `$`, an undefined
// reference left as written; and which mounts the lab binds at their fixed paths (the in-cluster
// ServiceAccount directory, `/var/run/...` taken as `/run/...`).
import { describe, expect, it } from 'vitest';
import { expandEnvRefs, fixedRunMounts } from '../../lab/container-launch.js';
import type { Container } from '../../lab/manifests.js';

describe('$(VAR) in command and args', () => {
  const c: Container = { name: 'c', image: 'weft', env: [{ name: 'NODE_NAME', value: 'x' }, { name: 'EMPTY', value: '' }] };
  const env = { NODE_NAME: 'n1', EMPTY: '', POD_IP: '10.0.0.1' };

  it('expands declared variables, keeps $$ as $ and unknown references as written', () => {
    expect(expandEnvRefs(['--node=$(NODE_NAME)', '$(NODE_NAME)-$(NODE_NAME)', 'a$(EMPTY)b', '$$(NODE_NAME)', '$(POD_IP)', '$(MISSING)', 'cost $5'], env, c)).toEqual([
      '--node=n1',
      'n1-n1',
      'ab',
      '$(NODE_NAME)',
      '$(POD_IP)', // set by the lab, not declared by the container: not the container's to reference
      '$(MISSING)',
      'cost $5',
    ]);
  });
});

describe('mounts bound at their fixed paths', () => {
  it('takes only the in-cluster ServiceAccount directory', () => {
    const mounts = new Map([
      ['/var/run/secrets/kubernetes.io/serviceaccount', '/state/v/kube-api-access'],
      ['/var/run/secrets/weft/token', '/state/v/weft-token'],
      ['/tmp', '/state/v/tmp'],
    ]);
    expect(fixedRunMounts(mounts)).toEqual(new Map([['/run/secrets/kubernetes.io/serviceaccount', '/state/v/kube-api-access']]));
  });
});
