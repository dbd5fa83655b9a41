#include "usage_errors.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <CLI/CLI.hpp>

namespace hc::cli {
namespace {

constexpr const char* kMoreHelp =
    "'hopchain --help' lists the commands, 'hopchain COMMAND --help' "
    "their options";

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<const CLI::App*> commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

std::string command_list(const CLI::App& app) {
  std::string names;
  for (const CLI::App* command : commands(app)) {
    names += (names.empty() ? "" : ", ") + command->get_name();
  }
  return names;
}

const CLI::App* parsed_command(const CLI::App& app) {
  for (const CLI::App* command : commands(app)) {
    if (command->parsed()) {
      return command;
    }
  }
  return nullptr;
}

/// No command, or a word where the command should be.
std::string missing_command(const CLI::App& app) {
  const std::vector<std::string> rest = app.remaining();
  const auto word = std::find_if(rest.begin(), rest.end(),
                                 [](const std::string& arg) { return arg.rfind('-', 0) != 0; });
  std::vector<std::string> names;
  for (const CLI::App* command : commands(app)) {
    names.push_back(command->get_name());
  }
  if (word == rest.end()) {
    return "hopchain: no command given\nhopchain: add one of " + command_list(app) +
           " after the chain options; " + kMoreHelp + "\n";
  }
  const std::string guess = closest_name(*word, names);
  return "hopchain: unknown command '" + *word + "'" +
         (guess.empty() ? std::string() : " (did you mean " + guess + "?)") +
         "\nhopchain: the commands are " + command_list(app) + "; " + kMoreHelp + "\n";
}

/// `stdio host:22`: one argument where two belong.
std::string joined_host_port(const CLI::App& stdio) {
  const CLI::Option* host = stdio.get_option("HOST");
  const std::string given = host->results().empty() ? std::string() : host->results().front();
  const std::size_t colon = given.rfind(':');
  const bool one_colon = colon != std::string::npos && given.find(':') == colon;
  const bool bracketed = !given.empty() && given.front() == '[' && colon != std::string::npos &&
                         colon > 0 && given[colon - 1] == ']';
  if (!one_colon && !bracketed) {
    return {};
  }
  std::string name = given.substr(0, colon);
  if (bracketed) {
    name = name.substr(1, name.size() - 2);
  }
  return "hopchain: stdio: HOST and PORT are two arguments, not '" + given +
         "'\nhopchain: write: hopchain [chain options] stdio " + name + " " +
         given.substr(colon + 1) + "\n";
}

/// `--workers 1 forward ...`: a command's option given before the command.
std::string misplaced_option(const CLI::App& app, const std::vector<std::string>& unexpected) {
  for (const std::string& arg : unexpected) {
    const std::string name = arg.substr(0, arg.find('='));
    for (const CLI::App* command : commands(app)) {
      for (const CLI::Option* option : command->get_options()) {
        if (name.rfind("--", 0) == 0 && option->check_lname(name.substr(2))) {
          return "hopchain: " + name + " is an option of '" + command->get_name() +
                 "', not of the chain\nhopchain: put it after the command: hopchain [chain "
                 "options] " +
                 command->get_name() + " " + name + " ...\n";
        }
      }
    }
  }
  return {};
}

}  // namespace

std::string closest_name(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 3;
  for (const std::string& candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance && d < word.size()) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

std::string list_chains(const std::string& chains_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(chains_dir, ec)) {
    if (entry.is_regular_file(ec) && entry.path().filename().string().front() != '.') {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::string list;
  for (const auto& name : names) {
    list += (list.empty() ? "" : ", ") + name;
  }
  return list;
}

std::string explain_usage_error(const CLI::App& app, const CLI::Error& error) {
  const std::string what = error.what();
  const CLI::App* command = parsed_command(app);
  // Not get_name(): CLI11 2.1 names some errors after the app.
  const bool required = dynamic_cast<const CLI::RequiredError*>(&error) != nullptr;
  if (required && command == nullptr) {
    return missing_command(app);
  }
  if (required && command->get_name() == "stdio") {
    if (std::string joined = joined_host_port(*command); !joined.empty()) {
      return joined;
    }
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    std::vector<std::string> unexpected = app.remaining(true);
    if (std::string misplaced = misplaced_option(app, unexpected); !misplaced.empty()) {
      return misplaced;
    }
  }
  const std::string help =
      command == nullptr ? std::string(kMoreHelp)
                         : "'hopchain " + command->get_name() + " --help' lists its arguments";
  return "hopchain: " + what + "\nhopchain: " + help + "\n";
}

}  // namespace hc::cli
