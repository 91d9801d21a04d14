// json.cpp — the JSON reader and writer declared in json.h.
//
// Reader: a recursive-descent parser of RFC 8259 text. It keeps object keys in file order and
// allows duplicate keys (the last one wins in operator[], as in JavaScript). Strings are UTF-8
// passed through byte for byte; \uXXXX escapes (with surrogate pairs) become UTF-8.
// Byte positions in error messages are 0-based offsets into the text.
// Writer: numbers in the shortest form that reads back to the same double (std::to_chars).
//
// Left out on purpose: streaming, comments, NaN/Infinity literals (non-standard), and
// validation that strings are well-formed UTF-8 (bytes >= 0x80 are copied as they are).
#include "glulab/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <system_error>

namespace glulab::json {

// ---- Value ----

Value Value::boolean(bool b) {
    Value v;
    v.type_ = Type::Bool;
    v.bool_ = b;
    return v;
}

Value Value::number(double x) {
    Value v;
    v.type_ = Type::Number;
    v.number_ = x;
    return v;
}

Value Value::string(std::string s) {
    Value v;
    v.type_ = Type::String;
    v.string_ = std::move(s);
    return v;
}

Value Value::array(std::vector<Value> items) {
    Value v;
    v.type_ = Type::Array;
    v.array_ = std::move(items);
    return v;
}

Value Value::object(std::vector<std::pair<std::string, Value>> members) {
    Value v;
    v.type_ = Type::Object;
    v.object_ = std::move(members);
    return v;
}

namespace {

const char* type_name(Value::Type t) {
    switch (t) {
        case Value::Type::Null: return "null";
        case Value::Type::Bool: return "a boolean";
        case Value::Type::Number: return "a number";
        case Value::Type::String: return "a string";
        case Value::Type::Array: return "an array";
        case Value::Type::Object: return "an object";
    }
    return "?";
}

void expect_type(Value::Type got, Value::Type want) {
    if (got != want)
        throw std::runtime_error(std::string("json: expected ") + type_name(want) + ", got " + type_name(got));
}

}  // namespace

bool Value::as_bool() const {
    expect_type(type_, Type::Bool);
    return bool_;
}

double Value::as_number() const {
    expect_type(type_, Type::Number);
    return number_;
}

const std::string& Value::as_string() const {
    expect_type(type_, Type::String);
    return string_;
}

const std::vector<Value>& Value::as_array() const {
    expect_type(type_, Type::Array);
    return array_;
}

const std::vector<std::pair<std::string, Value>>& Value::members() const {
    expect_type(type_, Type::Object);
    return object_;
}

bool Value::has(const std::string& key) const {
    if (type_ != Type::Object) return false;
    for (const auto& m : object_)
        if (m.first == key) return true;
    return false;
}

const Value& Value::operator[](const std::string& key) const {
    expect_type(type_, Type::Object);
    // Search from the back so that a duplicated key reads as its last value.
    for (auto it = object_.rbegin(); it != object_.rend(); ++it)
        if (it->first == key) return it->second;
    throw std::runtime_error("json: missing key '" + key + "'");
}

// ---- parser ----

namespace {

constexpr int kMaxDepth = 512;  // deeper nesting is an error, not a stack overflow

class Parser {
public:
    explicit Parser(const std::string& text) : s_(text) {}

    Value document() {
        skip_space();
        Value v = value(0);
        skip_space();
        if (pos_ != s_.size()) fail_unexpected("after the value");
        return v;
    }

private:
    const std::string& s_;
    size_t pos_ = 0;

    [[noreturn]] void fail(const std::string& what, size_t at) const {
        throw std::runtime_error("json: " + what + " at byte " + std::to_string(at));
    }

    // "unexpected character 'x'", or "unexpected end of input"; control bytes shown as \xNN.
    [[noreturn]] void fail_unexpected(const char* context = nullptr) const {
        if (pos_ >= s_.size()) fail("unexpected end of input", pos_);
        const unsigned char c = static_cast<unsigned char>(s_[pos_]);
        char shown[8];
        if (c >= 0x20 && c < 0x7f)
            std::snprintf(shown, sizeof shown, "%c", c);
        else
            std::snprintf(shown, sizeof shown, "\\x%02x", c);
        std::string what = std::string("unexpected character '") + shown + "'";
        if (context) what += std::string(" ") + context;
        fail(what, pos_);
    }

    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }

    void skip_space() {
        while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
    }

    void expect(char c) {
        if (at_end() || s_[pos_] != c) fail_unexpected();
        ++pos_;
    }

    void literal(const char* word) {
        for (const char* p = word; *p; ++p) expect(*p);
    }

