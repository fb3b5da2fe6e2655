# strata: `make` builds build/strata; `make check` runs every suite; `make demo` shows it working.
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps check demo install clean format format-check bench stress

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	ln -sf src/cli/strata $(BUILD)/strata

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

deps:
	scripts/deps.sh

check: deps
	$(MAKE) all
	COUNTS=$(COUNTS) scripts/check.sh $(BUILD)

demo: deps
	$(MAKE) all
	scripts/demo.sh $(BUILD)/strata

install: all
	meson install -C $(BUILD)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) build-asan build-fuzz

# the benchmark suite (issue 8): peers, strata, every workload; not part of `make check`
bench: all
	bench/run.sh

# faults, concurrency and fuzzing at length (issue 7; docs/security-faults.md): the kill driver
# (STRESS_ROUNDS per operation), the concurrency test (STRESS_CONC_ROUNDS) and a libFuzzer
# campaign of STRESS_FUZZ_SECONDS (1800) per target; not part of `make check`
stress: all
	scripts/stress.sh $(BUILD)
