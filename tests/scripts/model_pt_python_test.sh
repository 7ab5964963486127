#!/usr/bin/env bash
# Checks that a run's model.pt reads in Python as a name -> tensor dictionary, with
# scripts/load_model_pt.py (torch.load(weights_only=True) when torch is importable, else its
# numpy-only reader of the format): two tiny runs of the fedglioma binary given as $1 (instance
# norm, and batch norm for its running statistics), then the pickle's globals (only those
# torch.load's weights_only allowlist holds, no restore_type_tag), the names, shapes, dtype and
# finiteness, the printed parameter count, and every tensor's bytes against the global model in the
# run's checkpoint (same flat buffer save_state_dict was given). Damaged files and pickles naming a
# disallowed global (restore_type_tag, posix.system) must fail cleanly (exit 1, the file named, no
# traceback). Exits 77 (skipped) when /usr/bin/python3 lacks numpy.
set -euo pipefail

PY=/usr/bin/python3
if ! "$PY" -c 'import numpy' 2>/dev/null; then
  echo "fedglioma-test-skip: model_pt_python: $PY cannot import numpy"
  exit 77
fi
FEDGLIOMA=${1:?usage: model_pt_python_test.sh PATH/TO/fedglioma}
[[ -x "$FEDGLIOMA" ]] || { echo "FAIL: $FEDGLIOMA is not an executable" >&2; exit 1; }
LOAD="$(cd "$(dirname "$0")/../../scripts" && pwd)/load_model_pt.py"
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

tiny_config

# check_run NAME [--set ...]: runs the tiny config into $TMP/NAME, loads its model.pt and checks it.
check_run() {
  local name=$1 run="$TMP/$1"
  shift
  "$FEDGLIOMA" run "$TMP/tiny.json" --out "$run" "$@" >"$TMP/$name.log" 2>&1 || fail "run $name: $(cat "$TMP/$name.log")"
  "$PY" "$LOAD" "$run/model.pt" --json "$TMP/$name.json" >"$TMP/$name.txt" 2>"$TMP/$name.err" ||
    fail "load_model_pt.py on $name: $(cat "$TMP/$name.err")"
  "$PY" - "$run" "$TMP/$name.json" "$TMP/$name.txt" "$TMP/$name.log" <<'EOF' || fail "$name: the checks above"
import hashlib, json, pickletools, re, struct, sys, zipfile
import numpy as np

run, json_path, text_path, log_path = sys.argv[1:]
state = json.load(open(json_path))
config = json.load(open(f"{run}/config.resolved.json"))["model"]
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)

# The pickle's globals: only ones in torch.load's weights_only allowlist (no restore_type_tag).
with zipfile.ZipFile(f"{run}/model.pt") as archive:
    pkl = archive.read("archive/data.pkl")
found = {arg.replace(" ", ".") for op, arg, _ in pickletools.genops(pkl) if op.name == "GLOBAL"}
allowed = {"torch._utils._rebuild_tensor_v2", "torch.FloatStorage", "collections.OrderedDict"}
check(found <= allowed and "torch._utils._rebuild_tensor_v2" in found, f"pickle globals {sorted(found)}")

# One printed line per tensor, in the JSON's (the file's) order.
printed = [line.split()[0] for line in open(text_path)]
check(printed == list(state), f"printed names {printed[:3]}... differ from the JSON's")

# Names and shapes the model gives.
names = list(state)
for prefix in ("encoder.", "decoder.", "upsample.", "marker_head."):
    check(any(n.startswith(prefix) for n in names), f"no tensor named {prefix}*")
for n in ("mask_head.weight", "mask_head.bias"):
    check(n in state, f"no tensor {n}")
c = config["base_channels"]
check(state.get("mask_head.weight", {}).get("shape") == [1, c, 1, 1, 1], f"mask_head.weight is not [1, {c}, 1, 1, 1]")
check(state.get("mask_head.bias", {}).get("shape") == [1], "mask_head.bias is not [1]")
for n, e in state.items():
    check(e["dtype"] == "float32", f"{n}: dtype {e['dtype']}")
    check(e["finite"] and e["sum"] is not None, f"{n}: values not finite")
    if n.endswith(".weight"):  # linear layers 2-D, norms 1-D, 3-D convolutions 5-D
        rank = (2,) if n.startswith("marker_head.") else (1, 5)
        check(len(e["shape"]) in rank, f"{n}: weight of shape {e['shape']}")
    check(all(d > 0 for d in e["shape"]), f"{n}: empty shape {e['shape']}")
if config["norm"] == "batch":
    # Floating buffers (running statistics) are exchanged and saved; num_batches_tracked is not.
    check(any(n.endswith(".running_mean") for n in names), "batch norm: no running_mean")
    check(any(n.endswith(".running_var") for n in names), "batch norm: no running_var")
    check(not any(n.endswith(".num_batches_tracked") for n in names), "num_batches_tracked saved")
buffers = {n for n in names if n.endswith((".running_mean", ".running_var"))}

