# Sourced by the README's commands and .ci/run: makes a build environment that works on a
# fresh Debian machine. Installs libclang-dev (RocksDB's bindgen needs it) when missing,
# links the prebuilt RocksDB from ../shared/prebuilt when that folder exists, and keeps the
# cargo target directory in a cache outside the clone so that later builds are warm.
_rango_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 && ! ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; then
  echo "rango: installing libclang-dev and zstd (needed to build RocksDB's bindings)..." >&2
  _sudo=; [ "$(id -u)" = 0 ] || _sudo=sudo
  $_sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $_sudo apt-get install -y -qq libclang-dev zstd >/dev/null
fi
if [ -f "$_rango_root/../shared/prebuilt/rocksdb-env.sh" ]; then
  # shellcheck disable=SC1091
  . "$_rango_root/../shared/prebuilt/rocksdb-env.sh"
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rango-target}
unset _rango_root _sudo
