// Issue 15: the status page, opened in a real headless Chromium against a
// real node under load, and against three nodes on a three-member etcd
// cluster for the cluster view. The DOM Chromium dumps must show what /v1/info
// says, the charts must move with time, a bad ID in the decode box must give a
// message in words, and the browser's console must stay silent (the page
// logs nothing, so any console line is an error or an uncaught exception).
// Screenshots are kept under the build directory, their paths printed.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/coordinator_backend.h"
#include "testing/server_process.h"
#include "tests/integration/etcd_fixture.h"
#include "tests/integration/node_fixture.h"

namespace snowflake::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Debian's package installs /usr/bin/chromium (scripts/deps.sh).
std::string ChromiumBinary() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    std::string path = ResolveBinary(name);
    if (!path.empty()) return path;
  }
  return "";
}

struct BrowserRun {
  std::string dom;  // Chromium's stdout: the serialized DOM.
  std::string log;  // Its stderr: its log, console messages included.
};

// Runs Chromium headless on `url` with `flags`, in a process group of its
// own so that its helper processes die with it, for at most `timeout`.
// Virtual time lets the page's one-second polling run as fast as the node
// answers, so a few seconds of the page's life take about that long.
BrowserRun RunChromium(const std::string& binary, const std::string& profile,
                       const std::string& url, std::vector<std::string> flags,
                       const std::string& out_dir, milliseconds timeout) {
  std::vector<std::string> argv = {binary,
                                   "--headless=new",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--no-first-run",
                                   "--user-data-dir=" + profile,
                                   "--enable-logging=stderr",
                                   "--v=0"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back(url);
  const std::string out_path = out_dir + "/chromium.out";
  const std::string err_path = out_dir + "/chromium.err";
  // Everything the child needs is made before fork: the load thread runs
  // meanwhile, so the child only makes async-signal-safe calls.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_GE(out_fd, 0) << ErrnoText(out_path.c_str());
  EXPECT_GE(err_fd, 0) << ErrnoText(err_path.c_str());
  if (out_fd < 0 || err_fd < 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) {
      _exit(126);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
  EXPECT_GT(pid, 0) << ErrnoText("fork");
  if (pid <= 0) return {};
  setpgid(pid, pid);  // Also here: whichever runs first.
  std::optional<int> status = WaitExit(pid, timeout);
  EXPECT_TRUE(status.has_value())
      << "chromium did not finish within " << timeout.count() << " ms on "
      << url << ": killed";
  // Its renderer and GPU helpers too, whether it finished or not.
  kill(-pid, SIGKILL);
  if (!status.has_value()) WaitExit(pid, seconds(5));
  BrowserRun run{ReadFile(out_path), ReadFile(err_path)};
  if (status.has_value()) {
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "chromium failed on " << url << ":\n"
        << run.log;
  }
  return run;
}

// The text of the element with id `id` in Chromium's serialized DOM (its
// markup included if it has children); nullopt if there is none.
std::optional<std::string> ElementText(const std::string& dom,
                                       const std::string& id) {
  const std::regex element("<([a-z0-9]+)[^>]* id=\"" + id +
                           "\"[^>]*>([\\s\\S]*?)</\\1>");
  std::smatch match;
  if (!std::regex_search(dom, match, element)) return std::nullopt;
  return match[2].str();
}

// The opening tag of the element with id `id`, attributes included.
std::string ElementTag(const std::string& dom, const std::string& id) {
  const std::regex tag("<[a-z0-9]+[^>]* id=\"" + id + "\"[^>]*>");
  std::smatch match;
  return std::regex_search(dom, match, tag) ? match[0].str() : "";
}

// Chromium's serialization escapes these in text.
std::string HtmlEscaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

int64_t ElementNumber(const std::string& dom, const std::string& id) {
  std::optional<std::string> text = ElementText(dom, id);
  if (!text) return -1;
  std::string digits;
  for (char c : *text) {
    if (c >= '0' && c <= '9') digits += c;
  }
  return digits.empty() ? -1 : std::stoll(digits);
}

// Console messages (the page writes none) and uncaught exceptions.
std::vector<std::string> ConsoleLines(const std::string& log) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(start, end - start);
    if (line.find(":CONSOLE") != std::string::npos ||
        line.find("Uncaught") != std::string::npos) {
      lines.push_back(line);
    }
    start = end + 1;
  }
  return lines;
}

