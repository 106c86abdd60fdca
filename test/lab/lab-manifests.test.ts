// Pins what `weft lab apply` reads before it sends objects to the lab's API server: multi-document YAML and
// Lists, a clear error for what cannot name an object (the API server validates the rest), kubectl's names of
// types in its output, image → program mapping with a clear error for unknown images, and pod namespace
// names that stay ≤ 64 chars.
import { describe, expect, it } from 'vitest';
import { imageBaseName, programFor } from '../../lab/images.js';
import { kubectlType } from '../../lab/apply.js';
import { parseManifests } from '../../lab/manifests.js';
import { podNetns, validateLabName } from '../../lab/names.js';
import { hasCode } from '../../lib/errors/index.js';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('manifests', () => {
  it('parses multi-document YAML and List kinds', () => {
    const objs = parseManifests(
      `apiVersion: v1
kind: Namespace
metadata: { name: a }
---
apiVersion: v1
kind: List
items:
  - { apiVersion: v1, kind: ServiceAccount, metadata: { name: sa, namespace: a } }
  - { apiVersion: v1, kind: Service, metadata: { name: s, namespace: a }, spec: { ports: [{ port: 80 }] } }
---
`,
      'test',
    );
    expect(objs.map((o) => o.kind)).toEqual(['Namespace', 'ServiceAccount', 'Service']);
  });

  it('refuses a document that cannot name an object, naming the source and the reason', () => {
    const cases: [string, RegExp][] = [
      ['kind: Pod\nmetadata: { name: p }', /no apiVersion or kind/],
      ['apiVersion: v1\nkind: Pod\nmetadata: {}', /a Pod has no metadata.name/],
      ['- a\n- b', /not a mapping/],
      ['apiVersion: v1\nkind: Pod\nmetadata: { name: p\n', /.+/],
    ];
    for (const [text, reason] of cases) {
      const err = errorOf(() => parseManifests(text, 'file.yaml'));
      expect(hasCode(err, 'ERR_WEFT_LAB_MANIFEST_INVALID'), text).toBe(true);
      expect((err as Error).message).toMatch(reason);
      expect((err as Error).message).toContain('file.yaml');
    }
  });

  it('names types as kubectl prints them: kind, then the group when there is one', () => {
    expect(kubectlType({ apiVersion: 'v1', kind: 'Namespace' })).toBe('namespace');
    expect(kubectlType({ apiVersion: 'apps/v1', kind: 'Deployment' })).toBe('deployment.apps');
    expect(kubectlType({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' })).toBe('httproute.gateway.networking.k8s.io');
  });
});

describe('images', () => {
  it('maps images to the repository\'s programs, ignoring registry and tag', () => {
    expect(imageBaseName('ghcr.io/org/weft-waypoint:0.1@sha256:abc')).toBe('waypoint');
    expect(programFor('weft/http-echo:latest', 'p')).toEqual({ kind: 'node', entry: 'lab/apps/http-echo.js' });
    expect(programFor('weft/node-agent', 'p')).toEqual({ kind: 'node', entry: 'node-agent/main.js' });
    expect(programFor('debian:12', 'p')).toEqual({ kind: 'host' });
  });

  it('an unknown image is a clear error naming the image and pod', () => {
    const err = errorOf(() => programFor('nginx:1.25', 'Pod demo/web'));
    expect(hasCode(err, 'ERR_WEFT_LAB_UNKNOWN_IMAGE')).toBe(true);
    expect((err as Error).message).toBe('image nginx:1.25 of Pod demo/web is not known to the lab');
  });
});

describe('names', () => {
  it('pod namespaces stay within 64 characters and distinct', () => {
    const long = 'x'.repeat(60);
    const a = podNetns('lab', long, 'pod-a');
    const b = podNetns('lab', long, 'pod-b');
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a).not.toBe(b);
    expect(a.startsWith('weft-lab-p-')).toBe(true);
    expect(podNetns('lab', 'demo', 'client')).toBe('weft-lab-p-demo-client');
  });

  it('lab names have no dashes, so no lab\'s prefix is another lab\'s', () => {
    expect(validateLabName('t1')).toBe('t1');
    for (const bad of ['a-b', '', 'UPPER', 'x'.repeat(17), 'a.b']) {
      expect(hasCode(errorOf(() => validateLabName(bad)), 'ERR_WEFT_LAB_NAME_INVALID'), bad).toBe(true);
    }
  });
});
