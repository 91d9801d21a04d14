// main.cpp — the doctest runner, plus a listener that prints the plain summary line
// "N passed, N failed" that CI reads (doctest's own summary has another format).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {
struct PlainSummary : doctest::IReporter {
    explicit PlainSummary(const doctest::ContextOptions&) {}
    void test_run_end(const doctest::TestRunStats& s) override {
        const unsigned failed = s.numTestCasesFailed;
        std::printf("%u passed, %u failed\n", s.numTestCasesPassingFilters - failed, failed);
        std::fflush(stdout);
    }
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_case_start(const doctest::TestCaseData&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};
}  // namespace

DOCTEST_REGISTER_LISTENER("plain_summary", 1, PlainSummary);

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    return context.run();
}