// The load a page is read under: IDs taken in a loop from `port` until
// `stop`, steady enough to leave the machine's cores to the browser; each
// failed request counts in `errors` and opens a new connection.
std::thread StartLoad(int port, const std::atomic<bool>& stop,
                      std::atomic<int>& errors) {
  return std::thread([port, &stop, &errors] {
    auto c = std::make_unique<RawHttpConnection>(port);
    while (!stop.load()) {
      auto r = c->Get("/v1/ids?count=20");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (!r || r->status != 200) {
        errors.fetch_add(1);
        std::this_thread::sleep_for(milliseconds(50));
        c = std::make_unique<RawHttpConnection>(port);
      }
    }
  });
}

class StatusPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = ChromiumBinary();
    if (chromium_.empty()) {
      GTEST_SKIP() << "no chromium binary on PATH: install Debian's chromium "
                      "(scripts/deps.sh) to run the status page test";
    }
    std::vector<std::string> args = {"--node-name", "page-node", "--region",
                                     "eu"};
    for (const std::string& arg : NodeArgs()) args.push_back(arg);
    node_ = StartNode(dir_.path(), args);
    ASSERT_TRUE(node_->ready()) << node_->Log();
    screenshots_ = std::string(SCREENSHOT_DIR);
    std::filesystem::create_directories(screenshots_);
    // The load: IDs taken in a loop for the whole test.
    load_ = StartLoad(node_->port(), stop_, load_errors_);
  }

  void TearDown() override {
    stop_.store(true);
    if (load_.joinable()) load_.join();
    EXPECT_EQ(load_errors_.load(), 0);
    if (node_ != nullptr) {
      node_->Signal(SIGTERM);
      EXPECT_EQ(node_->Wait(seconds(15)), 0) << node_->Log();
    }
  }

  // Flags beyond the name and region.
  virtual std::vector<std::string> NodeArgs() const { return {}; }

  // The page's URL on the main port, or on `port`.
  std::string Url(const std::string& target, int port = 0) const {
    return "http://127.0.0.1:" +
           std::to_string(port > 0 ? port : node_->port()) + target;
  }

  Json GetJson(const std::string& target) const {
    auto r = HttpGet(node_->port(), target);
    EXPECT_TRUE(r.has_value()) << target;
    if (!r) return Json();
    return Json::parse(r->body, nullptr, false);
  }

  // The DOM after `budget_ms` of the page's (virtual) life.
  BrowserRun Dump(const std::string& target, int budget_ms, int port = 0) {
    BrowserRun run = RunChromium(
        chromium_, dir_.path() + "/profile", Url(target, port),
        {"--virtual-time-budget=" + std::to_string(budget_ms), "--dump-dom"},
        dir_.path(), seconds(90));
    EXPECT_THAT(ConsoleLines(run.log), ::testing::IsEmpty())
        << "the browser's console on " << target;
    return run;
  }

  std::string chromium_;
  TempDir dir_;
  std::unique_ptr<DaemonProcess> node_;
  std::string screenshots_;
  std::atomic<bool> stop_{false};
  std::atomic<int> load_errors_{0};
  std::thread load_;
};

