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

std::string udp_capture_rules(std::uint16_t port, std::uint32_t mark, std::string_view own_v4,
                              std::string_view own_v6) {
  // Two comparisons rather than an anonymous set: the same match, and a set costs libnftables
  // and the kernel more to build (every exec pays it).
  const std::string v4 =
      "meta l4proto udp ip daddr != 127.0.0.0/8 ip daddr != " + std::string(own_v4);
  const std::string v6 = "meta l4proto udp ip6 daddr != ::1 ip6 daddr != " + std::string(own_v6);
  const std::string set_mark = "meta mark set " + std::to_string(mark);
  const std::string to = std::to_string(port);
  return "table inet hopchain {\n"
         "  chain mark_udp {\n"
         "    type route hook output priority mangle; policy accept;\n"
         "    " +
         v4 + " " + set_mark +
         "\n"
         "    " +
         v6 + " " + set_mark +
         "\n"
         "  }\n"
         "  chain capture_udp {\n"
         "    type filter hook prerouting priority mangle; policy accept;\n"
         "    meta mark " +
         std::to_string(mark) + " meta l4proto udp tproxy to :" + to +
         " accept\n"
         "  }\n"
         "}\n";
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
        " (this kernel lacks nftables or its NAT/redirect/tproxy support: load the modules "
        "with `modprobe nf_tables nft_chain_nat nft_redir nft_tproxy` as root, or use a kernel "
        "built with CONFIG_NF_TABLES, CONFIG_NFT_NAT, CONFIG_NFT_REDIR and CONFIG_NFT_TPROXY; "
        "exec --no-udp needs no tproxy)";
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
