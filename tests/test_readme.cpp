// test_readme.cpp — keeps the README's guided reading true: every file it names exists, and
// every function `name()` it names on a line appears in one of the files named on that line.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "cli_runner.h"

using glulab::testing::slurp;

TEST_CASE("readme: every file and function the guided reading names exists") {
    const std::string readme = slurp("README.md");
    const size_t begin = readme.find("## Reading the code alongside the paper");
    REQUIRE(begin != std::string::npos);
    const size_t end = readme.find("\n## ", begin + 1);
    std::istringstream section(readme.substr(begin, end - begin));

    const std::regex file_re("`((?:src|include|tests)/[A-Za-z0-9_/.]+\\.(?:cpp|h))`");
    const std::regex func_re("`([A-Za-z_][A-Za-z0-9_]*)\\(\\)`");
    int files = 0, functions = 0;
    std::string line;
    while (std::getline(section, line)) {
        std::vector<std::string> paths;
        for (std::sregex_iterator it(line.begin(), line.end(), file_re), stop; it != stop; ++it) {
            const std::string path = (*it)[1];
            INFO(path);
            CHECK(std::filesystem::exists(path));
            paths.push_back(path);
            ++files;
        }
        for (std::sregex_iterator it(line.begin(), line.end(), func_re), stop; it != stop; ++it) {
            const std::string name = (*it)[1];
            bool found = false;
            for (const std::string& p : paths) found = found || slurp(p).find(name + "(") != std::string::npos;
            INFO(name << "() on the line: " << line);
            CHECK(found);
            ++functions;
        }
    }
    CHECK(files >= 20);
    CHECK(functions >= 25);
}

// The README's result section is the committed sweep's report, not a copy that can drift from it:
// `glulab report` run again on the committed run folders gives the committed table.md byte for
// byte, every row and bullet of that table is in the README, and the README names the commit
// the sweep ran at (environment.txt). Replacing the sweep without the README fails here.
TEST_CASE("readme: the result table is the report of the committed sweep") {
    const std::string folder = "experiments/results/small";
    const std::string committed = slurp(folder + "/table.md");
    REQUIRE(committed.rfind("# ", 0) == 0);
    const std::string title = committed.substr(2, committed.find('\n') - 2);
    glulab::testing::TempDir tmp("readme");
    const auto r = glulab::testing::run_glulab(
        "report " + folder + " --out " + tmp.path.string() + " --title " + glulab::testing::shell_word(title), tmp);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(slurp(tmp.file("table.md")) == committed);

    const std::string readme = slurp("README.md");
    std::istringstream table(committed);
    std::string line;
    int rows = 0;
    while (std::getline(table, line)) {
        if (line.rfind("| ", 0) != 0 && line.rfind("- **", 0) != 0) continue;
        INFO(line);
        CHECK(readme.find(line) != std::string::npos);
        ++rows;
    }
    CHECK(rows == 1 + 8 + 3);  // header, eight variants, three bullets

    const std::string environment = slurp(folder + "/environment.txt");
    const std::string prefix = "commit:   ";
    REQUIRE(environment.rfind(prefix, 0) == 0);
    const std::string commit = environment.substr(prefix.size(), 7);
    INFO("the README should name the sweep's commit " << commit);
    CHECK(readme.find("at commit " + commit) != std::string::npos);
}
