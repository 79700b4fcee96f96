#pragma once
// What is wrong with a YAML text, as data, so that each caller words it
// for its own context: a file names the position (`job.yaml:3:5`), a
// command-line value only says what is wrong with it.
//
// InFile, for a file (`display` comes from the Locator):
//   kTooLarge       job.yaml is 2097152 bytes: a job file may have at most
//                   1048576
//   kNotText        control character 0x00 at job.yaml:3:5: a job file is
//                   UTF-8 text  (or: invalid UTF-8 byte 0xff at ...)
//   kTooDeep        YAML nested more than 64 levels deep at job.yaml:1:65
//   kAlias          alias `*a` at job.yaml:4:8: aliases (*name) are not
//                   supported in a job file
//   kSecondDocument second YAML document at job.yaml:5:1: a job file holds
//                   one document
//   kStuckToken     YAML syntax error at job.yaml:1:1: unexpected `,`
//                   outside [ ] or { }
//   kSyntax         YAML syntax error at job.yaml:6:2: end of map not found
//                   (`in job.yaml` when yaml-cpp gave no position)
//   kUnreadable     cannot read job.yaml as YAML: <yaml-cpp's message>
// Brief, for a value given on the command line: the part after the
// position ("end of map not found", "aliases (*name) are not supported in
// a --set value"); empty for kUnreadable. Every message is one line.

#include <yaml-cpp/mark.h>

#include <cstddef>
#include <string>

#include "common/yaml/place.h"

namespace dstrain::yaml {

struct ParseError {
  enum class Kind {
    kTooLarge,
    kNotText,
    kTooDeep,
    kAlias,
    kSecondDocument,
    kStuckToken,
    kSyntax,
    kUnreadable,
  };
  Kind kind = Kind::kSyntax;
  YAML::Mark mark = YAML::Mark::null_mark();  // where, when known
  // kSecondDocument: `mark` is where the document starts (its `---`), this
  // is its first node.
  YAML::Mark content_mark = YAML::Mark::null_mark();
  // kSyntax, kUnreadable: yaml-cpp's message. kNotText: the byte, worded
  // ("control character 0x00"). kAlias: the alias as written (`*a`).
  // kStuckToken: the token it stopped at.
  std::string detail;
  std::string what;       // the kind of text: "a job file", "a --set value"
  std::size_t size = 0;   // kTooLarge: the text's size in bytes
  std::size_t limit = 0;  // kTooLarge: bytes; kTooDeep: levels

  std::string InFile(const Locator& file) const;
  std::string Brief() const;
};

}  // namespace dstrain::yaml
