#!/usr/bin/env bash
# Checks a run's TensorBoard event files (RUN_DIR/tensorboard/, sim/record/tensorboard.h) with
# scripts/read_tensorboard.py, a reader that shares nothing with the writer (google.protobuf with
# the schema declared at run time, a CRC-32C of its own): a tiny run of the fedglioma binary given
# as $1, killed with SIGKILL after its first round and resumed, must leave one events file in which
# every tag of every round appears once, with the value rounds.jsonl gives (the tags computed here
# from the lines, as sim/record/tensorboard.h documents them; equal to float32 precision), and
# selection/selected_round on evaluated rounds, the last one summary.json's selected round. Damaged
# copies must fail cleanly (exit 1, the file named, no traceback). Exits 77 (skipped) when
# /usr/bin/python3 lacks google.protobuf.
set -euo pipefail

PY=/usr/bin/python3
if ! "$PY" -c 'import google.protobuf' 2>/dev/null; then
  echo "fedglioma-test-skip: tensorboard_python: $PY cannot import google.protobuf (Debian: python3-protobuf)"
  exit 77
fi
FEDGLIOMA=${1:?usage: tensorboard_python_test.sh PATH/TO/fedglioma}
[[ -x "$FEDGLIOMA" ]] || { echo "FAIL: $FEDGLIOMA is not an executable" >&2; exit 1; }
READ="$(cd "$(dirname "$0")/../../scripts" && pwd)/read_tensorboard.py"
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

# Three rounds, evaluated in rounds 2 and 3 (eval.every; the last round always), with fine-tuned
# models of the sites' own (personal/ and fairness/personal/ tags), a checkpoint every round.
tiny_config '{"rounds": 3}' '{"every": 2, "finetune_epochs": 1}' '"checkpoint_every": 1, "tensorboard": true'

# Start the run, wait for its first round's line and checkpoint, kill it without warning, resume.
RUN="$TMP/run"
"$FEDGLIOMA" run "$TMP/tiny.json" --out "$RUN" >"$TMP/run.log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  if [[ -s "$RUN/rounds.jsonl" && -e "$RUN/checkpoints/latest.state" ]]; then break; fi
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[[ -s "$RUN/rounds.jsonl" ]] || fail "the run logged no round: $(cat "$TMP/run.log")"
if [[ -e "$RUN/summary.json" ]]; then
  echo "note: the run finished before it could be killed; its resume is not exercised"
else
  "$FEDGLIOMA" run --resume "$RUN" >"$TMP/resume.log" 2>&1 || fail "resume: $(cat "$TMP/resume.log")"
  grep -q "resuming after round" "$TMP/resume.log" || fail "resume did not resume: $(cat "$TMP/resume.log")"
fi
[[ -d "$RUN/tensorboard" ]] || fail "the run wrote no tensorboard/ folder"

"$PY" "$READ" "$RUN/tensorboard" --json >"$TMP/scalars.json" 2>"$TMP/read.err" ||
  fail "read_tensorboard.py --json: $(cat "$TMP/read.err")"
"$PY" "$READ" "$RUN/tensorboard" >"$TMP/scalars.tsv" 2>"$TMP/read.err" ||
  fail "read_tensorboard.py: $(cat "$TMP/read.err")"
"$PY" - "$RUN" "$READ" "$TMP/scalars.json" "$TMP/scalars.tsv" <<'EOF' || fail "the checks above"
import importlib.util, json, math, os, struct, sys

run, reader_path, json_path, tsv_path = sys.argv[1:]
MARKERS = ("idh", "codeletion_1p19q", "mgmt", "grade")
SELECTED = "selection/selected_round"
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)

# The reader's CRC-32C against published check values (RFC 3720 B.4, the Rocksoft catalogue).
spec = importlib.util.spec_from_file_location("read_tensorboard", reader_path)
reader = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reader)
check(reader.crc32c(b"123456789") == 0xE3069283, "crc32c('123456789')")
check(reader.crc32c(bytes(32)) == 0x8A9136AA and reader.crc32c(bytes(range(32))) == 0x46DD794E, "crc32c of 32 bytes")

# One events file: a resumed run rewrites the earlier processes' rounds into a fresh one.
files = [n for n in os.listdir(f"{run}/tensorboard") if n.startswith("events.out.tfevents.")]
check(len(files) == 1, f"{len(files)} events files: {files}")

def spread(values):
    """Worst and sample standard deviation of the defined values, as sim/eval/fairness.h."""
    defined = [v for v in values if v is not None]
    if not defined:
        return None, None
    if len(defined) < 2:
        return min(defined), None
    mean = sum(defined) / len(defined)
    return min(defined), math.sqrt(sum((v - mean) ** 2 for v in defined) / (len(defined) - 1))

