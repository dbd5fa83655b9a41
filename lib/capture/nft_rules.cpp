#include "capture/nft_rules.hpp"

#include <memory>
#include <nftables/libnftables.h>

namespace hc::capture {

std::string capture_ruleset(std::uint16_t v4_port, std::uint16_t v6_port, std::string_view extra) {
  std::string text =
      "table inet hopchain {\n"
      "  chain capture_tcp {\n"
      "    type nat hook output priority -100; policy accept;\n";
  text +=
      "    ip daddr != 127.0.0.0/8 meta l4proto tcp redirect to :" + std::to_string(v4_port) + "\n";
  text += "    ip6 daddr != ::1 meta l4proto tcp redirect to :" + std::to_string(v6_port) + "\n";
  text += "  }\n}\n";
  text += extra;
  return text;
}

std::string explain_nft_error(std::string_view message) {
  std::string text(message);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  // The kernel answers EOPNOTSUPP/ENOENT for a missing nf_tables family, chain type or
  // expression; libnftables reports them with these words.
  const bool missing = text.find("Operation not supported") != std::string::npos ||
                       text.find("No such file or directory") != std::string::npos ||
                       text.find("Protocol not supported") != std::string::npos;
  if (missing) {
    text +=
        " (this kernel lacks nftables or its NAT/redirect support: load the modules with "
        "`modprobe nf_tables nft_chain_nat nft_redir` as root, or use a kernel built with "
        "CONFIG_NF_TABLES, CONFIG_NFT_NAT and CONFIG_NFT_REDIR)";
  }
  return text;
}

Result<void> apply_ruleset(const std::string& ruleset) {
  std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> context(nft_ctx_new(NFT_CTX_DEFAULT), nft_ctx_free);
  if (!context) {
    return failure("cannot start libnftables");
  }
  nft_ctx_buffer_output(context.get());
  nft_ctx_buffer_error(context.get());
  if (nft_run_cmd_from_buffer(context.get(), ruleset.c_str()) != 0) {
    const char* error = nft_ctx_get_error_buffer(context.get());
    return failure(explain_nft_error(error != nullptr ? error : "unknown error"));
  }
  return {};
}

}  // namespace hc::capture
