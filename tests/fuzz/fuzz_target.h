// fuzz_target.h — the libFuzzer side of a fuzz target: run one entry point of fuzz_entry.h and
// turn an escaping exception into a crash the fuzzer records (with the input saved as
// crash-<sha1>), after printing what happened.
//
// The message goes through the sanitizer's report channel, not stderr: `make fuzz` runs the
// targets with -close_fd_mask=3 (the CLI target prints an error line for nearly every input),
// and libFuzzer then keeps only its own output and the sanitizer reports.
#pragma once
#include <sanitizer/common_interface_defs.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

#include "fuzz_entry.h"

namespace glulab::fuzz {

[[noreturn]] inline void report_and_abort(const std::string& what) {
    __sanitizer_report_error_summary(("glulab fuzz: " + what).c_str());
    std::abort();
}

template <class F>
int guarded(F&& entry) {
    try {
        entry();
    } catch (const FuzzFinding& e) {
        report_and_abort(std::string("finding: ") + e.what());
    } catch (const std::exception& e) {
        report_and_abort(std::string("unexpected exception (") + typeid(e).name() + "): " + e.what());
    } catch (...) {
        report_and_abort("unexpected exception of a non-standard type");
    }
    return 0;  // libFuzzer reserves other return values
}

}  // namespace glulab::fuzz
