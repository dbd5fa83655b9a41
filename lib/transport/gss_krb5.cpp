#include "transport/gss_krb5.hpp"

#include "proto/gssapi_errors.hpp"

#if HC_HAVE_GSSAPI
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>
#include <string_view>
#include <vector>
#endif

namespace hc::transport {

#if !HC_HAVE_GSSAPI

bool gss_available() {
  return false;
}
Result<std::unique_ptr<proto::GssContext>, std::error_code> make_gss_client(const std::string&,
                                                                            const std::string&) {
  return failure(make_error_code(proto::GssStatus::unavailable));
}
Result<std::unique_ptr<proto::GssContext>, std::error_code> make_gss_server(const std::string&,
                                                                            const std::string&) {
  return failure(make_error_code(proto::GssStatus::unavailable));
}

#else

namespace {

using proto::GssStatus;
using Bytes = std::vector<std::uint8_t>;

/// The cause a user can act on: Kerberos minor codes first (they say "run kinit" or "check the
/// clocks"), then the GSS major routine error, then the supplementary bits gss_unwrap sets on
/// an otherwise complete call (a replayed or reordered message is an error here: the stream
/// is ordered and reliable, so either means an attacker or a bug).
std::error_code gss_error(OM_uint32 major, OM_uint32 minor) {
  switch (static_cast<krb5_error_code>(minor)) {
    case KRB5KRB_AP_ERR_SKEW:
      return make_error_code(GssStatus::clock_skew);
    case KRB5_FCC_NOFILE:
    case KRB5_CC_NOTFOUND:
      return make_error_code(GssStatus::no_credentials);
    case KRB5KRB_AP_ERR_TKT_EXPIRED:
      return make_error_code(GssStatus::credentials_expired);
    case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
      return make_error_code(GssStatus::bad_name);
    case KRB5KRB_AP_ERR_REPEAT:
      return make_error_code(GssStatus::duplicate_token);
    default:
      break;
  }
  switch (GSS_ROUTINE_ERROR(major)) {
    case GSS_S_DEFECTIVE_TOKEN:
      return make_error_code(GssStatus::defective_token);
    case GSS_S_BAD_MIC:
      return make_error_code(GssStatus::bad_integrity);
    case GSS_S_NO_CRED:
      return make_error_code(GssStatus::no_credentials);
    case GSS_S_CREDENTIALS_EXPIRED:
      return make_error_code(GssStatus::credentials_expired);
    case GSS_S_CONTEXT_EXPIRED:
      return make_error_code(GssStatus::context_expired);
    case GSS_S_BAD_NAME:
    case GSS_S_BAD_NAMETYPE:
      return make_error_code(GssStatus::bad_name);
    default:
      break;
  }
  if (major & GSS_S_DUPLICATE_TOKEN) {
    return make_error_code(GssStatus::duplicate_token);
  }
  if (major & GSS_S_OLD_TOKEN) {
    return make_error_code(GssStatus::old_token);
  }
  if (major & (GSS_S_UNSEQ_TOKEN | GSS_S_GAP_TOKEN)) {
    return make_error_code(GssStatus::out_of_sequence);
  }
  return major == GSS_S_COMPLETE ? std::error_code{} : make_error_code(GssStatus::failure);
}

gss_buffer_desc view(std::span<const std::uint8_t> bytes) {
  return {bytes.size(), const_cast<std::uint8_t*>(bytes.data())};
}

/// Copies and releases a buffer the library allocated.
Bytes take(gss_buffer_desc& buffer) {
  const auto* data = static_cast<const std::uint8_t*>(buffer.value);
  Bytes out(data, data + buffer.length);
  OM_uint32 minor = 0;
  gss_release_buffer(&minor, &buffer);
  return out;
}

std::string display(gss_name_t name) {
  OM_uint32 minor = 0;
  gss_buffer_desc text = GSS_C_EMPTY_BUFFER;
  if (GSS_ERROR(gss_display_name(&minor, name, &text, nullptr))) {
    return {};
  }
  const Bytes bytes = take(text);
  return {bytes.begin(), bytes.end()};
}

/// What both sides share: the context, wrap and unwrap.
class KrbContext : public proto::GssContext {
 public:
  ~KrbContext() override {
    OM_uint32 minor = 0;
    if (context_ != GSS_C_NO_CONTEXT) {
      gss_delete_sec_context(&minor, &context_, GSS_C_NO_BUFFER);
    }
  }

