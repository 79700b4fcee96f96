# The two commands of the README, and the steps they are made of.
#   make run    set up, build the `dstrain` executable only, and train the
#               example job on 4 local CPU ranks
#   make test   set up, build everything (tests, benchmarks), run every test
BUILD ?= build
JOBS ?= 2
JOB ?= configs/examples/charlm.yaml

# ccache outside the repository, like the Python environment, so a fresh
# clone on the same machine rebuilds from cache.
export CCACHE_DIR ?= $(HOME)/.cache/dstrain/ccache
export CCACHE_BASEDIR ?= $(CURDIR)
# Debug info names the build folder; ignore it so every clone shares hits.
export CCACHE_NOHASHDIR ?= 1
export CCACHE_SLOPPINESS ?= pch_defines,time_macros,include_file_mtime,include_file_ctime

.PHONY: all bootstrap configure build dstrain run test clean

all: build

bootstrap:
	@./deploy/bootstrap.sh

$(BUILD)/build.ninja: | bootstrap
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

configure: bootstrap $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Only what `make run` runs: the executable and the libraries it links.
dstrain: configure
	cmake --build $(BUILD) -j $(JOBS) --target dstrain

run: dstrain
	$(BUILD)/bin/dstrain launch $(JOB)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
