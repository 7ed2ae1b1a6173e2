# Sourced by the README's commands and .ci/run: makes a build environment that works on a
# fresh Debian machine. Installs libclang-dev (RocksDB's bindgen needs it) when missing,
# links the prebuilt RocksDB from ../shared/prebuilt when that folder exists (otherwise compiles
# RocksDB once into ~/.cache/rango-rocksdb), and keeps the cargo target directory in a cache
# outside the clone so that later builds are warm.
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
if [ -z "${ROCKSDB_LIB_DIR:-}" ]; then
  # No prebuilt copy: compile RocksDB's C++ once, with release settings, into the cache and
  # link that library in every later build. Without this, `cargo build` and `cargo clippy`
  # (check mode) resolve librocksdb-sys's build script as different units and would each
  # compile RocksDB, and so would debug and release builds.
  _rango_rocksdb_version=$(awk '/^name = "librocksdb-sys"$/ { getline; gsub(/"/, "", $3); print $3 }' "$_rango_root/Cargo.lock")
  _rango_rocksdb_dest=${XDG_CACHE_HOME:-$HOME/.cache}/rango-rocksdb/$_rango_rocksdb_version-lz4-zstd
  if [ ! -f "$_rango_rocksdb_dest/librocksdb.a" ]; then
    echo "rango: compiling RocksDB $_rango_rocksdb_version from source once (15-25 minutes on 2 cores);" \
      "later builds link it from $_rango_rocksdb_dest" >&2
    mkdir -p "$_rango_rocksdb_dest"
    # Without debug info: the library is linked into every build, and -g makes it ~1.5 GB.
    _rango_rocksdb_out=$(cd "$_rango_root" && CARGO_TARGET_DIR="$_rango_rocksdb_dest/target$$" CARGO_PROFILE_RELEASE_DEBUG=false \
      cargo build --release --locked -p storage --message-format=json-render-diagnostics \
      | grep -o '"out_dir":"[^"]*/librocksdb-sys-[^"]*"' | tail -n 1 | cut -d'"' -f4 || true)
    if [ -z "$_rango_rocksdb_out" ] || [ ! -f "$_rango_rocksdb_out/librocksdb.a" ]; then
      echo "rango: building RocksDB failed (see cargo's errors above); fix that and run again" >&2
      return 1 2>/dev/null || exit 1
    fi
    cp "$_rango_rocksdb_out/librocksdb.a" "$_rango_rocksdb_dest/librocksdb.a.part$$"
    mv "$_rango_rocksdb_dest/librocksdb.a.part$$" "$_rango_rocksdb_dest/librocksdb.a"
    rm -rf "$_rango_rocksdb_dest/target$$"
  fi
  export ROCKSDB_LIB_DIR=$_rango_rocksdb_dest ROCKSDB_STATIC=1
fi
unset _rango_root _sudo _rango_rocksdb_version _rango_rocksdb_dest _rango_rocksdb_out
