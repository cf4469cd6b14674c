# Thin wrappers over CMake. `make test` and `make run` install missing Debian packages first.
BUILD ?= build
JOBS  ?= $(shell nproc)
WERROR ?= $(if $(VGIC_WERROR),ON,OFF)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test run clean install

all: build

deps:
	@./scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVGIC_WERROR=$(WERROR) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

run: build
	@./$(BUILD)/examples/vgic_example_smp

clean:
	rm -rf $(BUILD)