def tags(r):
    """The (tag, value) pairs sim/record/tensorboard.h documents, from a rounds.jsonl line."""
    out = []
    def add(tag, value):
        if value is not None:
            out.append((tag, value))
    losses = [c["train_loss"] for c in r["clients"] if c["train_loss"] is not None]
    add("train/loss_mean", sum(losses) / len(losses) if losses else None)
    for c in r["clients"]:
        add(f"train/loss/{c['id']}", c["train_loss"])
    add("time/round_seconds", r["seconds"])
    add("time/simulated_seconds", r.get("simulated_seconds"))
    add("time/clock_seconds", r.get("clock_seconds"))
    p = r.get("privacy")
    if p:
        add("privacy/epsilon", p["epsilon"])
        add("privacy/clip_norm", p["clip_norm"])
    e = r.get("eval")
    if not e:
        return out
    for name in ("external", "val", "test"):
        if name in e:
            add(f"{name}/dice_mean", e[name]["dice_mean"])
            add(f"{name}/dice_median", e[name]["dice_median"])
            for m in MARKERS:
                add(f"{name}/auc/{m}", e[name]["auc"][m])
    for site, s in e["sites"].items():
        add(f"sites/{site}/dice_mean", s["dice_mean"])
        for m in MARKERS:
            add(f"sites/{site}/auc/{m}", s["auc"][m])
    personal = e.get("personal", {})
    for client, own in personal.items():
        add(f"personal/{client}/val/dice_mean", own["val"]["dice_mean"])
        add(f"personal/{client}/external/dice_mean", own["external"]["dice_mean"])
    groups = [("sites", [s["dice_mean"] for s in e["sites"].values()])]
    if personal:
        groups.append(("personal", [own["val"]["dice_mean"] for own in personal.values()]))
    for group, values in groups:
        worst, sd = spread(values)
        add(f"fairness/{group}/dice_worst", worst)
        add(f"fairness/{group}/dice_sd", sd)
    return out

rounds = [json.loads(line) for line in open(f"{run}/rounds.jsonl")]
expected = {(r["round"], tag): value for r in rounds for tag, value in tags(r)}
evaluated = sorted(r["round"] for r in rounds if r.get("eval"))
check(len(evaluated) == 2, f"evaluated rounds {evaluated}, expected 2 of 3")
check(any(tag.startswith("personal/") for _, tag in expected), "no personal/ tag expected: fine-tuning off?")

scalars = json.load(open(json_path))
got = {}
for s in scalars:
    key = (s["step"], s["tag"])
    check(key not in got, f"step {key[0]} of {key[1]} written twice")
    got[key] = s["value"]
    check(s["wall_time"] > 1e9, f"{key}: wall time {s['wall_time']}")

def float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]

for key, want in sorted(expected.items()):
    if key not in got:
        problems.append(f"step {key[0]} {key[1]}: missing (rounds.jsonl: {want})")
    elif not math.isclose(got[key], float32(want), rel_tol=2 ** -22, abs_tol=1e-38):
        problems.append(f"step {key[0]} {key[1]}: {got[key]!r}, rounds.jsonl {want!r}")
for key in sorted(got):
    if key not in expected and key[1] != SELECTED:
        problems.append(f"step {key[0]} {key[1]}: not a documented tag of that round")

# The selected round: on evaluated rounds only, an evaluated round so far; the last is summary.json's
# (the tiny run's validation cases have masks, so every evaluated round has a score).
selected = {step: value for (step, tag), value in got.items() if tag == SELECTED}
for step, value in selected.items():
    check(step in evaluated and value in evaluated and value <= step, f"step {step}: selected round {value}")
final = json.load(open(f"{run}/summary.json")).get("selected")
if isinstance(final, dict) and final.get("score") is not None:  # else no round has a score yet
    last = evaluated[-1]
    check(last in selected, f"no {SELECTED} at the last evaluated round")
    check(selected.get(last) == final["round"], f"selected round {selected.get(last)}, summary.json {final['round']}")
else:
    problems.append(f"summary.json selected no round by its score: {final}")

# The text output: the same scalars, step<TAB>tag<TAB>value.
lines = [line.rstrip("\n").split("\t") for line in open(tsv_path)]
check(len(lines) == len(scalars), f"{len(lines)} text lines, {len(scalars)} JSON scalars")
for fields, s in zip(lines, scalars):
    check(len(fields) == 3 and int(fields[0]) == s["step"] and fields[1] == s["tag"] and float32(float(fields[2])) == s["value"],
          f"text line {fields} differs from {s}")

for p in problems:
    print(f"  {p}", file=sys.stderr)
if not problems:
    print(f"ok: {len(got)} scalars over {len(rounds)} rounds agree with rounds.jsonl")
sys.exit(1 if problems else 0)
EOF

# Damaged copies: one byte changed, the last byte cut.
EVENTS=$(find "$RUN/tensorboard" -maxdepth 1 -name 'events.out.tfevents.*' | head -n 1)
size=$(stat -c %s "$EVENTS")
mkdir "$TMP/damaged"
cp "$EVENTS" "$TMP/damaged/flipped.tfevents"
"$PY" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 0xFF; open(sys.argv[1], "wb").write(b)' \
  "$TMP/damaged/flipped.tfevents"
cmp -s "$EVENTS" "$TMP/damaged/flipped.tfevents" && fail "the damaged copy equals the original"
expect_error "one byte changed" "$TMP/damaged/flipped.tfevents: record" "$PY" "$READ" "$TMP/damaged/flipped.tfevents"
grep -qF "CRC-32C mismatch (the file is damaged)" "$TMP/err" || fail "one byte changed: $(cat "$TMP/err")"
expect_error "a damaged file in a folder" "CRC-32C mismatch" "$PY" "$READ" "$TMP/damaged"
head -c $((size - 1)) "$EVENTS" >"$TMP/short.tfevents"
expect_error "last byte cut" "$TMP/short.tfevents: record" "$PY" "$READ" "$TMP/short.tfevents"
grep -qF "truncated" "$TMP/err" || fail "last byte cut: $(cat "$TMP/err")"
expect_error "no events" "no event files" "$PY" "$READ" "$TMP/cohort"

echo "PASS"