// The figures on the page are /v1/info's at that moment, and the charts
// move: more samples, drawn, the later the page is opened.
TEST_F(StatusPageTest, ShowsWhatInfoSaysAndChartsUpdate) {
  // The history counts from its first reader: start it, let the load run.
  ASSERT_TRUE(GetJson("/v1/status").is_object());
  std::this_thread::sleep_for(seconds(3));

  const BrowserRun first = Dump("/", 4000);
  const Json info = GetJson("/v1/info");
  ASSERT_TRUE(info.is_object());
  const std::string& dom = first.dom;
  ASSERT_THAT(dom, HasSubstr("<html")) << first.log;

  EXPECT_EQ(ElementText(dom, "node"), info["node"].get<std::string>());
  EXPECT_EQ(ElementText(dom, "node-name"), info["node"].get<std::string>());
  EXPECT_EQ(ElementText(dom, "region"), info["region"].get<std::string>());
  EXPECT_EQ(ElementText(dom, "version"), info["version"].get<std::string>());
  EXPECT_EQ(ElementText(dom, "layout"),
            info["layout"]["widths"].get<std::string>());
  EXPECT_EQ(ElementText(dom, "layout-end").value_or("").substr(0, 24),
            info["layout"]["last"].get<std::string>());
  EXPECT_EQ(ElementText(dom, "worker-ids"),
            std::to_string(info["worker_id"].get<int>()));
  EXPECT_EQ(info["worker_id"], 3);
  EXPECT_EQ(ElementText(dom, "lease-mode"),
            info["lease"]["mode"].get<std::string>());
  EXPECT_EQ(ElementText(dom, "clock-source"),
            info["clock"]["source"].get<std::string>());
  EXPECT_EQ(ElementText(dom, "ready"), "yes");
  // The IDs issued, read before /v1/info, are at most its count.
  const int64_t issued = ElementNumber(dom, "ids-issued");
  EXPECT_GT(issued, 0);
  EXPECT_LE(issued, info["generator"]["ids_issued"].get<int64_t>());
  // Clock sync is the kernel's say: the page must say it in words either way.
  const bool synced = info["clock"]["kernel_synchronized"].get<bool>();
  EXPECT_EQ(ElementText(dom, "clock-sync"),
            synced ? "synchronized" : "NOT SYNCHRONIZED");
  EXPECT_EQ(dom.find("CLOCK NOT SYNCHRONIZED") != std::string::npos, !synced);

  // Static mode: no cluster, in /v1/status or on the page.
  EXPECT_FALSE(GetJson("/v1/status").contains("cluster"));
  EXPECT_THAT(ElementTag(dom, "cluster-view"), HasSubstr("hidden"));

  // The page polled more than once, and drew the history under load.
  const int64_t polls = ElementNumber(dom, "polls");
  EXPECT_GT(polls, 1) << "the page did not poll /v1/status every second";
  const int64_t samples = ElementNumber(dom, "samples");
  EXPECT_GE(samples, 2);
  EXPECT_GT(ElementNumber(dom, "ids-now"), 0);
  EXPECT_THAT(ElementTag(dom, "ids-chart"),
              HasSubstr("data-points=\"" + std::to_string(samples) + "\""));

  // Later, more samples: the charts follow the node.
  std::this_thread::sleep_for(seconds(3));
  const BrowserRun second = Dump("/status", 2000);
  EXPECT_GE(ElementNumber(second.dom, "samples"), samples + 2)
      << "the history did not grow in 3 s";
  EXPECT_GE(ElementNumber(second.dom, "polls"), 1);

  // A screenshot, for people.
  const std::string shot = screenshots_ + "/status_page.png";
  std::filesystem::remove(shot);
  BrowserRun screenshot =
      RunChromium(chromium_, dir_.path() + "/profile", Url("/"),
                  {"--virtual-time-budget=3000", "--screenshot=" + shot,
                   "--window-size=1280,1600", "--hide-scrollbars"},
                  dir_.path(), seconds(90));
  EXPECT_THAT(ConsoleLines(screenshot.log), ::testing::IsEmpty());
  ASSERT_TRUE(std::filesystem::exists(shot)) << screenshot.log;
  EXPECT_GT(std::filesystem::file_size(shot), 10'000u);
  EXPECT_EQ(ReadFile(shot).substr(1, 3), "PNG");
  std::printf("status page screenshot: %s\n", shot.c_str());
}

// A bad ID in the decode box gives the node's reason in words on the page;
// a good one its time, worker and sequence.
TEST_F(StatusPageTest, DecodeBoxExplainsBadInput) {
  const Json error = GetJson("/v1/decode/not-an-id");
  ASSERT_TRUE(error.contains("error")) << error;
  const std::string message = error["error"]["message"].get<std::string>();

  const BrowserRun bad = Dump("/?decode=not-an-id", 2000);
  ASSERT_THAT(bad.dom, HasSubstr("<html")) << bad.log;
  const std::optional<std::string> shown = ElementText(bad.dom, "decode-error");
  ASSERT_TRUE(shown.has_value()) << bad.dom;
  EXPECT_THAT(*shown, HasSubstr("Cannot decode \"not-an-id\" as decimal"));
  EXPECT_THAT(*shown, HasSubstr(HtmlEscaped(message)));
  EXPECT_THAT(ElementTag(bad.dom, "decode-error"), Not(HasSubstr("hidden")));
  EXPECT_THAT(ElementTag(bad.dom, "decode-result"), HasSubstr("hidden"));

  // An encoding the node does not know: its words again, not a blank page.
  const BrowserRun bad_encoding = Dump("/?decode=abc&encoding=roman", 2000);
  EXPECT_THAT(ElementText(bad_encoding.dom, "decode-error").value_or(""),
              HasSubstr("Cannot decode \"abc\""));

  const Json id = GetJson("/v1/id?encoding=hex");
  const std::string hex = id["id"].get<std::string>();
  const Json parts = GetJson("/v1/decode/" + hex + "?encoding=hex");
  const BrowserRun good = Dump("/?decode=" + hex + "&encoding=hex", 2000);
  EXPECT_EQ(ElementText(good.dom, "decode-worker"), "3");
  EXPECT_EQ(ElementText(good.dom, "decode-sequence"),
            std::to_string(parts["sequence"].get<int64_t>()));
  EXPECT_THAT(ElementText(good.dom, "decode-time").value_or(""),
              HasSubstr(parts["time"].get<std::string>()));
  EXPECT_THAT(ElementTag(good.dom, "decode-error"), HasSubstr("hidden"));

  const std::string shot = screenshots_ + "/status_page_decode_error.png";
  std::filesystem::remove(shot);
  RunChromium(chromium_, dir_.path() + "/profile", Url("/?decode=not-an-id"),
              {"--virtual-time-budget=2000", "--screenshot=" + shot,
               "--window-size=1280,1600", "--hide-scrollbars"},
              dir_.path(), seconds(90));
  EXPECT_TRUE(std::filesystem::exists(shot));
  std::printf("decode error screenshot: %s\n", shot.c_str());
}

// With --admin-listen the page and /v1/status are on the operators' port
// only, which issues no IDs; the page works there as on the main port.
class AdminListenTest : public StatusPageTest {
 protected:
  std::vector<std::string> NodeArgs() const override {
    return {"--admin-listen", "127.0.0.1:0"};
  }

  // The admin port, from the node's log; 0 if it logged none.
  int AdminPort() const {
    const std::string log = node_->Log();
    const size_t at = log.find("event=admin_listening");
    if (at == std::string::npos) return 0;
    const size_t port_at = log.find("port=", at);
    if (port_at == std::string::npos) return 0;
    return std::atoi(log.c_str() + port_at + 5);
  }
};

TEST_F(AdminListenTest, PageOnTheAdminPortOnly) {
  const int admin = AdminPort();
  ASSERT_GT(admin, 0) << node_->Log();
  ASSERT_NE(admin, node_->port());

  for (const char* target : {"/", "/status", "/v1/status"}) {
    auto moved = HttpGet(node_->port(), target);
    ASSERT_TRUE(moved.has_value()) << target;
    EXPECT_EQ(moved->status, 404) << target;
    EXPECT_THAT(moved->body, HasSubstr("--admin-listen")) << target;
  }
  auto page = HttpGet(admin, "/");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->Header("content-type"), "text/html; charset=utf-8");
  auto refused = HttpGet(admin, "/v1/id");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 404);
  EXPECT_THAT(refused->body, HasSubstr("--listen"));
  auto info = HttpGet(admin, "/v1/info");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->status, 200);

  const BrowserRun run = Dump("/?decode=not-an-id", 3000, admin);
  ASSERT_THAT(run.dom, HasSubstr("<html")) << run.log;
  EXPECT_EQ(ElementText(run.dom, "node"), "page-node");
  EXPECT_EQ(ElementText(run.dom, "worker-ids"), "3");
  EXPECT_GT(ElementNumber(run.dom, "polls"), 1);
  EXPECT_THAT(ElementText(run.dom, "decode-error").value_or(""),
              HasSubstr("Cannot decode \"not-an-id\" as decimal"));
}