  Result<Bytes, std::error_code> wrap(std::span<const std::uint8_t> data,
                                      bool confidential) override {
    OM_uint32 minor = 0;
    gss_buffer_desc in = view(data);
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    const OM_uint32 major =
        gss_wrap(&minor, context_, confidential, GSS_C_QOP_DEFAULT, &in, nullptr, &out);
    if (GSS_ERROR(major)) {
      return failure(gss_error(major, minor));
    }
    return take(out);
  }

  Result<Unwrapped, std::error_code> unwrap(std::span<const std::uint8_t> token) override {
    OM_uint32 minor = 0;
    gss_buffer_desc in = view(token);
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    int confidential = 0;
    const OM_uint32 major = gss_unwrap(&minor, context_, &in, &out, &confidential, nullptr);
    if (major != GSS_S_COMPLETE) {
      if (!GSS_ERROR(major)) {
        gss_release_buffer(&minor, &out);
      }
      return failure(gss_error(major, minor));
    }
    return Unwrapped{take(out), confidential != 0};
  }

  std::size_t max_plaintext(std::size_t max_token, bool confidential) override {
    OM_uint32 minor = 0;
    OM_uint32 max_input = 0;
    const OM_uint32 major = gss_wrap_size_limit(&minor, context_, confidential, GSS_C_QOP_DEFAULT,
                                                static_cast<OM_uint32>(max_token), &max_input);
    return GSS_ERROR(major) ? 0 : max_input;
  }

  std::string peer_name() const override { return peer_; }

 protected:
  gss_ctx_id_t context_ = GSS_C_NO_CONTEXT;
  std::string peer_;
};

class KrbClient final : public KrbContext {
 public:
  explicit KrbClient(gss_name_t target) : target_(target) {}
  ~KrbClient() override {
    OM_uint32 minor = 0;
    gss_release_name(&minor, &target_);
  }

  Result<Progress, std::error_code> establish(std::span<const std::uint8_t> peer) override {
    OM_uint32 minor = 0;
    gss_buffer_desc in = view(peer);
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    // Mutual authentication: the server proves it holds the service key (RFC 1961 3.3).
    const OM_uint32 flags = GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG |
                            GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG;
    const OM_uint32 major = gss_init_sec_context(
        &minor, GSS_C_NO_CREDENTIAL, &context_, target_, const_cast<gss_OID>(gss_mech_krb5), flags,
        GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS, peer.empty() ? GSS_C_NO_BUFFER : &in, nullptr,
        &out, nullptr, nullptr);
    if (GSS_ERROR(major)) {
      return failure(gss_error(major, minor));
    }
    const bool complete = major == GSS_S_COMPLETE;
    if (complete) {
      peer_ = display(target_);
    }
    return Progress{take(out), complete};
  }

 private:
  gss_name_t target_;
};

class KrbServer final : public KrbContext {
 public:
  KrbServer(gss_cred_id_t credentials, std::string service)
      : credentials_(credentials), service_(std::move(service)) {}
  ~KrbServer() override {
    OM_uint32 minor = 0;
    gss_release_cred(&minor, &credentials_);
  }

