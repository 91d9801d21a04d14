// json.h — just enough JSON for summaries, metrics logs and safetensors headers.
//
// Writer: one flat object on one line, keys in insertion order; numbers in the shortest form
// that reads back to the same double (std::to_chars), non-finite numbers as null.
// Value/parse: a complete RFC 8259 reader (objects keep key order); errors throw
// std::runtime_error("json: <what> at byte N").
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace glulab::json {

class Value {
public:
    enum class Type { Null, Bool, Number, String, Array, Object };

    Value() = default;  // null
    static Value boolean(bool b);
    static Value number(double x);
    static Value string(std::string s);
    static Value array(std::vector<Value> items);
    static Value object(std::vector<std::pair<std::string, Value>> members);

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::Null; }
    bool is_number() const { return type_ == Type::Number; }
    bool is_string() const { return type_ == Type::String; }
    bool is_object() const { return type_ == Type::Object; }
    bool is_array() const { return type_ == Type::Array; }

    // Typed access; a wrong type throws std::runtime_error naming the expected type.
    bool as_bool() const;
    double as_number() const;
    const std::string& as_string() const;
    const std::vector<Value>& as_array() const;
    const std::vector<std::pair<std::string, Value>>& members() const;

    bool has(const std::string& key) const;                 // false for non-objects
    const Value& operator[](const std::string& key) const;  // throws "json: missing key 'k'"

private:
    Type type_ = Type::Null;
    bool bool_ = false;
    double number_ = 0.0;
    std::string string_;
    std::vector<Value> array_;
    std::vector<std::pair<std::string, Value>> object_;
};

Value parse(const std::string& text);

// A JSON string literal with quotes and escapes: "a\"b" for a"b.
std::string quote(const std::string& s);
// The shortest decimal that reads back as x; "null" if x is not finite.
std::string number_to_string(double x);

class Writer {
public:
    Writer& add(const std::string& key, double v);
    Writer& add(const std::string& key, long long v);
    Writer& add(const std::string& key, long v) { return add(key, static_cast<long long>(v)); }
    Writer& add(const std::string& key, int v) { return add(key, static_cast<long long>(v)); }
    Writer& add(const std::string& key, const std::string& v);
    Writer& add(const std::string& key, const char* v) { return add(key, std::string(v)); }
    Writer& add(const std::string& key, bool v);
    Writer& add_raw(const std::string& key, const std::string& encoded);  // an already-encoded value
    std::string str() const;  // {"key": value, ...}

private:
    std::string body_;
};

}  // namespace glulab::json
