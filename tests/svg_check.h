// svg_check.h — a small well-formedness check for the SVG the project writes, shared by the
// plot and report tests. Not a full XML parser: it checks what our writer could get wrong.
//   - one <svg> root element with the SVG namespace, a viewBox, width and height;
//   - balanced start/end tags, quoted attributes;
//   - no raw '<' in text or attributes, and every '&' starts a known entity;
//   - every geometric attribute holds only numbers (no nan/inf).
// Returns "" when the document passes, else what is wrong.
#pragma once
#include <cctype>
#include <string>
#include <vector>

namespace glulab::testing {

inline bool entities_ok(const std::string& s) {
    static const char* entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = s.find('&'); i != std::string::npos; i = s.find('&', i + 1)) {
        bool known = false;
        for (const char* e : entities) known = known || s.compare(i, std::string(e).size(), e) == 0;
        if (!known) return false;
    }
    return s.find('<') == std::string::npos;
}

inline bool is_geometric(const std::string& name) {
    static const char* names[] = {"x", "y", "x1", "y1", "x2", "y2", "width", "height", "cx", "cy", "r", "d",
                                  "font-size", "stroke-width", "fill-opacity"};
    for (const char* n : names)
        if (name == n) return true;
    return false;
}

inline bool numbers_only(const std::string& v) {
    for (char c : v)
        if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ',' || c == ' ' || c == 'M' ||
              c == 'L' || c == 'Z'))
            return false;
    return !v.empty();
}

// Checks the attributes inside one tag ("rect x=\"1\" y=\"2\"" without the brackets).
inline std::string check_attributes(const std::string& tag, size_t name_end) {
    size_t i = name_end;
    while (i < tag.size()) {
        while (i < tag.size() && std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
        if (i >= tag.size()) break;
        const size_t eq = tag.find('=', i);
        if (eq == std::string::npos || eq + 1 >= tag.size() || tag[eq + 1] != '"')
            return "unquoted attribute in <" + tag + ">";
        const std::string name = tag.substr(i, eq - i);
        const size_t close = tag.find('"', eq + 2);
        if (close == std::string::npos) return "unterminated attribute in <" + tag + ">";
        const std::string value = tag.substr(eq + 2, close - eq - 2);
        if (!entities_ok(value)) return "bad character in attribute " + name;
        if (is_geometric(name) && !numbers_only(value)) return "non-numeric " + name + "=\"" + value + "\"";
        i = close + 1;
    }
    return "";
}

inline std::string check_svg(const std::string& doc) {
    std::vector<std::string> open;
    int roots = 0;
    size_t i = 0;
    if (doc.compare(0, 5, "<?xml") == 0) i = doc.find("?>") + 2;
    while (i < doc.size()) {
        const size_t lt = doc.find('<', i);
        const std::string text = doc.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
        if (!entities_ok(text)) return "unescaped text: " + text;
        if (lt == std::string::npos) break;
        const size_t gt = doc.find('>', lt);
        if (gt == std::string::npos) return "unterminated tag";
        std::string tag = doc.substr(lt + 1, gt - lt - 1);
        i = gt + 1;
        if (!tag.empty() && tag[0] == '/') {
            if (open.empty() || open.back() != tag.substr(1)) return "unbalanced </" + tag.substr(1) + ">";
            open.pop_back();
            continue;
        }
        const bool self_closing = !tag.empty() && tag.back() == '/';
        if (self_closing) tag.pop_back();
        size_t name_end = 0;
        while (name_end < tag.size() && !std::isspace(static_cast<unsigned char>(tag[name_end]))) ++name_end;
        const std::string name = tag.substr(0, name_end);
        if (name.empty()) return "empty tag name";
        if (open.empty()) {
            ++roots;
            if (name != "svg") return "root element is <" + name + ">";
            for (const char* need : {"xmlns=\"http://www.w3.org/2000/svg\"", "viewBox=\"", "width=\"", "height=\""})
                if (tag.find(need) == std::string::npos) return std::string("root lacks ") + need;
        }
        const std::string bad = check_attributes(tag, name_end);
        if (!bad.empty()) return bad;
        if (!self_closing) open.push_back(name);
    }
    if (!open.empty()) return "unclosed <" + open.back() + ">";
    if (roots != 1) return "expected one root element, found " + std::to_string(roots);
    return "";
}

}  // namespace glulab::testing
