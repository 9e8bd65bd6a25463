#!/usr/bin/env bash
# Packs what the GPU benchmark needs on an air-gapped GPU machine, which has no Node.js and no network: a stripped
# Node binary, the benchmark bundled into one file with onnxruntime-node's JS, onnxruntime's Linux x64 addon, and
# the Vulkan loader packages WebGPU needs on an NVIDIA machine. Run it on a development machine, in the
# repository root, after `npm ci`:
#   bash bench/gpu/pack.sh            -> .device/ (git-ignored)
# then copy the working tree with .device/ to the GPU machine and run there, in its root:
#   bash bench/gpu/device.sh
# For transfers limited to 64 MiB it checks the size of .device/ with the tracked tree, and with only the tracked
# paths the job reads where the whole tree is larger (it names those paths then).
set -euo pipefail
cd "$(dirname "$0")/../.."

DEST=.device
LIMIT=$((64 * 1024 * 1024))
rm -rf "$DEST"
ORT="$DEST/node_modules/onnxruntime-node"
mkdir -p "$DEST/dist" "$ORT/bin/napi-v6/linux/x64" "$DEST/node_modules/onnxruntime-common" "$DEST/debs"

# The benchmark and its imports in one file, except onnxruntime-node, which loads its addon by a path computed at
# run time (bin/napi-v6/<platform>/<arch>/ beside its dist/): its JS and onnxruntime-common travel as they are.
npx esbuild bench/providers.ts --bundle --platform=node --target=node20 --format=cjs --log-level=warning \
  --external:onnxruntime-node --outfile="$DEST/dist/providers.js"
cp -r node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist "$ORT/"
cp -r node_modules/onnxruntime-common/package.json node_modules/onnxruntime-common/dist "$DEST/node_modules/onnxruntime-common/"
ADDON=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
cp "$ADDON/onnxruntime_binding.node" "$ORT/bin/napi-v6/linux/x64/"
xz -T0 -6 -c "$ADDON/libonnxruntime.so.1" >"$ORT/bin/napi-v6/linux/x64/libonnxruntime.so.1.xz"

# Debian's node carries its debug info (99 MB); stripped and compressed it is about 22 MB.
strip -o "$DEST/node" "$(readlink -f "$(command -v node)")"
xz -f -T0 -6 "$DEST/node"

# The device README's recipe: the Vulkan loader for amd64 from this machine's apt sources.
lists=$(mktemp -d)
mkdir -p "$lists/partial"
apt_amd64=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt_amd64[@]}" update -qq
(cd "$DEST/debs" && apt-get "${apt_amd64[@]}" download -qq libvulkan1)
rm -rf "$lists"

# What travels is the tracked tree as it stands plus .device/. The job itself reads only these tracked paths;
# when the whole tree is over the limit, the copy can leave the rest behind (the largest are listed).
NEEDED=(bench/gpu prompt_lens_py models/tiny-shapes/model_index.json models/tiny-shapes/prompt_lens.json
  models/tiny-shapes/scheduler models/tiny-shapes/text_encoder models/tiny-shapes/tokenizer models/tiny-shapes/unet
  test/fixtures/sd-tiny)
size_of() { git ls-files -z -- "$@" | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1; }
mib() { echo "$1 / 1048576" | bc -l | xargs printf '%.1f'; }
tree=$(size_of .)
needed=$(size_of "${NEEDED[@]}")
packed=$(du -sb "$DEST" | cut -f1)
total=$((tree + packed))
printf 'packed %s: %s MiB; tracked tree %s MiB (the job reads %s MiB of it); together %s MiB of the 64 MiB that can travel\n' \
  "$DEST" "$(mib "$packed")" "$(mib "$tree")" "$(mib "$needed")" "$(mib "$total")"
if [ "$total" -gt "$LIMIT" ]; then
  if [ $((needed + packed)) -gt "$LIMIT" ]; then
    echo "too large to travel even with only what the job reads: $((needed + packed)) bytes > $LIMIT" >&2
    exit 1
  fi
  echo "the whole tree is too large to travel ($total bytes > $LIMIT); copy .device/ with only what the job reads" \
    "(the other tracked files may stay behind for the copy):" >&2
  echo "  ${NEEDED[*]}" >&2
fi
