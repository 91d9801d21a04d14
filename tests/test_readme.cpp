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
