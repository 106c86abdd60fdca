// Pins how the lab kubelet mounts the chart's DaemonSet volumes without a container runtime: each hostPath
// the chart asks for is the lab node's own directory (CNI conf/bin dirs, run dir), /var/run/netns the lab's
// netns directory and /proc the machine's only read-only; any other hostPath is refused with a reason. Paths
// inside an exec probe's script are mapped as whole paths only, and the chart's image `weft` runs the
// container's command from the repository root with this Node.
import { describe, expect, it } from 'vitest';
import { containerArgv } from '../../lab/container-launch.js';
import { mapHostPath } from '../../lab/host-paths.js';
import type { Container } from '../../lab/manifests.js';
import { labPaths } from '../../lab/names.js';
import type { PodState } from '../../lab/pod-state.js';
import { rewritePathsInText } from '../../lab/volumes.js';
import { hasCode } from '../../lib/errors/index.js';

const node = labPaths('t', '/state').node('n1');

describe('hostPath volumes on a lab node', () => {
  it('maps the chart\'s paths to the node\'s own directories', () => {
    expect(mapHostPath({ path: '/etc/cni/net.d', type: 'DirectoryOrCreate' }, false, node, 'p')).toEqual({ dir: '/state/t/nodes/n1/net.d', create: true });
    expect(mapHostPath({ path: '/opt/cni/bin/' }, false, node, 'p')).toEqual({ dir: '/state/t/nodes/n1/bin', create: false });
    expect(mapHostPath({ path: '/var/run/weft', type: 'DirectoryOrCreate' }, false, node, 'p').dir).toBe('/state/t/nodes/n1/run-weft');
    expect(mapHostPath({ path: '/run/weft' }, false, node, 'p').dir).toBe('/state/t/nodes/n1/run-weft');
    expect(mapHostPath({ path: '/var/run/netns', type: 'DirectoryOrCreate' }, false, node, 'p')).toEqual({ dir: '/run/netns', create: false });
    expect(mapHostPath({ path: '/proc', type: 'Directory' }, true, node, 'p')).toEqual({ dir: '/proc', create: false });
  });

  it('refuses what it cannot map safely, naming the path, the pod and why', () => {
    const refusal = (path: string, readOnly = false, type?: 'File') => {
      try {
        mapHostPath({ path, ...(type ? { type } : {}) }, readOnly, node, 'ns/pod');
      } catch (err) {
        expect(hasCode(err, 'ERR_WEFT_LAB_HOSTPATH_UNSUPPORTED')).toBe(true);
        return (err as Error).message;
      }
      throw new Error(`${path} was mapped`);
    };
    expect(refusal('/etc')).toContain('hostPath /etc of ns/pod cannot be mounted in the lab: the lab maps only');
    expect(refusal('/etc/cni')).toContain('hostPath /etc/cni of ns/pod');
    expect(refusal('/etc/cni/net.d/../../passwd')).toContain('the lab maps only');
    expect(refusal('/proc')).toContain('only read-only');
    expect(refusal('/etc/cni/net.d', false, 'File')).toContain('type File is not a directory');
  });
});

describe('paths in an exec probe\'s command', () => {
  const mounts = new Map([
    ['/host/etc/cni/net.d', '/state/n1/net.d'],
    ['/var/run/weft', '/state/n1/run-weft'],
    ['/var/run/weft/state', '/state/other'],
  ]);

  it('maps whole mounted paths, the longest first, and leaves look-alikes', () => {
    const script = `grep -qs '"weft-cni"' /host/etc/cni/net.d/*.conflist && ! grep -qs x /host/etc/cni/net.d/.status || cat /var/run/weft/state/f /var/run/weft2 /var/run/weft`;
    expect(rewritePathsInText(script, mounts)).toBe(`grep -qs '"weft-cni"' /state/n1/net.d/*.conflist && ! grep -qs x /state/n1/net.d/.status || cat /state/other/f /var/run/weft2 /state/n1/run-weft`);
    expect(rewritePathsInText('--dir=/var/run/weft', mounts)).toBe('--dir=/state/n1/run-weft');
    expect(rewritePathsInText('/x/var/run/weft', mounts)).toBe('/x/var/run/weft');
  });
});

describe('the chart\'s image weft', () => {
  const st = { key: 'weft-system/agent' } as PodState;
  const argv = (c: Partial<Container>) => containerArgv(st, { name: 'c', image: 'ghcr.io/weft-mesh/weft:0.1.0', ...c }, new Map([['/host/opt/cni/bin', '/state/bin']]), '/repo/dist');

  it('runs the container\'s command from the repository root with this Node, args mapped into its mounts', () => {
    expect(argv({ command: ['node', 'dist/cni/install.js'], args: ['--cni-bin-dir=/host/opt/cni/bin', '--cni-bin-dir', '/host/opt/cni/bin'] })).toEqual([
      process.execPath,
      'dist/cni/install.js',
      '--cni-bin-dir=/state/bin',
      '--cni-bin-dir',
      '/state/bin',
    ]);
  });

  it('without a command runs the image\'s ENTRYPOINT (the waypoint)', () => {
    expect(argv({ args: ['--gateway', 'shop/waypoint'] })).toEqual([process.execPath, 'dist/waypoint/main.js', '--gateway', 'shop/waypoint']);
  });
});
