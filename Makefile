# Thin wrapper: set-up, CMake, CTest. See README.md.
BUILD ?= build
JOBS ?= 2
CONFIG_DIR ?= examples/mesh
FUZZ_SECONDS ?= 600
# Let ccache share objects between checkouts of the project (paths are relative to here).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
# The xDS proto library compiles with a precompiled header; these let ccache cache it anyway.
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime

.PHONY: setup build run test fuzz bench clean image

setup:
	@.ci/setup

build: setup
	@mkdir -p $(BUILD) && cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo > $(BUILD)/cmake.log 2>&1 || \
	  (cat $(BUILD)/cmake.log; exit 1)
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/controller/meshd --configDir $(CONFIG_DIR)

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 600

# The container image (deploy/Dockerfile) from this build's binaries; without a container
# engine it prepares the context in $(BUILD)/image and says why it stops there.
image: build
	BUILD=$(BUILD) deploy/image/build-image.sh

# The CA's libFuzzer targets for FUZZ_SECONDS in all (clang build in $(BUILD)/fuzz).
fuzz: setup
	JOBS=$(JOBS) tests/fuzz/run_fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

bench: build
	@echo "see bench/README.md"

clean:
	rm -rf $(BUILD)
