#!/usr/bin/env bash
# Runs on a lent GPU machine without Rust what `cargo xtask device-bundle` packed into .device/
# (carried there by the device tool; this script runs in the repository root, results under
# $OUT): the `step` and `ensemble` benchmarks through wgpu/Vulkan, the JAX anchor on that
# machine's JAX, the device tests, then, while time is left, the low-temperature and kernel
# benchmarks and the FFT pair. After each phase the criterion results so far are packed into
# $OUT/criterion.tar.xz, so a run cut short still brings back what it measured. Back here:
# `cargo xtask device-table <files_at>`.
#
# EPM_DEVICE_SECONDS: the time this script may take (default 560; the call's timeout a little
# above it). EPM_DEVICE_QUICK=1: one id of each group, one anchor run, no tests (a dry run of
# the plumbing on any machine).
set -u
bundle=.device
out=${OUT:?set OUT to the folder for the results}
budget=${EPM_DEVICE_SECONDS:-560}
quick=${EPM_DEVICE_QUICK:-0}
start=$(date +%s)
left() { echo $((budget - ($(date +%s) - start))); }
say() { echo "== $(date +%T) ($(left) s left) $*" | tee -a "$out/log.txt"; }
export CRITERION_HOME=/tmp/epm-criterion XDG_RUNTIME_DIR=/tmp/epm-xdg PYTHONUNBUFFERED=1
mkdir -p "$CRITERION_HOME" "$XDG_RUNTIME_DIR" "$bundle/run"
chmod 700 "$XDG_RUNTIME_DIR"

# The Vulkan loader where the machine has none, and NVIDIA's driver file where the loader
# would not find it (the device README's two steps).
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for f in "$bundle"/gl/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
fi

python3 - "$bundle" <<'PY'
import glob, lzma, os, sys
for packed in glob.glob(os.path.join(sys.argv[1], "bin", "*.xz")):
    exe = os.path.join(sys.argv[1], "run", os.path.basename(packed)[:-3])
    with lzma.open(packed) as src, open(exe, "wb") as dst:
        dst.write(src.read())
    os.chmod(exe, 0o755)
PY
bin=$bundle/run

gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
{
  printf '%s, %s logical cores, %s GiB; GPU: %s; %s\n' \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" \
    "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)" "${gpu:-none seen by nvidia-smi}" \
    "$(date +%F)"
} >"$CRITERION_HOME/host.txt"
tee -a "$out/log.txt" <"$CRITERION_HOME/host.txt"
"$bin/epm" info 2>&1 | tee "$out/info.txt"
python3 -c 'import jax; print("jax", jax.__version__, jax.devices())' 2>&1 | tail -1 | tee -a "$out/log.txt"

pack() {
  python3 - "$CRITERION_HOME" "$out/criterion.tar.xz" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[2], "w:xz") as tar:
    tar.add(sys.argv[1], arcname=".")
PY
}

# A criterion executable with a filter, stopped when the time is up.
bench() {
  local exe=$1 filter=$2 limit
  limit=$(left)
  if [ "$limit" -lt 30 ]; then say "skipped $exe $filter: no time left"; return; fi
  say "$exe $filter"
  timeout "$limit" "$bin/$exe" --bench --noplot "$filter" >>"$out/log.txt" 2>&1 || say "$exe stopped ($?)"
}

# The anchor's runs of the table (anchor-runs.txt: file L steps B), on this machine's JAX.
anchor() {
  [ -f "$bundle/jax_epm.py" ] || { say "no JAX anchor in the bundle"; return; }
  local file l steps b line limit
  while read -r file l steps b; do
    limit=$(left)
    if [ "$limit" -lt 20 ]; then say "anchor L = $l, B = $b skipped: no time left"; continue; fi
    line=$(timeout "$((limit < 90 ? limit : 90))" python3 "$bundle/jax_epm.py" "$l" "$steps" 0.1 "$b" </dev/null 2>>"$out/log.txt" | grep '^{' | tail -1)
    say "anchor L = $l, B = $b: ${line:-failed}"
    [ -n "$line" ] && echo "$line" >>"$CRITERION_HOME/$file"
  done
}

if [ "$quick" = 1 ]; then
  bench step '^step/thermal/64$'
  bench ensemble '^ensemble/thermal/64/4$'
  head -1 "$bundle/anchor-runs.txt" | anchor
  grep ' 4$' "$bundle/anchor-runs.txt" | head -1 | anchor
  pack
  say "quick run done"
  exit 0
fi

bench step '^step/thermal/'
bench ensemble '^ensemble/thermal/'
pack
anchor <"$bundle/anchor-runs.txt"
pack
limit=$(left)
if [ "$limit" -gt 30 ]; then
  say "device tests"
  timeout "$limit" "$bin/epm-tests" device_tests >"$out/tests.txt" 2>&1
  say "epm device tests: exit $? ($(grep -E '^test result' "$out/tests.txt" | tail -1))"
fi
limit=$(left)
if [ "$limit" -gt 20 ]; then
  timeout "$limit" "$bin/fft2d-tests" >>"$out/tests.txt" 2>&1
  say "fft2d tests: exit $? ($(grep -E '^test result' "$out/tests.txt" | tail -1))"
fi
pack
bench step '^step/thermal-(lowT|T0|dense|sparse)|^step/thermal\+observers'
pack
bench step '^(step|sparse)-kernels/'
bench fft2d-bench '^fft2d/(ours|copy-pass|copy-pass-lanes)/'
pack
say "done"
