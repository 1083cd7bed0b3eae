"""How data is cut for Cloud Assistant: module payload recipes, stdin runs and blobs, run knowledge."""
from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile

from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_ansiballz import (
    DECODER,
    build_recipe,
    zip_pieces,
)
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_payload import (
    Blob,
    Inline,
    InstanceKnowledge,
    compress,
    split_stdin,
)

from test_cloud_assistant_session import ansiballz


def test_recipe_objects_do_not_depend_on_build_time_or_arguments():
    one = build_recipe(ansiballz('{"token": "tok-Q9Zk"}', when=(2024, 1, 1, 0, 0, 0)))
    two = build_recipe(ansiballz('{"token": "tok-W7Xm"}', when=(2030, 5, 5, 5, 5, 4)))
    assert one.rebuild() == ansiballz('{"token": "tok-Q9Zk"}', when=(2024, 1, 1, 0, 0, 0))
    assert set(one.objects) == set(two.objects) and len(one.objects) == 3   # wrapper, basic.py, demo.py
    assert all(b"tok-" not in data for data in one.objects.values())
    assert b"tok-Q9Zk" in one.glue and one.sha != two.sha
    assert "/modules/" in one.labels[one.likely_new()[0]]   # the module's own code first


def test_the_decoder_rebuilds_stores_and_reports_missing_objects(tmp_path):
    payload = ansiballz("{}")
    recipe = build_recipe(payload)
    cache, out = tmp_path / "cache", tmp_path / "out"

    def decode(new=(), drop=False):
        return subprocess.run([sys.executable, "-c", DECODER, str(cache), str(out)], capture_output=True, text=True,
                              input=recipe.encode(list(new), [], drop), check=False)

    missing = decode()
    assert missing.returncode == 3 and not out.exists()
    assert sorted(line.split()[1] for line in missing.stdout.splitlines()) == sorted(recipe.objects)
    assert decode(new=recipe.objects).returncode == 0 and out.read_bytes() == payload
    out.unlink()
    name = next(iter(recipe.objects))
    (cache / name).write_bytes(b"tampered")
    again = decode()
    assert again.returncode == 3 and again.stdout.split() == ["missing", name]   # a damaged object is not used
    assert decode(new=[name], drop=True).returncode == 0 and out.read_bytes() == payload
    assert not list(cache.iterdir())   # drop: nothing kept
    assert "'" not in DECODER


def test_only_ansiballz_payloads_make_recipes_and_odd_zips_still_rebuild():
    assert build_recipe(b"#!/bin/sh\necho hi\n") is None
    assert build_recipe(b"print('x')\n_ANSIBALLZ_WRAPPER = True\n") is None   # no interpreter line
    assert zip_pieces(b"not a zip at all") is None
    streamed = io.BytesIO()
    with zipfile.ZipFile(_Unseekable(streamed), "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("a.py", "b.py"):   # written with data descriptors after each entry's data
            archive.writestr(name, "x = 1\n" * 500)
    data = streamed.getvalue()
    pieces = zip_pieces(data)
    assert pieces is None or b"".join(piece for _unused, piece, _unused in pieces) == data
    payload = ansiballz("{}").replace(b"zip_data='", b"zip_data='" + base64.b64encode(data) + b"', other='")
    recipe = build_recipe(payload)
    assert recipe is not None and recipe.rebuild() == payload


class _Unseekable(io.RawIOBase):
    def __init__(self, target):
        self.target = target

    def writable(self):
        return True

    def write(self, data):
        return self.target.write(data)


def test_stdin_runs_fit_the_budget_longest_lines_first():
    data = b"short\n" * 10 + b"L" * 5000 + b"\n" + b"tail\n"
    parts = split_stdin(data, 2000)
    assert [type(p) for p in parts] == [Inline, Blob, Inline]
    assert b"".join(p.data for p in parts) == data
    assert split_stdin(b"x\n" * 10, 10000) == [Inline(b"x\n" * 10)]
    tight = split_stdin(b"x\n" * 3000, 500)   # only short lines: the largest run becomes a blob
    assert b"".join(p.data for p in tight) == b"x\n" * 3000 and any(isinstance(p, Blob) for p in tight)
    for seed in range(20):   # random binary data: many short "lines" in many runs, all must fit
        noise = __import__("random").Random(seed).randbytes(60000)
        parts = split_stdin(noise, 12000)
        assert b"".join(p.data for p in parts) == noise
        assert sum(p.script_size() for p in parts if isinstance(p, Inline)) <= 12000
    assert Inline(b"text\n").is_text and not Inline(b"\xff\n").is_text and not Inline(b"no newline").is_text


def test_compression_is_deterministic_and_only_when_it_pays():
    assert compress(b"a" * 1000) == compress(b"a" * 1000) and compress(b"a" * 1000)[1]
    random = os.urandom(1000)
    assert compress(random) == (random, False)


def test_knowledge_is_shared_through_a_file_and_can_be_forgotten(tmp_path):
    known = InstanceKnowledge.load(str(tmp_path), "i-1", "ecs user")
    assert not known.seeded and not known.has("a" * 32)
    known.seed("/home/x/.ansible/cloud_assistant", ["gzip", "base64", "sha256"], ["abcdef0123456789"])
    known.remember(["f" * 32])
    known.save()
    again = InstanceKnowledge.load(str(tmp_path), "i-1", "ecs user")
    assert again.seeded and again.has("abcdef012345" + "0" * 20) and again.has("f" * 32) and again.can("gzip")
    assert json.loads(open(again.path).read())["cache_dir"] == "/home/x/.ansible/cloud_assistant"
    again.drop(["f" * 32])
    assert not again.has("f" * 32)
    again.observed("module", 2.0)
    again.observed("module", 1.0)
    assert again.expected("module") == 1.5 and again.expected("put") is None
    again.forget()
    assert not InstanceKnowledge.load(str(tmp_path), "i-1", "ecs user").seeded