    Value value(int depth) {
        if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth), pos_);
        switch (peek()) {
            case '{': return object(depth);
            case '[': return array(depth);
            case '"': return Value::string(string());
            case 't': literal("true"); return Value::boolean(true);
            case 'f': literal("false"); return Value::boolean(false);
            case 'n': literal("null"); return Value();
            default:
                if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return Value::number(number());
                fail_unexpected();
        }
    }

    Value object(int depth) {
        expect('{');
        std::vector<std::pair<std::string, Value>> members;
        skip_space();
        if (peek() == '}') { ++pos_; return Value::object(std::move(members)); }
        for (;;) {
            skip_space();
            if (peek() != '"') fail_unexpected("(expected a key in quotes)");
            std::string key = string();
            skip_space();
            expect(':');
            skip_space();
            members.emplace_back(std::move(key), value(depth + 1));
            skip_space();
            if (peek() == ',') { ++pos_; continue; }
            expect('}');
            return Value::object(std::move(members));
        }
    }

    Value array(int depth) {
        expect('[');
        std::vector<Value> items;
        skip_space();
        if (peek() == ']') { ++pos_; return Value::array(std::move(items)); }
        for (;;) {
            skip_space();
            items.push_back(value(depth + 1));
            skip_space();
            if (peek() == ',') { ++pos_; continue; }
            expect(']');
            return Value::array(std::move(items));
        }
    }

    // The number grammar of RFC 8259 is checked here; std::from_chars alone would accept
    // forms JSON forbids ("01", "1.", ".5") and is locale-independent, unlike strtod.
    double number() {
        const size_t start = pos_;
        auto digits = [&] {
            if (!(peek() >= '0' && peek() <= '9')) fail_unexpected("in a number");
            while (peek() >= '0' && peek() <= '9') ++pos_;
        };
        if (peek() == '-') ++pos_;
        if (peek() == '0') ++pos_;
        else digits();
        if (peek() == '.') { ++pos_; digits(); }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            digits();
        }
        double x = 0.0;
        const auto r = std::from_chars(s_.data() + start, s_.data() + pos_, x);
        if (r.ec == std::errc::result_out_of_range) {
            // from_chars leaves x untouched when out of range. A tiny literal (1e-400) reads as
            // zero, the nearest double; a huge one (1e400) has no finite double to become.
            if (!is_below_one(start, pos_)) fail("number out of range", start);
            x = (s_[start] == '-') ? -0.0 : 0.0;
        } else if (r.ec != std::errc() || r.ptr != s_.data() + pos_) {
            fail("malformed number", start);
        }
        return x;
    }

    // Whether the (grammar-checked) number literal s_[b, e) is below 1 in magnitude, from the
    // decimal exponent of its first non-zero digit; used only to tell underflow from overflow.
    bool is_below_one(size_t b, size_t e) const {
        long lead = 0;           // decimal exponent of the first non-zero digit so far
        bool seen = false;       // a non-zero digit has been seen
        long int_digits = 0, frac_pos = 0;
        size_t i = b + (s_[b] == '-' ? 1 : 0);
        for (; i < e && s_[i] >= '0' && s_[i] <= '9'; ++i, ++int_digits)
            if (!seen && s_[i] != '0') { seen = true; lead = -int_digits; }
        if (seen) lead += int_digits - 1;
        if (i < e && s_[i] == '.')
            for (++i; i < e && s_[i] >= '0' && s_[i] <= '9'; ++i) {
                ++frac_pos;
                if (!seen && s_[i] != '0') { seen = true; lead = -frac_pos; }
            }
        long exponent = 0;
        if (i < e) {  // at 'e' or 'E'
            ++i;
            const bool negative = s_[i] == '-';
            if (s_[i] == '+' || s_[i] == '-') ++i;
            for (; i < e; ++i) exponent = std::min(exponent * 10 + (s_[i] - '0'), 1000000L);
            if (negative) exponent = -exponent;
        }
        return lead + exponent < 0;
    }

    unsigned hex4() {
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = peek();
            unsigned d;
            if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
            else fail_unexpected("in a \\u escape");
            code = code * 16 + d;
            ++pos_;
        }
        return code;
    }

    static void append_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // \uXXXX, with a following \uXXXX low surrogate when the first is a high surrogate.
    unsigned unicode_escape() {
        const size_t start = pos_ - 2;  // at the backslash
        unsigned cp = hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate \\u escape", start);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (peek() != '\\') fail("high surrogate \\u escape without its low half", start);
            ++pos_;
            expect('u');
            const unsigned low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("high surrogate \\u escape without its low half", start);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        return cp;
    }

    std::string string() {
        expect('"');
        std::string out;
        for (;;) {
            if (at_end()) fail("unterminated string", pos_);
            const char c = s_[pos_];
            if (c == '"') { ++pos_; return out; }
            if (static_cast<unsigned char>(c) < 0x20)
                fail_unexpected("in a string (control characters must be escaped)");
            ++pos_;
            if (c != '\\') { out += c; continue; }
            const char e = peek();
            ++pos_;
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': append_utf8(out, unicode_escape()); break;
                default: --pos_; fail_unexpected("after a backslash in a string");
            }
        }
    }
};

}  // namespace

Value parse(const std::string& text) { return Parser(text).document(); }

// ---- writer ----

std::string quote(const std::string& s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out += c;  // UTF-8 bytes pass through unchanged
                }
        }
    }
    out += '"';
    return out;
}

std::string number_to_string(double x) {
    if (!std::isfinite(x)) return "null";
    char buf[32];  // the longest shortest-form double is 24 characters
    const auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}

Writer& Writer::add_raw(const std::string& key, const std::string& encoded) {
    if (!body_.empty()) body_ += ", ";
    body_ += quote(key);
    body_ += ": ";
    body_ += encoded;
    return *this;
}

Writer& Writer::add(const std::string& key, double v) { return add_raw(key, number_to_string(v)); }
Writer& Writer::add(const std::string& key, long long v) { return add_raw(key, std::to_string(v)); }
Writer& Writer::add(const std::string& key, const std::string& v) { return add_raw(key, quote(v)); }
Writer& Writer::add(const std::string& key, bool v) { return add_raw(key, v ? "true" : "false"); }

std::string Writer::str() const { return "{" + body_ + "}"; }

}  // namespace glulab::json
