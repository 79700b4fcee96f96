#include "common/yaml/parse_error.h"

#include "common/yaml/text.h"

namespace dstrain::yaml {
namespace {

std::string Unexpected(const std::string& token) {
  return "unexpected " + Quoted(token) +
         (token == "," ? " outside [ ] or { }" : "");
}

}  // namespace

std::string ParseError::InFile(const Locator& file) const {
  const std::string at = mark.is_null() ? "" : " at " + file.At(mark);
  switch (kind) {
    case Kind::kTooLarge:
      return file.display() + " is " + std::to_string(size) +
             " bytes: " + what + " may have at most " + std::to_string(limit);
    case Kind::kNotText:
      return detail + at + ": " + what + " is UTF-8 text";
    case Kind::kTooDeep:
      return "YAML nested more than " + std::to_string(limit) + " levels deep" +
             at;
    case Kind::kAlias:
      return "alias " + Quoted(detail) + at +
             ": aliases (*name) are not supported in " + what;
    case Kind::kSecondDocument:
      return "second YAML document" + at + ": " + what + " holds one document";
    case Kind::kStuckToken:
      return "YAML syntax error" + at + ": " + Unexpected(detail);
    case Kind::kSyntax:
      if (mark.is_null()) {
        return "YAML syntax error in " + file.display() + ": " +
               OneLine(detail);
      }
      return "YAML syntax error" + at + ": " + OneLine(detail);
    case Kind::kUnreadable:
      return "cannot read " + file.display() + " as YAML: " + OneLine(detail);
  }
  return "cannot read " + file.display() + " as YAML";
}

std::string ParseError::Brief() const {
  switch (kind) {
    case Kind::kTooLarge:
      return std::to_string(size) + " bytes, and " + what +
             " may have at most " + std::to_string(limit);
    case Kind::kNotText:
      return detail + " (" + what + " is UTF-8 text)";
    case Kind::kTooDeep:
      return "nested more than " + std::to_string(limit) + " levels deep";
    case Kind::kAlias:
      return "aliases (*name) are not supported in " + what;
    case Kind::kSecondDocument:
      return what + " holds one document";
    case Kind::kStuckToken:
      return Unexpected(detail);
    case Kind::kSyntax:
      return OneLine(detail);
    case Kind::kUnreadable:
      return "";
  }
  return "";
}

}  // namespace dstrain::yaml
