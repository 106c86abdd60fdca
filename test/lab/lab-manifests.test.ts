// Pins what `weft lab apply` accepts: multi-document YAML and Lists, the checks that keep an unrunnable
// object out (missing containers, bad restartPolicy, bad kinds and names), image → program mapping with a clear
// error for unknown images, file names per `manifestFileName`, and pod namespace names that stay ≤ 64 chars.
import { describe, expect, it } from 'vitest';
import { imageBaseName, programFor } from '../../lab/images.js';
import { KIND_INFO } from '../../control/sources/schemas.js';
import { manifestFileName, parseManifests } from '../../lab/manifests.js';
import { labKind } from '../../lab/object-fields.js';
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

  it('refuses objects the lab cannot run, naming the source and the reason', () => {
    const cases: [string, RegExp][] = [
      ['apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: {}', /containers/],
      ['apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: { restartPolicy: Sometimes, containers: [{name: c, image: debian}] }', /restartPolicy/],
      ['apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }\nspec: { replicas: -1, template: { spec: { containers: [{name: c, image: debian}] } } }', /replicas/],
      ['apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec: { ports: [{ port: 70000 }] }', /port/],
      ['apiVersion: v1\nkind: Pod\nmetadata: { name: p\n', /.+/],
    ];
    for (const [text, reason] of cases) {
      const err = errorOf(() => parseManifests(text, 'file.yaml'));
      expect(hasCode(err, 'ERR_WEFT_LAB_MANIFEST_INVALID'), text).toBe(true);
      expect((err as Error).message).toMatch(reason);
      expect((err as Error).message).toContain('file.yaml');
    }
  });

  it('refuses a missing apiVersion and a bad name as a field error naming the rule', () => {
    const cases: [string, RegExp][] = [
      ['kind: Pod\nmetadata: { name: p }', /apiVersion of Pod \(missing\) is not valid: must be v1/],
      ['apiVersion: v1\nkind: Pod\nmetadata: { name: Bad_Name }\nspec: { containers: [{name: c, image: debian}] }', /metadata.name of Pod "Bad_Name" is not valid: must be an RFC 1123 subdomain/],
      ['apiVersion: v1\nkind: Service\nmetadata: { name: 1web }\nspec: { ports: [{ port: 80 }] }', /metadata.name of Service "1web" is not valid: must be an RFC 1035 label/],
      ['apiVersion: v1\nkind: Nonsense\nmetadata: { name: n }', /kind "Nonsense" is not valid: must be one of Namespace, Pod/],
    ];
    for (const [text, reason] of cases) {
      const err = errorOf(() => parseManifests(text, 'file.yaml'));
      expect(hasCode(err, 'ERR_WEFT_LAB_FIELD_INVALID'), text).toBe(true);
      expect((err as Error).message).toMatch(reason);
      expect((err as Error).message.startsWith('file.yaml: ')).toBe(true);
    }
  });

  it('serves every kind weft reads, with the apiVersions and scope the control plane expects', () => {
    for (const [kind, info] of Object.entries(KIND_INFO)) {
      expect(labKind(kind)?.namespaced, kind).toBe(info.namespaced);
      expect(labKind(kind)?.apiVersions, kind).toContain(info.apiVersion);
    }
  });

  it('names files <Kind>.<namespace>.<name>.yaml, cluster-scoped <Kind>.<name>.yaml', () => {
    expect(manifestFileName({ kind: 'Service', metadata: { name: 's', namespace: 'n' } })).toBe('Service.n.s.yaml');
    expect(manifestFileName({ kind: 'Pod', metadata: { name: 'p' } })).toBe('Pod.default.p.yaml');
    expect(manifestFileName({ kind: 'Namespace', metadata: { name: 'n' } })).toBe('Namespace.n.yaml');
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
