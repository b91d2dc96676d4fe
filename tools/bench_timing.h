// tools/bench_timing.h — what the `minidl bench` subcommands share: the timing method and the predict subcommand.
//
// Every bench subcommand times the same way: warm-up calls until a time has
// passed (at least one call), then the median of a number of timed calls.
// cmd_bench.cpp registers `bench` and its conv2d subcommand; cmd_bench_predict.cpp
// adds `bench predict` through add_bench_predict_subcommand.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>

namespace minidl::cli {

// The default warm-up: on the shared 2-vCPU machines the first ~100 ms of work
// after an idle spell runs up to 2x slower.
inline constexpr double kBenchWarmupMs = 250;

// Warm-up calls of `run` for at least `warmup_ms` (at least one, at most 1000),
// then the median (the upper one for an even count) of `repeat` timed calls;
// `run` returns the milliseconds it measured.
double bench_median_ms(int repeat, const std::function<double()>& run, double warmup_ms = kBenchWarmupMs);

// Milliseconds since t0.
double bench_elapsed_ms(std::chrono::steady_clock::time_point t0);

// Adds `predict` to the `bench` subcommand; returns the action that runs it.
std::function<void()> add_bench_predict_subcommand(CLI::App& bench);

}  // namespace minidl::cli
