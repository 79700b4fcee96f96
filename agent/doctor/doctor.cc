#include "agent/doctor/doctor.h"

#include <chrono>
#include <cstdio>

#include "agent/doctor/checks.h"
#include "common/json_writer.h"
#include "common/text_table.h"

namespace dstrain::agent {

int VerdictRank(const std::string& verdict) {
  return verdict == "fail" ? 2 : verdict == "warn" ? 1 : 0;
}

namespace doctor {

proto::DoctorCheck& Add(Checks& out, const char* area, std::string subject,
                        std::string found, const char* verdict,
                        std::string reason) {
  proto::DoctorCheck& c = out.emplace_back();
  c.set_area(area);
  c.set_subject(std::move(subject));
  c.set_found(std::move(found));
  c.set_verdict(verdict);
  c.set_reason(std::move(reason));
  return c;
}

}  // namespace doctor

proto::DoctorReport RunDoctor(const DoctorOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  doctor::Checks checks;
  doctor::CheckCpu(o, checks);
  doctor::CheckMemory(o, checks);
  doctor::CheckGpus(o, checks);
  doctor::CheckNics(o, checks);
  doctor::CheckInfiniband(o, checks);
  doctor::CheckDisk(o, checks);
  doctor::CheckSoftware(o, checks);
  proto::DoctorReport r;
  std::string worst = "ok";
  for (proto::DoctorCheck& c : checks) {
    if (VerdictRank(c.verdict()) > VerdictRank(worst)) worst = c.verdict();
    *r.add_checks() = std::move(c);
  }
  r.set_verdict(worst);
  r.set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return r;
}

std::string DoctorText(const std::string& hostname,
                       const proto::DoctorReport& report) {
  Table t({"area", "subject", "found", "verdict"});
  int warns = 0, fails = 0;
  for (const proto::DoctorCheck& c : report.checks()) {
    t.Add({c.area(), c.subject(), c.found(), c.verdict()});
    if (!c.reason().empty()) t.Add({"", "", "  " + c.reason(), ""});
    warns += c.verdict() == "warn";
    fails += c.verdict() == "fail";
  }
  char took[32];
  std::snprintf(took, sizeof took, "%.2f s", report.seconds());
  std::string out = "dstrain doctor: " + hostname + "\n" + t.Render("  ");
  out += "summary: " + report.verdict();
  if (fails + warns > 0) {
    out += " (" + std::to_string(fails) + " failed, " + std::to_string(warns) +
           " warning" + (warns == 1 ? "" : "s") + ")";
  }
  out += std::string(" in ") + took + "\n";
  return out;
}

std::string DoctorJson(const std::string& hostname,
                       const proto::DoctorReport& report) {
  JsonWriter w;
  w.BeginObject();
  w.Key("hostname").String(hostname);
  w.Key("verdict").String(report.verdict());
  w.Key("seconds").Number(report.seconds());
  w.Key("checks").BeginArray();
  for (const proto::DoctorCheck& c : report.checks()) {
    w.BeginObject();
    w.Key("area").String(c.area());
    w.Key("subject").String(c.subject());
    w.Key("found").String(c.found());
    w.Key("verdict").String(c.verdict());
    w.Key("reason").String(c.reason());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str() + "\n";
}

}  // namespace dstrain::agent