# The parameter count printed at run start (to 0.001 M: a coarse check), without the buffers.
numel = {n: int(np.prod(e["shape"])) for n, e in state.items()}
parameters = sum(v for n, v in numel.items() if n not in buffers)
match = re.search(r"model: ([0-9.]+) M parameters", open(log_path).read())
check(match is not None, "the run printed no parameter count")
if match:
    check(f"{parameters / 1e6:.3f}" == match.group(1), f"{parameters} parameters, the run printed {match.group(1)} M")

# Exact cross-check: the last checkpoint (written after the last round, core/state_bundle.cpp:
# magic, records 'b' name float32[] / 'i' / 't', checksum) holds the flat global model that
# save_state_dict laid out as these tensors, in this order.
raw = open(f"{run}/checkpoints/latest.state", "rb").read()
assert raw[:8] == b"FGSTATE1"
pos, end, flat = 8, len(raw) - 8, None
def take(fmt):
    global pos
    (value,) = struct.unpack_from(fmt, raw, pos)
    pos += struct.calcsize(fmt)
    return value
while pos < end:
    kind = raw[pos:pos + 1]; pos += 1
    length = take("<Q")
    key = raw[pos:pos + length].decode(); pos += length
    if kind == b"b":
        n = take("<Q")
        if key == "global":
            flat = np.frombuffer(raw, dtype="<f4", count=n, offset=pos)
        pos += 4 * n
    elif kind == b"i":
        pos += 8
    else:  # a text; take() moves pos, so read the length before adding it
        length = take("<Q")
        pos += length
check(flat is not None, "the checkpoint has no global buffer")
if flat is not None:
    check(flat.size == sum(numel.values()), f"checkpoint holds {flat.size} values, model.pt {sum(numel.values())}")
    offset = 0
    for n, e in state.items():
        part = flat[offset:offset + numel[n]]
        offset += numel[n]
        check(hashlib.sha256(part.tobytes()).hexdigest() == e["sha256"], f"{n}: bytes differ from the checkpoint's")
        if e["sum"] is not None:
            total = float(part.sum(dtype=np.float64))
            check(abs(total - e["sum"]) <= 1e-9 * max(1.0, abs(e["sum"])), f"{n}: sum {e['sum']}, checkpoint {total}")

for p in problems:
    print(f"  {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
  echo "ok: $name: $(tail -n 1 "$TMP/$name.err")"
}

check_run instance
check_run batch --set model.norm=batch

# Damaged copies and a pickle that would run a command: exit 1, the file named, nothing run.
MODEL="$TMP/instance/model.pt"
size=$(stat -c %s "$MODEL")
head -c $((size / 2)) "$MODEL" >"$TMP/truncated.pt"
expect_error "truncated file" "$TMP/truncated.pt: not a readable zip archive" "$PY" "$LOAD" --reader format "$TMP/truncated.pt"
head -c $((size - 1)) "$MODEL" >"$TMP/short.pt"
expect_error "last byte cut" "$TMP/short.pt: not a readable zip archive" "$PY" "$LOAD" --reader format "$TMP/short.pt"
cp "$MODEL" "$TMP/flipped.pt"
printf '\xff' | dd of="$TMP/flipped.pt" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_error "flipped byte" "$TMP/flipped.pt: record archive/data/0 is damaged" "$PY" "$LOAD" --reader format "$TMP/flipped.pt"
echo "not a model" >"$TMP/text.pt"
expect_error "not a zip" "$TMP/text.pt: not a zip archive" "$PY" "$LOAD" --reader format "$TMP/text.pt"
expect_error "missing file" "$TMP/none.pt: cannot read" "$PY" "$LOAD" --reader format "$TMP/none.pt"
"$PY" - "$MODEL" "$TMP/evil.pt" "$TMP/ran" <<'EOF'
import sys, zipfile
src, dst, marker = sys.argv[1:]
command = f"touch {marker}".encode()
evil = b"\x80\x02cposix\nsystem\nX" + len(command).to_bytes(4, "little") + command + b"\x85R."
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
    for info in zin.infolist():
        zout.writestr(info.filename, evil if info.filename.endswith("/data.pkl") else zin.read(info.filename))
EOF
expect_error "disallowed global" "$TMP/evil.pt: the pickle names global posix.system" "$PY" "$LOAD" --reader format "$TMP/evil.pt"
[[ ! -e "$TMP/ran" ]] || fail "the disallowed global ran"
# torch::pickle_save's type tag around the dictionary, refused by torch.load(weights_only=True).
"$PY" - "$MODEL" "$TMP/tagged.pt" <<'EOF'
import sys, zipfile
src, dst = sys.argv[1:]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename.endswith("/data.pkl"):
            assert data[:2] == b"\x80\x02" and data[-1:] == b"."
            tag = b"Dict[str, Tensor]"
            data = (b"\x80\x02ctorch.jit._pickle\nrestore_type_tag\n" + data[2:-1] + b"X" +
                    len(tag).to_bytes(4, "little") + tag + b"\x86R.")
        zout.writestr(info.filename, data)
EOF
expect_error "restore_type_tag" "$TMP/tagged.pt: the pickle names global torch.jit._pickle.restore_type_tag" \
  "$PY" "$LOAD" --reader format "$TMP/tagged.pt"

echo "PASS"
