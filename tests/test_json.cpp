// test_json.cpp — the JSON writer and parser: round-trips, escapes, nesting and error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "glulab/json.h"

using namespace glulab;

namespace {
// The message of the runtime_error that parse(text) throws ("" if it does not throw).
std::string parse_error(const std::string& text) {
    try {
        json::parse(text);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("json: numbers are written in the shortest form that reads back exactly") {
    const double values[] = {0.0, 1.0, -2.5, 0.1, 1.0 / 3.0, 1e-300, 6.02214076e23, 5e-324,
                             std::numeric_limits<double>::max(), 2.0000000000000004};
    for (double x : values) {
        const std::string s = json::number_to_string(x);
        CHECK(json::parse(s).as_number() == x);
    }
    CHECK(json::number_to_string(0.1) == "0.1");
    CHECK(json::number_to_string(3.0) == "3");
    CHECK(json::number_to_string(-1.5e-7) == "-1.5e-07");
}

TEST_CASE("json: non-finite numbers are written as null") {
    CHECK(json::number_to_string(std::nan("")) == "null");
    CHECK(json::number_to_string(std::numeric_limits<double>::infinity()) == "null");
    const std::string s = json::Writer().add("x", -std::numeric_limits<double>::infinity()).str();
    CHECK(s == "{\"x\": null}");
    CHECK(json::parse(s)["x"].is_null());
}

TEST_CASE("json: Writer writes one object with keys in order and reads back") {
    const std::string s = json::Writer()
                              .add("ffn", "swiglu")
                              .add("steps", 1000)
                              .add("params", 1840000LL)
                              .add("val_loss", 1.4697)
                              .add("ok", true)
                              .add_raw("list", "[1, 2]")
                              .str();
    CHECK(s == "{\"ffn\": \"swiglu\", \"steps\": 1000, \"params\": 1840000, \"val_loss\": 1.4697, "
               "\"ok\": true, \"list\": [1, 2]}");
    const json::Value v = json::parse(s);
    CHECK(v["ffn"].as_string() == "swiglu");
    CHECK(v["steps"].as_number() == 1000);
    CHECK(v["val_loss"].as_number() == 1.4697);
    CHECK(v["ok"].as_bool());
    CHECK(v["list"].as_array().size() == 2);
    REQUIRE(v.members().size() == 6);
    CHECK(v.members()[3].first == "val_loss");
    CHECK(json::Writer().str() == "{}");
}

TEST_CASE("json: string escapes, control characters and UTF-8 round-trip") {
    const std::string raw = std::string("quote\" back\\ nl\n tab\t cr\r bs\b ff\f bell\x07 nul") +
                            std::string(1, '\0') + " caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80";
    const std::string q = json::quote(raw);
    CHECK(q.find("\\\"") != std::string::npos);
    CHECK(q.find("\\u0007") != std::string::npos);
    CHECK(q.find("\\u0000") != std::string::npos);
    CHECK(q.find("caf\xc3\xa9") != std::string::npos);  // UTF-8 is passed through, not escaped
    for (char c : q) CHECK(static_cast<unsigned char>(c) >= 0x20);
    CHECK(json::parse(q).as_string() == raw);
    CHECK(json::quote("a\"b") == "\"a\\\"b\"");
}

TEST_CASE("json: \\u escapes, including surrogate pairs, become UTF-8") {
    CHECK(json::parse("\"\\u0041\\u00e9\\u2192\"").as_string() == "A\xc3\xa9\xe2\x86\x92");
    CHECK(json::parse("\"\\ud83d\\ude00\"").as_string() == "\xf0\x9f\x98\x80");
    CHECK(json::parse("\"\\/\"").as_string() == "/");
    CHECK(parse_error("\"\\ud83d\"").find("surrogate") != std::string::npos);
    CHECK(parse_error("\"\\ude00\"").find("surrogate") != std::string::npos);
}

TEST_CASE("json: nested values keep their structure and key order") {
    const json::Value v = json::parse(
        " { \"a\" : [ 1 , 2.5e3 , -0.25E-1 , true , false , null , \"s\" ] ,\n"
        "   \"b\" : { \"z\" : { } , \"y\" : [ ] , \"x\" : [[[]]] } } ");
    REQUIRE(v.is_object());
    const auto& a = v["a"].as_array();
    REQUIRE(a.size() == 7);
    CHECK(a[1].as_number() == 2500.0);
    CHECK(a[2].as_number() == -0.025);
    CHECK_FALSE(a[4].as_bool());
    CHECK(a[5].is_null());
    CHECK(a[6].as_string() == "s");
    const auto& b = v["b"].members();
    REQUIRE(b.size() == 3);
    CHECK(b[0].first == "z");
    CHECK(b[2].first == "x");
    CHECK(v["b"]["x"].as_array()[0].as_array()[0].as_array().empty());
    CHECK(v.has("a"));
    CHECK_FALSE(v.has("c"));
    CHECK_FALSE(a[0].has("a"));
}

TEST_CASE("json: a duplicated key reads as its last value") {
    CHECK(json::parse("{\"k\": 1, \"k\": 2}")["k"].as_number() == 2);
}

TEST_CASE("json: tiny numbers underflow to zero, huge ones are an error") {
    CHECK(json::parse("1e-400").as_number() == 0.0);
    CHECK(std::signbit(json::parse("-0.0000000001e-400").as_number()));
    CHECK(parse_error("1e400") == "json: number out of range at byte 0");
    CHECK(parse_error("[-123456789e400]") == "json: number out of range at byte 1");
}

TEST_CASE("json: errors name what went wrong and the byte offset") {
    CHECK(parse_error("{\"a\": 1, \"b\": x}") == "json: unexpected character 'x' at byte 14");
    CHECK(parse_error("") == "json: unexpected end of input at byte 0");
    CHECK(parse_error("[1, 2") == "json: unexpected end of input at byte 5");
    CHECK(parse_error("{\"a\" 1}") == "json: unexpected character '1' at byte 5");
    CHECK(parse_error("[1,]") == "json: unexpected character ']' at byte 3");
    CHECK(parse_error("{\"a\": 1,}").find("expected a key") != std::string::npos);
    CHECK(parse_error("1 2") == "json: unexpected character '2' after the value at byte 2");
    CHECK(parse_error("\"abc") == "json: unterminated string at byte 4");
    CHECK(parse_error("\"a\nb\"").find("'\\x0a' in a string") != std::string::npos);
    CHECK(parse_error("\"\\q\"") == "json: unexpected character 'q' after a backslash in a string at byte 2");
    CHECK(parse_error("tru") == "json: unexpected end of input at byte 3");
    CHECK(parse_error("nul1") == "json: unexpected character '1' at byte 3");
    // The number grammar of RFC 8259: no leading zeros, no bare '.', no '+', digits after 'e'.
    CHECK(parse_error("01") != "");
    CHECK(parse_error(".5") != "");
    CHECK(parse_error("1.") != "");
    CHECK(parse_error("+1") != "");
    CHECK(parse_error("1e") != "");
    CHECK(parse_error("-") != "");
    CHECK(parse_error("NaN") != "");
}

TEST_CASE("json: deep nesting is an error, not a crash") {
    CHECK(parse_error(std::string(100000, '[')).find("nesting deeper than") != std::string::npos);
    CHECK_NOTHROW(json::parse(std::string(200, '[') + std::string(200, ']')));
}

TEST_CASE("json: typed access to the wrong type and missing keys throw clear errors") {
    const json::Value v = json::parse("{\"n\": 1}");
    CHECK_THROWS_WITH(v["n"].as_string(), "json: expected a string, got a number");
    CHECK_THROWS_WITH(v["missing"], "json: missing key 'missing'");
    CHECK_THROWS_WITH(v.as_array(), "json: expected an array, got an object");
    CHECK_THROWS_WITH(json::Value().as_number(), "json: expected a number, got null");
}
