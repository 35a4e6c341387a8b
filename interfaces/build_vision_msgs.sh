#!/usr/bin/env bash
# Build interfaces/vision_msgs with the ament_cmake/rosidl wheels and install it into a venv.
# Usage: interfaces/build_vision_msgs.sh VENV BUILD_DIR
set -euo pipefail
venv=$(cd "$1" && pwd)
mkdir -p "$2"
build=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
py="$venv/bin/python"

# The wheels' exported targets name the manylinux build container's Python include
# directories; wheel_python_includes.cmake repoints them at this interpreter's real ones.
py_include=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_include=$("$py" -c 'import numpy; print(numpy.get_include())')

export AMENT_PREFIX_PATH="$venv" CMAKE_PREFIX_PATH="$venv" PATH="$venv/bin:$PATH"
cmake -S "$here/vision_msgs" -B "$build" \
  -DCMAKE_INSTALL_PREFIX="$venv" \
  -DCMAKE_PROJECT_INCLUDE="$here/cmake/wheel_python_includes.cmake" \
  -DVIL_PYTHON_INCLUDE_DIR="$py_include" \
  -DVIL_NUMPY_INCLUDE_DIR="$np_include" \
  -DPython3_EXECUTABLE="$py" \
  -DBUILD_TESTING=OFF > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log"; echo "vision_msgs: cmake configure failed" >&2; exit 1; }
cmake --build "$build" --target install -- -j"$(nproc)" > "$build/build.log" 2>&1 \
  || { tail -50 "$build/build.log"; echo "vision_msgs: build failed" >&2; exit 1; }
"$py" -c 'import vision_msgs.msg' || { echo "vision_msgs: built but not importable" >&2; exit 1; }
echo "vision_msgs: installed into $venv"