// The text of the first `<td class="NAME">` in `row` (markup included).
std::string CellText(const std::string& row, const std::string& name) {
  const std::regex cell("<td class=\"" + name + "\">([\\s\\S]*?)</td>");
  std::smatch match;
  return std::regex_search(row, match, cell) ? match[1].str() : "";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

// The cluster view: three nodes (two in region eu, one in us) on a real
// three-member etcd cluster, and on a real three-member ZooKeeper ensemble.
// The page of one of them must show every holder the coordinator has, as
// each node's /v1/info describes itself, link to each node's own page, and
// count the free IDs per region.
class ClusterPageTest : public ::testing::TestWithParam<CoordinatorKind> {
 protected:
  static constexpr char kRegions[] = "eu=0-511,us=512-1023";

  void SetUp() override {
    chromium_ = ChromiumBinary();
    if (chromium_.empty()) {
      GTEST_SKIP() << "no chromium binary on PATH: install Debian's chromium "
                      "(scripts/deps.sh) to run the status page test";
    }
    backend_ = CoordinatorBackend::Start(GetParam(), 3);
    ASSERT_NE(backend_, nullptr);
    scenario_ = std::make_unique<Scenario>(backend_->NodeFlags(), "paged");
    absl::StatusOr<std::vector<int>> ports = FreePorts(3);
    ASSERT_TRUE(ports.ok()) << ports.status();
    ports_ = *ports;
    const std::vector<std::pair<std::string, std::string>> nodes = {
        {"page-a", "eu"}, {"page-b", "eu"}, {"page-c", "us"}};
    std::vector<NodeSpec> specs;
    for (size_t i = 0; i < nodes.size(); ++i) {
      specs.push_back({nodes[i].first,
                       "",
                       5,
                       {"--listen", "127.0.0.1:" + std::to_string(ports_[i]),
                        "--regions", kRegions, "--region", nodes[i].second}});
    }
    nodes_ = scenario_->StartAll(specs);
    for (const auto& node : nodes_) ASSERT_TRUE(node->ready()) << node->Log();
    screenshots_ = std::string(SCREENSHOT_DIR);
    std::filesystem::create_directories(screenshots_);
    load_ = StartLoad(ports_[0], stop_, load_errors_);
  }

  void TearDown() override {
    stop_.store(true);
    if (load_.joinable()) load_.join();
    EXPECT_EQ(load_errors_.load(), 0);
    for (const auto& node : nodes_) {
      if (node == nullptr) continue;
      node->Signal(SIGTERM);
      EXPECT_EQ(node->Wait(seconds(15)), 0) << node->Log();
    }
  }

  Json GetJson(int port, const std::string& target) const {
    auto r = HttpGet(port, target);
    EXPECT_TRUE(r.has_value()) << port << target;
    if (!r) return Json();
    return Json::parse(r->body, nullptr, false);
  }

  BrowserRun Dump(const std::string& url, int budget_ms) {
    BrowserRun run = RunChromium(
        chromium_, scenario_->dir() + "/profile", url,
        {"--virtual-time-budget=" + std::to_string(budget_ms), "--dump-dom"},
        scenario_->dir(), seconds(90));
    EXPECT_THAT(ConsoleLines(run.log), ::testing::IsEmpty())
        << "the browser's console on " << url;
    return run;
  }

  std::string chromium_;
  std::unique_ptr<CoordinatorBackend> backend_;
  std::unique_ptr<Scenario> scenario_;
  std::vector<int> ports_;
  std::vector<std::unique_ptr<DaemonProcess>> nodes_;
  std::string screenshots_;
  std::atomic<bool> stop_{false};
  std::atomic<int> load_errors_{0};
  std::thread load_;
};

TEST_P(ClusterPageTest, ShowsEveryHolderAndFreeIdsPerRegion) {
  const bool etcd = GetParam() == CoordinatorKind::kEtcd;
  const int port = ports_[0];
  // The first read of the coordinator, and the history, start with their
  // first reader: let both run before the page is opened.
  Json status;
  ASSERT_TRUE(Eventually(
      [&] {
        status = GetJson(port, "/v1/status");
        return status.contains("cluster") &&
               status["cluster"]["holders"].size() == 3;
      },
      seconds(10), milliseconds(200)))
      << status.dump(2);
  std::this_thread::sleep_for(seconds(2));

  const BrowserRun run =
      Dump("http://127.0.0.1:" + std::to_string(port) + "/", 4000);
  const std::string& dom = run.dom;
  ASSERT_THAT(dom, HasSubstr("<html")) << run.log;

  // What the coordinator holds at that moment, and what each node says.
  absl::StatusOr<size_t> claims = backend_->ClaimCount("paged");
  ASSERT_TRUE(claims.ok()) << claims.status();
  ASSERT_EQ(*claims, 3u);
  std::map<std::string, int64_t> held_per_region;
  std::vector<int64_t> ids;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Json info = GetJson(ports_[i], "/v1/info");
    ASSERT_TRUE(info.is_object());
    const int64_t id = info["worker_id"].get<int64_t>();
    ids.push_back(id);
    const std::string node = info["node"].get<std::string>();
    const std::string region = info["region"].get<std::string>();
    const std::string address = "127.0.0.1:" + std::to_string(ports_[i]);
    SCOPED_TRACE(node);
    ++held_per_region[region];

    // The coordinator's claim of that ID is this node's.
    auto claim = backend_->ReadClaim("paged", id);
    ASSERT_TRUE(claim.ok()) << claim.status();
    ASSERT_TRUE(claim->has_value());
    EXPECT_EQ((*claim)->node, node);

    // Its row on page-a's page.
    const std::string row_id = "holder-" + std::to_string(id);
    const std::optional<std::string> row = ElementText(dom, row_id);
    ASSERT_TRUE(row.has_value()) << "no row for worker " << id << "\n" << dom;
    EXPECT_EQ(CellText(*row, "h-worker"), std::to_string(id));
    EXPECT_EQ(CellText(*row, "h-region"), region);
    std::string link = "<a href=\"http://";
    link.append(address).append("/status\">").append(address).append("</a>");
    EXPECT_EQ(CellText(*row, "h-address"), link);
    // A ZooKeeper session's time left is not visible to other clients.
    if (etcd) {
      EXPECT_THAT(CellText(*row, "h-lease"), ::testing::EndsWith(" s"));
    } else {
      EXPECT_EQ(CellText(*row, "h-lease"), "not visible (ZooKeeper session)");
    }
    EXPECT_THAT(CellText(*row, "h-hwm"), HasSubstr("ahead"));
    const bool self = i == 0;
    EXPECT_EQ(
        CellText(*row, "h-node"),
        self ? node + "<span class=\"self-mark\"> (this node)</span>" : node);
    EXPECT_EQ(
        ElementTag(dom, row_id).find("class=\"self\"") != std::string::npos,
        self);
  }
  EXPECT_EQ(Count(dom, "<tr id=\"holder-"), 3u) << dom;
  EXPECT_EQ(held_per_region,
            (std::map<std::string, int64_t>{{"eu", 2}, {"us", 1}}));

  // The free IDs per region: 512 each, less those held there.
  for (const std::string region : {"eu", "us"}) {
    const std::optional<std::string> row = ElementText(dom, "free-" + region);
    ASSERT_TRUE(row.has_value()) << region << "\n" << dom;
    EXPECT_EQ(CellText(*row, "f-free"),
              std::to_string(512 - held_per_region[region]))
        << region;
  }
  EXPECT_THAT(ElementTag(dom, "cluster-view"), Not(HasSubstr("hidden")));
  EXPECT_THAT(ElementTag(dom, "cluster-error"), HasSubstr("hidden"));
  EXPECT_EQ(ElementText(dom, "cluster-name"), "paged");
  EXPECT_EQ(ElementText(dom, "cluster-coordinator"),
            etcd ? "etcd" : "ZooKeeper");
  EXPECT_THAT(ElementText(dom, "cluster-state").value_or(""),
              HasSubstr("3 worker ID(s) held"));
  // The rest of the page lives too: it polled, and charts the load.
  EXPECT_GT(ElementNumber(dom, "polls"), 1);
  EXPECT_GE(ElementNumber(dom, "samples"), 2);
  EXPECT_GT(ElementNumber(dom, "ids-now"), 0);

  // A link leads to that node's own page: page-c's, which shows page-c.
  const std::string link =
      "http://127.0.0.1:" + std::to_string(ports_[2]) + "/status";
  ASSERT_THAT(dom, HasSubstr("href=\"" + link + "\""));
  const BrowserRun other = Dump(link, 2000);
  EXPECT_EQ(ElementText(other.dom, "node"), "page-c");
  // There, page-c's own row is the one marked.
  EXPECT_THAT(ElementTag(other.dom, "holder-" + std::to_string(ids[2])),
              HasSubstr("class=\"self\""));
  EXPECT_THAT(ElementTag(other.dom, "holder-" + std::to_string(ids[0])),
              Not(HasSubstr("class=\"self\"")));

  const std::string shot =
      screenshots_ + (etcd ? "/status-page-cluster.png"
                           : "/status-page-cluster-zookeeper.png");
  std::filesystem::remove(shot);
  BrowserRun screenshot =
      RunChromium(chromium_, scenario_->dir() + "/profile",
                  "http://127.0.0.1:" + std::to_string(port) + "/",
                  {"--virtual-time-budget=3000", "--screenshot=" + shot,
                   "--window-size=1280,1500", "--hide-scrollbars"},
                  scenario_->dir(), seconds(90));
  EXPECT_THAT(ConsoleLines(screenshot.log), ::testing::IsEmpty());
  ASSERT_TRUE(std::filesystem::exists(shot)) << screenshot.log;
  EXPECT_GT(std::filesystem::file_size(shot), 10'000u);
  std::printf("cluster view screenshot: %s\n", shot.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    Coordinators, ClusterPageTest,
    ::testing::Values(CoordinatorKind::kEtcd, CoordinatorKind::kZooKeeper),
    [](const ::testing::TestParamInfo<CoordinatorKind>& info) {
      return KindName(info.param);
    });

}  // namespace
}  // namespace snowflake::testing
