#include "src/cli/cli.h"

#include <algorithm>
#include <exception>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "snowflake/layout.h"
#include "src/base/strings.h"
#include "src/cli/audit.h"
#include "src/cli/commands.h"

namespace snowflake::cli {
namespace {

#ifndef SNOWFLAKE_VERSION
#define SNOWFLAKE_VERSION "unknown"
#endif
constexpr std::string_view kVersion = SNOWFLAKE_VERSION;

constexpr std::string_view kEncodingNames =
    "decimal, hex, base62, base58, base32 (Crockford)";

constexpr std::string_view kFooter = R"(Examples:
  snowflake decode --preset twitter 1541815603606036480
  snowflake gen -n 5 --worker 7
  snowflake layout --layout 39/8/16 --unit 10
  snowflake encode --to base62 1541815603606036480
  echo 1541815603606036480 | snowflake decode --json --preset twitter)";

constexpr std::string_view kInputHelp =
    "; none or \"-\": one a line from standard input";

// Everything CLI11 fills in, owned for the length of one run.
struct Flags {
  DecodeFlags decode;
  GenFlags gen;
  LayoutCommandFlags layout;
  EncodeFlags encode;
  ParseFlags parse;
  AuditFlags audit;
};

std::string PresetHelp() {
  std::string names;
  for (const std::string& name : Layout::PresetNames()) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  return "Named layout: " + names;
}

void AddLayoutOptions(CLI::App& app, LayoutFlags& flags) {
  app.add_option("--preset", flags.preset, PresetHelp())
      ->type_name("NAME")
      ->capture_default_str();
  app.add_option("--layout", flags.widths,
                 "Bit widths TIME/WORKER/SEQUENCE, at most 63 in all, e.g. "
                 "41/10/12, or a preset name as for --preset (snowflaked's "
                 "--layout takes the same); default: the preset's")
      ->type_name("T/W/S|PRESET");
  app.add_option_function<int64_t>(
         "--epoch", [&flags](const int64_t& ms) { flags.epoch_millis = ms; },
         "Unix ms at which tick 0 begins (default: the preset's)")
      ->type_name("MS");
  app.add_option_function<int64_t>(
         "--unit", [&flags](const int64_t& ms) { flags.unit_millis = ms; },
         "Length of one tick in ms, 1 to 1000 (default: the preset's)")
      ->type_name("MS");
}

CLI::App* AddDecode(CLI::App& app, Flags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "decode", "Print the time, worker, sequence and tick of IDs");
  cmd->footer(
      "Example:\n  snowflake decode --preset twitter 1541815603606036480");
  AddLayoutOptions(*cmd, flags.decode.layout);
  cmd->add_option("--encoding", flags.decode.encoding,
                  "Encoding of the input IDs: " + std::string(kEncodingNames))
      ->type_name("NAME")
      ->capture_default_str();
  cmd->add_flag("--json", flags.decode.json,
                "One JSON object per ID and line, IDs as strings");
  cmd->add_option("ids", flags.decode.ids, "IDs" + std::string(kInputHelp))
      ->type_name("ID");
  return cmd;
}

CLI::App* AddGen(CLI::App& app, Flags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "gen",
      "Generate IDs on this machine's wall clock, for testing; not "
      "coordinated (no worker lease, no high-water mark)");
  cmd->footer(
      "IDs from gen may repeat IDs a cluster or an earlier run issued: use\n"
      "snowflaked to issue IDs for real.\n\n"
      "Example:\n  snowflake gen -n 5 --worker 7 --encoding base62");
  AddLayoutOptions(*cmd, flags.gen.layout);
  cmd->add_option("-n,--count", flags.gen.count,
                  "How many IDs, 1 to " + std::to_string(kMaxGenCount))
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("-w,--worker", flags.gen.worker,
                  "Worker ID, 0 to 2^worker_bits - 1")
      ->type_name("W")
      ->capture_default_str();
  cmd->add_option("--encoding", flags.gen.encoding,
                  "Encoding of the output: " + std::string(kEncodingNames))
      ->type_name("NAME")
      ->capture_default_str();
  return cmd;
}

CLI::App* AddLayout(CLI::App& app, Flags& flags) {
  CLI::App* cmd = app.add_subcommand(
      "layout",
      "Print a layout's limits: rates, range, when its time bits run out");
  cmd->footer(
      "Warns on stderr if the layout's IDs exceed 2^53 (JavaScript's safe\n"
      "integer limit) within its range.\n\n"
      "Example:\n  snowflake layout --layout 39/8/16 --unit 10");
  AddLayoutOptions(*cmd, flags.layout.layout);
  cmd->add_flag("--json", flags.layout.json, "Print one JSON object");
  return cmd;
}

CLI::App* AddEncode(CLI::App& app, Flags& flags) {
  CLI::App* cmd =
      app.add_subcommand("encode", "Print IDs in another text encoding");
  cmd->footer("Example:\n  snowflake encode --to base62 1541815603606036480");
  cmd->add_option("--to", flags.encode.to,
                  "Output encoding: " + std::string(kEncodingNames))
      ->type_name("ENC")
      ->required();
  cmd->add_option("--from", flags.encode.from, "Input encoding")
      ->type_name("ENC")
      ->capture_default_str();
  cmd->add_option("ids", flags.encode.ids, "IDs" + std::string(kInputHelp))
      ->type_name("ID");
  return cmd;
}

