#!/usr/bin/env bash
# Fails if a file in runtime/ includes a runtime/ header of a higher layer, naming the file
# and the include. The layers, lowest first; a folder may include itself and lower layers
# (anyone may include include/weft/...):
#   0  park, task       futex parking; frame lifetime, cancellation, the waker interface
#   1  time             clocks, the timing wheel, timer drivers, sleep
#   2  io, sync, blocking
#   3  scheduler        runtime, workers, queues, parking of workers
# io sits above time because the reactor's poll deadlines are on time's clock. A lower layer
# reaches the running runtime through functions it declares and scheduler/ defines
# (scheduler/layer_hooks.cpp), never through a scheduler header.
# Usage: scripts/check_layers.sh [RUNTIME_DIR]   (default: runtime/ of this repository)
set -euo pipefail
root="${1:-$(dirname "$0")/../runtime}"

layer_of() {
    case "$1" in
    park | task) echo 0 ;;
    time) echo 1 ;;
    io | sync | blocking) echo 2 ;;
    scheduler) echo 3 ;;
    *) echo unknown ;;
    esac
}

status=0
while IFS= read -r -d '' file; do
    relative="${file#"$root"/}"
    folder="${relative%%/*}"
    own=$(layer_of "$folder")
    if [[ $own == unknown ]]; then
        echo "check_layers: $relative: folder '$folder' has no layer (add it to $0)" >&2
        status=1
        continue
    fi
    while IFS= read -r line; do
        included="${line#*\"}"
        included="${included%%\"*}"
        target_folder="${included%%/*}"
        [[ $target_folder == "$folder" ]] && continue
        target=$(layer_of "$target_folder")
        if [[ $target == unknown || $target -ge $own ]]; then
            echo "check_layers: $relative includes \"$included\" ($folder/ may include" \
                "only itself and lower layers)" >&2
            status=1
        fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
done < <(find "$root" -mindepth 2 -type f \( -name '*.hpp' -o -name '*.cpp' \) -print0)
exit "$status"
