"""The standalone verifier (audit/ecom_verify.py): it imports nothing of the project, its own
RFC 9162 code agrees with audit/merkle.py (roots, compact prefixes, inclusion and consistency
proofs, and refusing any changed byte), signed heads are checked against the pinned key only,
and the CLI's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import time
import tomllib
from pathlib import Path

import cryptography
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import ecom_verify as ev
from audit import merkle, tree_head
from audit.checkpoint import public_key_of

MODULE = Path(ev.__file__)
HASHES = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(300)]


def test_it_imports_only_the_standard_library_and_cryptography(tmp_path):
    """Without site processing (no .pth, so no editable install of the project), on a path of
    the module's own folder, the standard library and the folder cryptography is installed in."""
    stdlib = sysconfig.get_paths()["stdlib"]
    path = [
        str(MODULE.parent),
        stdlib,
        sysconfig.get_paths()["platstdlib"],
        str(Path(stdlib) / "lib-dynload"),
        str(Path(cryptography.__file__).parent.parent),
    ]
    code = (
        f"import sys; sys.path[:] = {path!r}; import ecom_verify; "
        "ours = ('audit', 'composition', 'domain', 'eventstore', 'commands', 'api', "
        "'projections', 'scaleout', 'orjson', 'psycopg', 'pydantic'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ours))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    source = MODULE.read_text()
    assert "from audit" not in source and "import audit" not in source


def test_it_runs_as_a_script_without_the_project():
    out = subprocess.run(
        [sys.executable, "-I", str(MODULE), "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "consistency" in out.stdout


@given(st.integers(0, 300), st.integers(0, 300))
def test_the_frontier_root_and_compact_prefix_match_audit_merkle(n, cut):
    cut = min(cut, n)
    whole = ev.Frontier()
    for h in HASHES[:n]:
        whole.append(h)
    assert whole.root() == merkle.root_of(HASHES[:n]) and whole.size() == n
    head = ev.Frontier()
    for h in HASHES[:cut]:
        head.append(h)
    resumed = ev.Frontier.of_prefix(cut, list(head.hashes))
    for h in HASHES[cut:n]:
        resumed.append(h)
    assert resumed.root() == merkle.root_of(HASHES[:n])


@settings(max_examples=300)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_proofs_of_audit_merkle_verify_here_and_one_byte_breaks_them(case):
    n, i = case
    root = merkle.root_of(HASHES[:n])
    path = merkle.inclusion_path(i, n, merkle.over(HASHES))
    assert ev.root_from_inclusion(i, n, HASHES[i], path) == root
    for j in range(len(path)):
        broken = list(path)
        broken[j] = bytes([broken[j][0] ^ 1]) + broken[j][1:]
        assert ev.root_from_inclusion(i, n, HASHES[i], broken) != root
    assert ev.root_from_inclusion(i, n, HASHES[i], [*path, root]) is None
    if path:
        assert ev.root_from_inclusion(i, n, HASHES[i], path[:-1]) != root


@settings(max_examples=300)
@given(st.integers(0, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_consistency_proofs_of_audit_merkle_verify_here_and_one_byte_breaks_them(case):
    m, n = case
    old, new = merkle.root_of(HASHES[:m]), merkle.root_of(HASHES[:n])
    proof = merkle.consistency_proof(m, n, merkle.over(HASHES))
    assert ev.consistent(m, n, old, new, proof)
    assert ev.consistent(m, n, old, new, proof) == merkle.verify_consistency(m, n, old, new, proof)
    for j in range(len(proof)):
        broken = list(proof)
        broken[j] = broken[j][:-1] + bytes([broken[j][-1] ^ 0x80])
        assert not ev.consistent(m, n, old, new, broken)
    if 0 < m < n:
        assert not ev.consistent(m, n, old, merkle.root_of(HASHES[: n - 1]), proof)


def _head(key, size, ts=1_700_000_000_000):
    return tree_head.sign(key, size, merkle.root_of(HASHES[:size]), ts)


def test_a_head_counts_only_when_the_pinned_key_signed_it():
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    head = _head(key, 10)
    pinned = ev.load_public_key(public_key_of(key))
    assert ev.head_problem(head, pinned) is None
    assert tree_head.verify(head, public_key_of(key))  # the same payload as the service's
    assert "signature" in ev.head_problem(_head(other, 10), pinned)
    for field, value in [("tree_size", 11), ("timestamp", 1), ("root_hash", "00" * 32)]:
        assert ev.head_problem({**head, field: value}, pinned) is not None
    assert ev.head_problem({**head, "tree_size": 10.0}, pinned) is not None
    assert ev.head_problem({**head, "extra": 1}, pinned) is not None


def _write(tmp_path, name, doc) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_the_proof_and_consistency_commands_exit_0_1_2(tmp_path):
    key = Ed25519PrivateKey.generate()
    pub = _write(tmp_path, "pinned.json", {"public_key": public_key_of(key)})
    leaves = [json.dumps({"position": p, "type": "x"}).encode() for p in range(1, 21)]
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    import base64

    head = tree_head.sign(key, 20, merkle.root_of(hashes), int(time.time() * 1000))
    old = tree_head.sign(key, 13, merkle.root_of(hashes[:13]), int(time.time() * 1000))
    proof = {
        "position": 7,
        "tree_size": 20,
        "leaf": base64.b64encode(leaves[6]).decode(),
        "leaf_hash": hashes[6].hex(),
        "audit_path": [h.hex() for h in merkle.inclusion_path(6, 20, merkle.over(hashes))],
        "root_hash": head["root_hash"],
    }
    cons = {
        "from": 13,
        "to": 20,
        "proof": [h.hex() for h in merkle.consistency_proof(13, 20, merkle.over(hashes))],
    }
    files = {
        "head": _write(tmp_path, "head.json", head),
        "old": _write(tmp_path, "old.json", old),
        "proof": _write(tmp_path, "proof.json", proof),
        "cons": _write(tmp_path, "cons.json", cons),
    }

    def run(*args):
        return subprocess.run(
            [sys.executable, "-I", str(MODULE), *args], capture_output=True, text=True
        )

    ok = run("proof", files["proof"], "--head", files["head"], "--public-key", pub)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["event"] == {"position": 7, "type": "x"}
    args = ("consistency", files["old"], files["head"], files["cons"], "--public-key", pub)
    assert run(*args).returncode == 0
    assert run("consistency", files["head"], files["old"], files["cons"], "--public-key", pub)
    bad = dict(proof, leaf=base64.b64encode(leaves[7]).decode(), leaf_hash=hashes[7].hex())
    out = run(
        "proof", _write(tmp_path, "bad.json", bad), "--head", files["head"], "--public-key", pub
    )
    assert out.returncode == 1 and json.loads(out.stdout)["problem"] == "leaf_position_mismatch"
    other = Ed25519PrivateKey.generate()
    forged = _write(tmp_path, "forged.json", tree_head.sign(other, 20, merkle.root_of(hashes), 1))
    out = run("proof", files["proof"], "--head", forged, "--public-key", pub)
    assert out.returncode == 1 and json.loads(out.stdout)["where"] == "tree_head"
    assert (
        run("proof", files["proof"], "--head", files["head"], "--public-key", "nokey").returncode
        == 2
    )


def test_ecom_verify_is_a_console_script():
    with (MODULE.parent.parent / "pyproject.toml").open("rb") as f:
        scripts = tomllib.load(f)["project"]["scripts"]
    assert scripts["ecom-verify"] == "audit.ecom_verify:main"


def test_the_inclusion_check_refuses_any_changed_byte_of_the_proof():
    import base64

    key = Ed25519PrivateKey.generate()
    pinned = ev.load_public_key(public_key_of(key))
    leaves = [json.dumps({"position": p}).encode() for p in range(1, 41)]
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    head = tree_head.sign(key, 40, merkle.root_of(hashes), 5)
    for i in (0, 17, 39):
        proof = {
            "position": i + 1,
            "tree_size": 40,
            "leaf": base64.b64encode(leaves[i]).decode(),
            "leaf_hash": hashes[i].hex(),
            "audit_path": [h.hex() for h in merkle.inclusion_path(i, 40, merkle.over(hashes))],
            "root_hash": head["root_hash"],
        }
        assert ev.check_inclusion(proof, head, pinned).ok
        for j, node in enumerate(proof["audit_path"]):
            path = list(proof["audit_path"])
            path[j] = ("1" if node[0] == "0" else "0") + node[1:]
            assert not ev.check_inclusion({**proof, "audit_path": path}, head, pinned).ok
        assert not ev.check_inclusion({**proof, "position": i + 2}, head, pinned).ok
        assert not ev.check_inclusion({**proof, "tree_size": 41}, head, pinned).ok


SIGNER = Ed25519PrivateKey.generate()


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))), st.data())
def test_signed_heads_and_a_consistency_proof_pass_and_any_changed_byte_fails(case, data):
    m, n = case
    pinned = SIGNER.public_key()
    old, new = _head(SIGNER, m, 1), _head(SIGNER, n, 2)
    proof = {
        "from": m,
        "to": n,
        "proof": [h.hex() for h in merkle.consistency_proof(m, n, merkle.over(HASHES))],
    }
    assert ev.check_consistency(old, new, proof, pinned).ok
    assert not ev.check_consistency(new, old, {**proof, "from": n, "to": m}, pinned).ok or m == n
    doc = data.draw(st.sampled_from(["old", "new", "proof"] if proof["proof"] else ["old", "new"]))
    if doc == "proof":
        i = data.draw(st.integers(0, len(proof["proof"]) - 1))
        text = proof["proof"][i]
        j = data.draw(st.integers(0, len(text) - 1))
        flipped = f"{int(text[j], 16) ^ data.draw(st.integers(1, 15)):x}"
        changed = [*proof["proof"]]
        changed[i] = text[:j] + flipped + text[j + 1 :]
        assert not ev.check_consistency(old, new, {**proof, "proof": changed}, pinned).ok
    else:
        head = old if doc == "old" else new
        text = head["root_hash"]
        j = data.draw(st.integers(0, len(text) - 1))
        flipped = f"{int(text[j], 16) ^ data.draw(st.integers(1, 15)):x}"
        forged = {**head, "root_hash": text[:j] + flipped + text[j + 1 :]}
        pair = (forged, new) if doc == "old" else (old, forged)
        assert not ev.check_consistency(*pair, proof, pinned).ok