CLI::App* AddParse(CLI::App& app, Flags& flags) {
  CLI::App* cmd =
      app.add_subcommand("parse", "Print encoded IDs as decimal numbers");
  cmd->footer("Example:\n  snowflake parse --from base62 1ptWyK4WgZU");
  cmd->add_option("--from", flags.parse.from,
                  "Input encoding: " + std::string(kEncodingNames))
      ->type_name("ENC")
      ->required();
  cmd->add_option("texts", flags.parse.texts,
                  "Encoded IDs" + std::string(kInputHelp))
      ->type_name("TEXT");
  return cmd;
}

CLI::App* AddAudit(CLI::App& app, Flags& flags) {
  AuditFlags& audit = flags.audit;
  CLI::App* cmd = app.add_subcommand(
      "audit",
      "Check collected IDs: duplicates, workers outside their range, IDs in "
      "the future, per-source order; exit 1 if anything is wrong");
  cmd->footer(
      "Exact with bounded memory: IDs are sorted in runs of --buffer-ids "
      "(8 bytes each) spilled to --temp-dir and merged.\n\n"
      "Example:\n"
      "  snowflake audit ids-*.txt --regions us=0-341,eu=342-683 --ordered\n"
      "  snowflake audit --format binary ids.bin --json");
  AddLayoutOptions(*cmd, audit.layout);
  cmd->add_option("--format", audit.format,
                  "text (one ID a line) or binary (big-endian u64s)")
      ->type_name("F")
      ->capture_default_str();
  cmd->add_option("--encoding", audit.encoding,
                  "Encoding of text input: " + std::string(kEncodingNames))
      ->type_name("NAME")
      ->capture_default_str();
  cmd->add_option("--worker-range", audit.worker_range,
                  "Expected workers (default: the layout's)")
      ->type_name("A-B");
  cmd->add_option("--regions", audit.regions,
                  "Expected workers: a region map as snowflaked's --regions")
      ->type_name("NAME=A-B,...");
  cmd->add_option("--region", audit.region,
                  "With --regions: only this region's workers are expected")
      ->type_name("NAME");
  cmd->add_option("--max-future-ms", audit.max_future_millis,
                  "IDs timed later than now plus this are in the future")
      ->type_name("MS")
      ->capture_default_str();
  cmd->add_flag("--ordered", audit.ordered,
                "Each input is one source's IDs in the order received: check "
                "every worker's IDs increase within it");
  cmd->add_flag("--json", audit.json, "Print one JSON object");
  cmd->add_option("--temp-dir", audit.temp_dir,
                  "Where sorted runs are spilled (default: $TMPDIR or /tmp)")
      ->type_name("DIR");
  cmd->add_option("--buffer-ids", audit.buffer_ids,
                  "IDs sorted in memory before a spill")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("inputs", audit.inputs,
                  "Files of IDs; - or none: standard input")
      ->type_name("FILE");
  return cmd;
}

// Builds the app, parses `args` and runs the chosen command.
int Run(std::span<const std::string> args, Clock& clock, Io& io,
        std::span<ExtraCommand* const> extra) {
  CLI::App app("Decode, generate and inspect 64-bit Snowflake IDs",
               "snowflake");
  app.set_version_flag("--version", "snowflake " + std::string(kVersion));
  app.require_subcommand(1);
  Flags flags;
  const CLI::App* decode = AddDecode(app, flags);
  const CLI::App* gen = AddGen(app, flags);
  const CLI::App* layout = AddLayout(app, flags);
  const CLI::App* encode = AddEncode(app, flags);
  const CLI::App* parse = AddParse(app, flags);
  const CLI::App* audit = AddAudit(app, flags);
  std::vector<const CLI::App*> extra_apps;
  for (ExtraCommand* command : extra) extra_apps.push_back(command->Add(app));

  app.footer(std::string(kFooter));  // After the commands: not inherited.

  // CLI11 takes the arguments last first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      app.exit(e, io.out, io.err);  // --help, --help-all, --version.
      return kExitOk;
    }
    const std::vector<CLI::App*> commands = app.get_subcommands();
    if (commands.empty() && !args.empty() && !args.front().starts_with('-')) {
      io.err << "snowflake: unknown command \"" << base::OneLine(args.front())
             << "\" (see: snowflake --help)\n";
      return kExitUsage;
    }
    const std::string command =
        commands.empty() ? std::string() : commands.front()->get_name();
    io.err << "snowflake: " << (command.empty() ? "" : command + ": ")
           << base::OneLine(e.what()) << " (see: snowflake "
           << (command.empty() ? "" : command + " ") << "--help)\n";
    return kExitUsage;
  }
  if (decode->parsed()) return Decode(flags.decode, io);
  if (gen->parsed()) return Gen(flags.gen, clock, io);
  if (layout->parsed()) return ShowLayout(flags.layout, io);
  if (encode->parsed()) return Encode(flags.encode, io);
  if (parse->parsed()) return Parse(flags.parse, io);
  if (audit->parsed()) return Audit(flags.audit, clock, io);
  for (size_t i = 0; i < extra.size(); ++i) {
    if (extra_apps[i]->parsed()) return extra[i]->Run(clock, io);
  }
  io.err << "snowflake: no command given (see: snowflake --help)\n";
  return kExitUsage;
}

}  // namespace

int RunCli(std::span<const std::string> args, Clock& clock, Io& io,
           std::span<ExtraCommand* const> extra) {
  try {
    const int exit_code = Run(args, clock, io, extra);
    if (exit_code == kExitOk && !io.out.flush()) {
      io.err << "snowflake: cannot write the output\n";
      return kExitBadData;
    }
    return exit_code;
  } catch (const std::exception& e) {
    io.err << "snowflake: internal error: " << base::OneLine(e.what()) << '\n';
  } catch (...) {
    io.err << "snowflake: internal error\n";
  }
  return kExitBadData;
}

}  // namespace snowflake::cli
