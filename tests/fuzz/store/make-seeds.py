#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-load (tests/fuzz/corpus/fuzz-load/): docker-archives and OCI
layouts of a one-file image, in the target's input format ("=== NAME" line, then the bytes)."""
import hashlib, io, json, os, sys, tarfile

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), '..', 'corpus', 'fuzz-load')
os.makedirs(out, exist_ok=True)


def sha(b):
    return 'sha256:' + hashlib.sha256(b).hexdigest()


def layer(text):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.USTAR_FORMAT) as t:
        data = text.encode()
        ti = tarfile.TarInfo('hello.txt')
        ti.size, ti.mtime = len(data), 0
        t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def config(layers):
    return json.dumps({'architecture': 'amd64', 'os': 'linux',
                       'config': {'Cmd': ['/hello']},
                       'rootfs': {'type': 'layers', 'diff_ids': [sha(l) for l in layers]},
                       'history': [{'created_by': 'seed %d' % i} for i in range(len(layers))]}, sort_keys=True).encode()


def write(name, files):
    with open(os.path.join(out, name), 'wb') as f:
        for path, data in files:
            f.write(b'=== ' + path.encode() + b'\n' + data + b'\n')


def blob(b):
    return ('blobs/sha256/' + hashlib.sha256(b).hexdigest(), b)


l1, l2 = layer('one\n'), layer('two\n')
cfg = config([l1, l2])
manifest = json.dumps([{'Config': 'config.json', 'RepoTags': ['fuzz:1', 'example.com/a/b:2'],
                        'Layers': ['l1/layer.tar', 'l2/layer.tar']}]).encode()
write('docker-archive', [('manifest.json', manifest), ('config.json', cfg),
                         ('l1/layer.tar', l1), ('l2/layer.tar', l2)])
write('docker-archive-bad-diffid', [('manifest.json', manifest), ('config.json', config([l2, l1])),
                                    ('l1/layer.tar', l1), ('l2/layer.tar', l2)])
write('docker-archive-escape', [('manifest.json', json.dumps([{
    'Config': '../../etc/passwd', 'Layers': ['/etc/shadow']}]).encode())])


def oci(annotations=None, mt='application/vnd.oci.image.layer.v1.tar', nested=False):
    man = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                      'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                                 'digest': sha(cfg), 'size': len(cfg)},
                      'layers': [{'mediaType': mt, 'digest': sha(l), 'size': len(l)}
                                 for l in (l1, l2)]}).encode()
    desc = {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': sha(man),
            'size': len(man), 'platform': {'os': 'linux', 'architecture': 'amd64'}}
    if annotations:
        desc['annotations'] = annotations
    files = [blob(cfg), blob(l1), blob(l2), blob(man)]
    idx = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
           'manifests': [desc]}
    if nested:
        inner = json.dumps(idx).encode()
        files.append(blob(inner))
        idx = {'schemaVersion': 2, 'manifests': [{
            'mediaType': 'application/vnd.oci.image.index.v1+json', 'digest': sha(inner),
            'size': len(inner), 'annotations': {'io.containerd.image.name': 'nested:1'}}]}
    return [('oci-layout', b'{"imageLayoutVersion":"1.0.0"}'),
            ('index.json', json.dumps(idx).encode())] + files


write('oci', oci({'org.opencontainers.image.ref.name': 'example.com/oci:1'}))
write('oci-containerd-name', oci({'io.containerd.image.name': 'docker.io/library/x:y'}))
write('oci-nested-index', oci(nested=True))
write('oci-wrong-size', [(n, d.replace(b'"size": 1', b'"size": 9')) for n, d in oci()])
write('oci-gzip-type', oci(mt='application/vnd.oci.image.layer.v1.tar+gzip'))
write('empty-index', [('index.json', b'{"schemaVersion":2,"manifests":[]}')])
