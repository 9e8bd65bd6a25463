#!/usr/bin/env bash
# The GPU benchmark on an air-gapped GPU machine (an NVIDIA GPU, no Node.js, no network), from what
# bench/gpu/pack.sh packed into .device/. Copy the repository's working tree with .device/ beside it to that
# machine and, in its root, run
#   bash bench/gpu/device.sh
# It unpacks Node and onnxruntime into $PL_WORK, installs the Vulkan loader if the machine lacks it, points Vulkan
# at the NVIDIA driver, names the card, builds a Stable Diffusion 1.5-sized export with the machine's PyTorch (4 GB:
# too big to carry), and runs bench/providers.ts (WebGPU and CPU in one run) on it and the committed models.
# The log goes to $OUT/providers.txt ($OUT defaults to $PL_WORK/out). Settings (environment):
#   PL_FULL_SIZE=0        skip the SD 1.5-sized export (default 1)
#   PL_EXPORT_TIMEOUT=s   give up the export after s seconds (default 420)
#   PL_STEPS=n            DDIM steps per timing (default 10)
#   PL_PROVIDER=p         webgpu (default), cuda or auto
#   PL_PYTHON=path        the Python with PyTorch for the export (default python3)
set -uo pipefail
cd "$(dirname "$0")/../.."

PACK=.device
WORK=${PL_WORK:-/tmp/prompt-lens-device}
OUT=${OUT:-$WORK/out}
say() { echo "[device] $*"; }
# Python's lzma, not xz: the machine's image has Python for certain, xz-utils perhaps not.
unxz_to() { python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; }

if [ ! -f "$PACK/node.xz" ]; then
  echo "no $PACK/node.xz: run 'bash bench/gpu/pack.sh' on the development machine and carry .device" >&2
  exit 2
fi
rm -rf "$WORK"
mkdir -p "$WORK" "$OUT"
cp -r "$PACK/dist" "$PACK/node_modules" "$WORK/"
unxz_to "$PACK/node.xz" "$WORK/node" && chmod +x "$WORK/node"
addon=$WORK/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
unxz_to "$addon/libonnxruntime.so.1.xz" "$addon/libonnxruntime.so.1" && rm "$addon/libonnxruntime.so.1.xz"
say "node $("$WORK/node" --version)"

# WebGPU (Dawn) reaches an NVIDIA GPU through Vulkan: the loader, then the driver's ICD.
# (grep reads all of ldconfig's output: with -q it would stop early, and pipefail would count ldconfig's SIGPIPE.)
if ! ldconfig -p | grep 'libvulkan\.so\.1' >/dev/null; then
  for deb in "$PACK"/debs/*.deb; do dpkg -x "$deb" /; done
  ldconfig
  say "installed the Vulkan loader from $(ls "$PACK"/debs)"
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then
  export VK_DRIVER_FILES=$nvidia_icd
  say "VK_DRIVER_FILES=$nvidia_icd"
fi
if command -v nvidia-smi >/dev/null; then
  say "card: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/card.txt")"
else
  say "card: no nvidia-smi here" | tee "$OUT/card.txt"
fi

models=(models/tiny-shapes test/fixtures/sd-tiny)
if [ "${PL_FULL_SIZE:-1}" = 1 ]; then
  full=$WORK/sd-full
  start=$SECONDS
  if OMP_NUM_THREADS=$(nproc) timeout "${PL_EXPORT_TIMEOUT:-420}" "${PL_PYTHON:-python3}" -m prompt_lens_py.fixtures.sd_fixture \
    --full-size --external-data --no-verify --out "$full" >"$OUT/export.log" 2>&1; then
    say "SD 1.5-sized export in $((SECONDS - start)) s: $(du -sh "$full" | cut -f1)"
    models+=("$full")
  else
    say "the SD 1.5-sized export failed after $((SECONDS - start)) s (benchmarking the committed models only):"
    tail -5 "$OUT/export.log"
  fi
fi

"$WORK/node" "$WORK/dist/providers.js" "${models[@]}" --provider "${PL_PROVIDER:-webgpu}" --steps "${PL_STEPS:-10}" 2>&1 |
  grep --line-buffered -v 'VerifyEachNodeIsAssignedToAnEp' | tee "$OUT/providers.txt"