  Result<Progress, std::error_code> establish(std::span<const std::uint8_t> peer) override {
    OM_uint32 minor = 0;
    gss_buffer_desc in = view(peer);
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    gss_name_t client = GSS_C_NO_NAME;
    const OM_uint32 major =
        gss_accept_sec_context(&minor, &context_, credentials_, &in, GSS_C_NO_CHANNEL_BINDINGS,
                               &client, nullptr, &out, nullptr, nullptr, nullptr);
    if (GSS_ERROR(major)) {
      return failure(gss_error(major, minor));
    }
    Bytes token = take(out);
    const bool complete = major == GSS_S_COMPLETE;
    if (complete) {
      peer_ = display(client);
      gss_release_name(&minor, &client);
      if (!ticket_was_for_service()) {
        return failure(make_error_code(GssStatus::bad_name));
      }
    }
    return Progress{std::move(token), complete};
  }

 private:
  /// Any key of the keytab accepts a ticket; only tickets for SERVICE/... are welcome.
  bool ticket_was_for_service() {
    OM_uint32 minor = 0;
    gss_name_t target = GSS_C_NO_NAME;
    if (GSS_ERROR(gss_inquire_context(&minor, context_, nullptr, &target, nullptr, nullptr, nullptr,
                                      nullptr, nullptr))) {
      return false;
    }
    const std::string name = display(target);
    gss_release_name(&minor, &target);
    return name.rfind(service_ + "/", 0) == 0;
  }

  gss_cred_id_t credentials_;
  std::string service_;
};

/// False when the default credentials cache is a file that holds no principal (missing, empty,
/// or truncated). GSS-API would say "no credentials" too, but libkrb5 1.20 crashes on the way
/// (in krb5_cccol_have_content) for an empty file, so such a cache is caught here first.
bool file_cache_usable() {
  krb5_context context = nullptr;
  if (krb5_init_context(&context) != 0) {
    return true;  // let GSS-API report it
  }
  bool usable = true;
  krb5_ccache cache = nullptr;
  if (krb5_cc_default(context, &cache) == 0) {
    const char* type = krb5_cc_get_type(context, cache);
    krb5_principal principal = nullptr;
    if (type != nullptr && std::string_view(type) == "FILE") {
      usable = krb5_cc_get_principal(context, cache, &principal) == 0;
      if (usable) {
        krb5_free_principal(context, principal);
      }
    }
    krb5_cc_close(context, cache);
  }
  krb5_free_context(context);
  return usable;
}

}  // namespace

bool gss_available() {
  return true;
}

Result<std::unique_ptr<proto::GssContext>, std::error_code> make_gss_client(
    const std::string& service, const std::string& host) {
  if (!file_cache_usable()) {
    return failure(make_error_code(GssStatus::no_credentials));
  }
  // A Kerberos principal name, not a host-based service: HOST is used as written.
  const std::string principal = service + "/" + host;
  gss_buffer_desc text{principal.size(), const_cast<char*>(principal.data())};
  OM_uint32 minor = 0;
  gss_name_t target = GSS_C_NO_NAME;
  const OM_uint32 major =
      gss_import_name(&minor, &text, const_cast<gss_OID>(GSS_KRB5_NT_PRINCIPAL_NAME), &target);
  if (GSS_ERROR(major)) {
    return failure(gss_error(major, minor));
  }
  return std::unique_ptr<proto::GssContext>(std::make_unique<KrbClient>(target));
}

Result<std::unique_ptr<proto::GssContext>, std::error_code> make_gss_server(
    const std::string& keytab, const std::string& service) {
  gss_key_value_element_desc element{"keytab", keytab.c_str()};
  gss_key_value_set_desc store{1, &element};
  OM_uint32 minor = 0;
  gss_cred_id_t credentials = GSS_C_NO_CREDENTIAL;
  const OM_uint32 major =
      gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_ACCEPT,
                            &store, &credentials, nullptr, nullptr);
  if (GSS_ERROR(major)) {
    return failure(gss_error(major, minor));
  }
  return std::unique_ptr<proto::GssContext>(std::make_unique<KrbServer>(credentials, service));
}

#endif

}  // namespace hc::transport
